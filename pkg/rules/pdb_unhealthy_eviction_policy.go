package rules

import (
	"fmt"

	policyv1 "k8s.io/api/policy/v1"
)

var _ = register(&Rule{
	ID: "pdb-unhealthy-eviction-policy", Theme: ThemeDisruption, NoFix: "AlwaysAllow changes when a drain may evict; the author decides",
	Severity:    Warning,
	Source:      SourceGo,
	Off:         true,
	Kinds:       []string{"PodDisruptionBudget"},
	Description: "A PodDisruptionBudget does not set unhealthyPodEvictionPolicy: AlwaysAllow.",
	Rationale:   "With the default policy a pod that never becomes ready counts against the budget and blocks node drains; AlwaysAllow lets a drain evict pods that are not serving anyway.",
	Remediation: "Set spec.unhealthyPodEvictionPolicy: AlwaysAllow.",
	Check:       checkPDBUnhealthyEvictionPolicy,
})

func checkPDBUnhealthyEvictionPolicy(o *Object, _ *Run, _ Params) []Report {
	pdb, ok := o.Typed.(*policyv1.PodDisruptionBudget)
	if !ok || (pdb.Spec.UnhealthyPodEvictionPolicy != nil && *pdb.Spec.UnhealthyPodEvictionPolicy == policyv1.AlwaysAllow) {
		return nil
	}
	return []Report{{Path: "spec", Message: fmt.Sprintf("PodDisruptionBudget %q does not set unhealthyPodEvictionPolicy: AlwaysAllow", o.Name)}}
}
