package rules

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
)

var _ = register(&Rule{
	ID: "ingress-missing-tls", Theme: ThemeNetworking, NoFix: "the certificate's Secret and hosts are the author's",
	Severity:    Warning,
	Source:      SourceGo,
	Off:         true,
	Kinds:       []string{"Ingress"},
	Description: "An Ingress has no tls section.",
	Rationale:   "Without TLS the Ingress serves plain HTTP: credentials and cookies cross the network readable.",
	Remediation: "Add spec.tls with the hosts and the Secret holding their certificate (cert-manager can issue it).",
	Check:       checkIngressMissingTLS,
})

func checkIngressMissingTLS(o *Object, _ *Run, _ Params) []Report {
	ing, ok := o.Typed.(*networkingv1.Ingress)
	if !ok || len(ing.Spec.TLS) > 0 {
		return nil
	}
	return []Report{{Path: "spec", Message: fmt.Sprintf("Ingress %q has no tls", o.Name)}}
}
