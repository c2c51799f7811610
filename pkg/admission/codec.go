package admission

import (
	"encoding/json"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/types"
)

// The AdmissionReview as it comes and goes: decoded from a request body,
// encoded around a response.

// decodeReview reads an admission.k8s.io/v1 AdmissionReview that carries a
// request. On error the review holds whatever could be read, so that the
// answer can still echo the request's uid.
func decodeReview(data []byte) (*admissionv1.AdmissionReview, error) {
	var rv admissionv1.AdmissionReview
	if err := json.Unmarshal(data, &rv); err != nil {
		return &rv, fmt.Errorf("not an admission.k8s.io/v1 AdmissionReview: %w", err)
	}
	if rv.Request == nil {
		return &rv, fmt.Errorf("not an admission.k8s.io/v1 AdmissionReview: it has no request")
	}
	if rv.APIVersion != admissionv1.SchemeGroupVersion.String() || rv.Kind != "AdmissionReview" {
		return &rv, fmt.Errorf("apiVersion %q kind %q: want admission.k8s.io/v1 AdmissionReview", rv.APIVersion, rv.Kind)
	}
	return &rv, nil
}

// reviewOf wraps a response in the AdmissionReview the API server expects.
func reviewOf(resp *admissionv1.AdmissionResponse) *admissionv1.AdmissionReview {
	out := &admissionv1.AdmissionReview{Response: resp}
	out.APIVersion, out.Kind = admissionv1.SchemeGroupVersion.String(), "AdmissionReview"
	return out
}

// Errored is the response to a request that could not be judged.
func Errored(uid types.UID, code int32, err error) *admissionv1.AdmissionResponse {
	return errorDecision(uid, code, err).Response()
}

// uidOf reads the uid of a review that may be only partly decoded.
func uidOf(rv *admissionv1.AdmissionReview) types.UID {
	if rv.Request == nil {
		return ""
	}
	return rv.Request.UID
}

// writeReview answers with resp in an AdmissionReview, with HTTP status code.
func writeReview(w http.ResponseWriter, code int, resp *admissionv1.AdmissionResponse) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(reviewOf(resp))
}
