package rules

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

var _ = register(&Rule{
	ID: "service-selects-nothing", Theme: ThemeNetworking, NoFix: "the labels meant are not in the manifest",
	Severity:    Warning,
	Source:      SourceGo,
	CrossObject: true,
	Kinds:       []string{"Service"},
	Indexes:     []*IndexSpec{podsIndex},
	Description: "A Service's selector matches no Pod or pod template among the objects checked.",
	Rationale:   "A Service that selects nothing has no endpoints: every connection to it fails, often silently.",
	Remediation: "Make the selector a subset of the pod template labels of the workload it fronts. When the workload lives in files not checked in this run (a pre-commit hook sees only changed files), run klint on the whole directory.",
	Check:       checkServiceSelectsNothing,
})

func checkServiceSelectsNothing(o *Object, run *Run, _ Params) []Report {
	svc, ok := o.Typed.(*corev1.Service)
	if !ok || len(svc.Spec.Selector) == 0 || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	if indexOf[PodIndex](run, podsIndex).SelectsPods(o.Namespace, svc.Spec.Selector) {
		return nil
	}
	return []Report{{Path: "spec.selector", Message: fmt.Sprintf("Service %q selects no pods: no Pod or pod template in this run has the labels {%s}", o.Name, formatLabels(svc.Spec.Selector))}}
}
