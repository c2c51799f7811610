package rules

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

var _ = register(&Rule{
	ID: "service-type", Theme: ThemeNetworking, NoFix: "the way the Service should be reached is the author's call",
	Severity:    Warning,
	Source:      SourceGo,
	Off:         true,
	Kinds:       []string{"Service"},
	Description: "A Service is of a type the forbidden parameter lists (default NodePort and LoadBalancer).",
	Rationale:   "NodePort opens a port on every node; LoadBalancer buys a public address. Platforms often route all traffic through an Ingress or Gateway instead.",
	Remediation: "Use a ClusterIP Service behind the cluster's Ingress or Gateway.",
	Params:      map[string]any{"forbidden": []any{"NodePort", "LoadBalancer"}},
	CEL: &CEL{Resources: []CELResources{{Group: "", Resources: []string{"services"}}},
		Expression:        "!has(object.spec.type) || !(object.spec.type in variables.forbidden)",
		MessageExpression: "'a Service may not be of type ' + object.spec.type + ' (klint service-type)'"},
	Check: checkServiceType,
})

func checkServiceType(o *Object, _ *Run, p Params) []Report {
	svc, ok := o.Typed.(*corev1.Service)
	if !ok || !slices.Contains(p.Strings("forbidden"), string(svc.Spec.Type)) {
		return nil
	}
	return []Report{{Path: "spec.type", Message: fmt.Sprintf("Service %q is of type %s", o.Name, svc.Spec.Type)}}
}
