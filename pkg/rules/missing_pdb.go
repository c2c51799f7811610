package rules

import (
	"fmt"

	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

var _ = register(&Rule{
	ID: "missing-pdb", Theme: ThemeDisruption, NoFix: "a budget is a new object, and how many pods may be down at once is the author's call",
	Severity:    Warning,
	Source:      SourceGo,
	CrossObject: true,
	Holds:       true,
	Kinds:       []string{"Deployment", "StatefulSet"},
	Indexes:     []*IndexSpec{pdbsIndex},
	Description: "A Deployment or StatefulSet with 2 or more replicas that no PodDisruptionBudget among the objects checked selects.",
	Rationale:   "Without a budget a node drain (an upgrade, autoscaling down) may evict every replica at once: running several replicas buys no availability during maintenance.",
	Remediation: "Add a PodDisruptionBudget selecting the pods, with maxUnavailable: 1 (or a minAvailable below the replicas). When it lives in files not checked in this run, run klint on the whole directory.",
	Check:       checkMissingPDB,
})

// pdbsIndex is the PodDisruptionBudgets' selectors of a world, by
// namespace.
var pdbsIndex = &IndexSpec{Name: "pdbs", New: func() Index { return pdbSelectors{} }, Kinds: []string{"PodDisruptionBudget"}}

type pdbSelectors map[string][]labels.Selector

func (ix pdbSelectors) Add(o *Object) {
	pdb, ok := o.Typed.(*policyv1.PodDisruptionBudget)
	if !ok || pdb.Spec.Selector == nil {
		return
	}
	if sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err == nil {
		ix[o.Namespace] = append(ix[o.Namespace], sel)
	}
}

func (ix pdbSelectors) Merge(later Index) { mergeLists(ix, later.(pdbSelectors)) }

func checkMissingPDB(o *Object, _ *Run, _ Params) []Report {
	replicas, _ := replicasOf(o)
	if replicas == nil || *replicas < 2 || o.Workload == nil {
		return nil
	}
	ns, pods := o.Namespace, labels.Set(o.Workload.Labels)
	return []Report{{Path: "spec.replicas", Message: fmt.Sprintf("%s %q runs %d replicas and no PodDisruptionBudget of this run selects its pods", o.Kind, o.Name, *replicas),
		Settle: func(_ *Finding, run *Run) bool {
			for pdbNS, sels := range indexOf[pdbSelectors](run, pdbsIndex) {
				if !sameNamespace(ns, pdbNS) {
					continue
				}
				for _, sel := range sels {
					if sel.Matches(pods) {
						return false
					}
				}
			}
			return true
		}}}
}
