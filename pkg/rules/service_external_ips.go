package rules

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

var _ = register(&Rule{
	ID: "service-external-ips", Theme: ThemeSecurity, NoFix: "whether the addresses are needed is the author's call",
	Severity:         Warning,
	SecuritySeverity: 6.0,
	Source:           SourceGo,
	Kinds:            []string{"Service"},
	Description:      "A Service sets externalIPs.",
	Rationale:        "Whoever can create a Service with externalIPs can intercept the cluster's traffic to those addresses (CVE-2020-8554); most clusters block the field with an admission policy.",
	Remediation:      "Use a LoadBalancer Service or an Ingress or Gateway instead.",
	CEL: &CEL{Resources: []CELResources{{Group: "", Resources: []string{"services"}}},
		Expression: "!has(object.spec.externalIPs) || size(object.spec.externalIPs) == 0",
		Message:    "a Service sets no externalIPs, which can intercept traffic cluster-wide (klint service-external-ips)"},
	Check: checkServiceExternalIPs,
})

func checkServiceExternalIPs(o *Object, _ *Run, _ Params) []Report {
	svc, ok := o.Typed.(*corev1.Service)
	if !ok || len(svc.Spec.ExternalIPs) == 0 {
		return nil
	}
	return []Report{{Path: "spec.externalIPs", Message: fmt.Sprintf("Service %q sets externalIPs (%s), which can intercept traffic to those addresses cluster-wide (CVE-2020-8554)", o.Name, strings.Join(svc.Spec.ExternalIPs, ", "))}}
}
