package rules

import (
	"fmt"

	policyv1 "k8s.io/api/policy/v1"
)

var _ = register(&Rule{
	ID: "pdb-selects-nothing", Theme: ThemeDisruption, NoFix: "the labels meant are not in the manifest",
	Severity:    Warning,
	Source:      SourceGo,
	CrossObject: true,
	Kinds:       []string{"PodDisruptionBudget"},
	Indexes:     []*IndexSpec{podsIndex},
	Description: "A PodDisruptionBudget's selector matches no Pod or pod template among the objects checked.",
	Rationale:   "A budget that selects nothing protects nothing: the workload it was written for can be drained to zero.",
	Remediation: "Make the selector match the pod template labels of the workload it protects. When the workload lives in files not checked in this run (a pre-commit hook sees only changed files), run klint on the whole directory.",
	Check:       checkPDBSelectsNothing,
})

func checkPDBSelectsNothing(o *Object, run *Run, _ Params) []Report {
	pdb, ok := o.Typed.(*policyv1.PodDisruptionBudget)
	if !ok || pdb.Spec.Selector == nil {
		return nil
	}
	if indexOf[PodIndex](run, podsIndex).SelectsPodsBy(o.Namespace, pdb.Spec.Selector) {
		return nil
	}
	return []Report{{Path: "spec.selector", Message: fmt.Sprintf("PodDisruptionBudget %q selects no pods of this run", o.Name)}}
}
