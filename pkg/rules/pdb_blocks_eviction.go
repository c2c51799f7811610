package rules

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var _ = register(&Rule{
	ID: "pdb-blocks-eviction", Theme: ThemeDisruption, NoFix: "how many pods may be down at once is the author's call",
	Severity:    Warning,
	Source:      SourceGo,
	CrossObject: true,
	Kinds:       []string{"PodDisruptionBudget"},
	Indexes:     []*IndexSpec{replicasIndex, hpaTargetsIndex},
	Description: "A PodDisruptionBudget that can never allow a disruption: maxUnavailable 0, minAvailable 100 %, or minAvailable at least the replicas of a Deployment or StatefulSet of the run it selects (for one a HorizontalPodAutoscaler of the run scales, its minReplicas: the autoscaler may scale down that far).",
	Rationale:   "Such a budget blocks every node drain: cluster upgrades and autoscaling stall on its node until someone deletes it.",
	Remediation: "Allow at least one disruption: maxUnavailable: 1, or a minAvailable below the replicas.",
	Check:       checkPDBBlocksEviction,
})

// replicasIndex lists the Deployments and StatefulSets of a world with
// their pods' labels and replicas.
var replicasIndex = &IndexSpec{Name: "replicas", New: func() Index { return replicaSets{} }, Kinds: []string{"Deployment", "StatefulSet"}}

type scaled struct {
	kind, name string
	labels     map[string]string
	replicas   int32
}

type replicaSets map[string][]scaled // by namespace

// replicasOf is a Deployment's or StatefulSet's spec.replicas (nil when
// unset), and whether o is one.
func replicasOf(o *Object) (*int32, bool) {
	switch w := o.Typed.(type) {
	case *appsv1.Deployment:
		return w.Spec.Replicas, true
	case *appsv1.StatefulSet:
		return w.Spec.Replicas, true
	}
	return nil, false
}

func (ix replicaSets) Add(o *Object) {
	r, ok := replicasOf(o)
	if !ok {
		return
	}
	n := int32(1)
	if r != nil {
		n = *r
	}
	if o.Workload != nil {
		ix[o.Namespace] = append(ix[o.Namespace], scaled{o.Kind, o.Name, o.Workload.Labels, n})
	}
}

func (ix replicaSets) Merge(later Index) { mergeLists(ix, later.(replicaSets)) }

func checkPDBBlocksEviction(o *Object, run *Run, _ Params) []Report {
	pdb, ok := o.Typed.(*policyv1.PodDisruptionBudget)
	if !ok {
		return nil
	}
	if mu := pdb.Spec.MaxUnavailable; mu != nil {
		if (mu.Type == intstr.Int && mu.IntVal == 0) || (mu.Type == intstr.String && mu.StrVal == "0%") {
			return []Report{{Path: "spec.maxUnavailable", Message: fmt.Sprintf("PodDisruptionBudget %q allows no pod to be unavailable: no node it runs on can be drained", o.Name)}}
		}
		return nil
	}
	ma := pdb.Spec.MinAvailable
	if ma == nil {
		return nil
	}
	if ma.Type == intstr.String && ma.StrVal == "100%" {
		return []Report{{Path: "spec.minAvailable", Message: fmt.Sprintf("PodDisruptionBudget %q requires 100%% of its pods available: no node it runs on can be drained", o.Name)}}
	}
	if ma.Type != intstr.Int || pdb.Spec.Selector == nil {
		return nil
	}
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil {
		return nil
	}
	// The budget counts the pods of every workload it selects; one an
	// autoscaler scales may run as few as its minReplicas.
	var total int32
	var selected []scaled
	var by string
	for ns, ws := range indexOf[replicaSets](run, replicasIndex) {
		if !sameNamespace(o.Namespace, ns) {
			continue
		}
		for _, w := range ws {
			if sel.Matches(labels.Set(w.labels)) {
				if hpa, ok := hpaTargetOf(run, ns, w.kind, w.name); ok {
					w.replicas, by = hpa.minReplicas, hpa.hpa
				}
				total += w.replicas
				selected = append(selected, w)
			}
		}
	}
	if len(selected) == 1 && ma.IntVal >= total {
		w := selected[0]
		if by != "" {
			return []Report{{Path: "spec.minAvailable", Message: fmt.Sprintf("PodDisruptionBudget %q requires %d pods available and %s %q may run %d (the minReplicas of %s): no node it runs on can be drained then", o.Name, ma.IntVal, w.kind, w.name, w.replicas, by)}}
		}
		return []Report{{Path: "spec.minAvailable", Message: fmt.Sprintf("PodDisruptionBudget %q requires %d pods available and %s %q runs %d: no node it runs on can be drained", o.Name, ma.IntVal, w.kind, w.name, w.replicas)}}
	}
	if len(selected) > 1 && ma.IntVal >= total {
		return []Report{{Path: "spec.minAvailable", Message: fmt.Sprintf("PodDisruptionBudget %q requires %d pods available and the %d workloads it selects run %d: no node they run on can be drained", o.Name, ma.IntVal, len(selected), total)}}
	}
	return nil
}
