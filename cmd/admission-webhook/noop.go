package main

import (
	"context"

	"github.com/klint-dev/klint/pkg/admission"
	admissionv1 "k8s.io/api/admission/v1"
)

// allowAll answers every request "allowed" without judging it: behind the
// same TLS server, HTTP layer and metrics, it is the baseline the engine's
// cost per request is measured against (--benchmark-noop).
var allowAll = admission.DeciderFunc(func(_ context.Context, req *admissionv1.AdmissionRequest) admission.Decision {
	return admission.Decision{Outcome: admission.Allowed, UID: req.UID}
})
