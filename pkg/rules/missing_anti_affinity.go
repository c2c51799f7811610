package rules

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

const hostnameKey = "kubernetes.io/hostname"

var _ = register(&Rule{
	ID: "missing-anti-affinity", Theme: ThemeWorkloads, NoFix: "whether to require or prefer spreading, and over what, is the author's call",
	Severity:    Info,
	Source:      SourceGo,
	Kinds:       []string{"Deployment", "StatefulSet"},
	Description: "A Deployment or StatefulSet with 2 or more replicas has neither a pod anti-affinity over kubernetes.io/hostname that selects its own pods nor a topologySpreadConstraint over kubernetes.io/hostname.",
	Rationale:   "Without one the scheduler may put every replica on one node: a single node failure or drain then takes the whole service down, and the replicas buy no availability.",
	Remediation: "Add a preferredDuringSchedulingIgnoredDuringExecution podAntiAffinity term with topologyKey kubernetes.io/hostname and a labelSelector matching the pod template's labels, or a topologySpreadConstraint with topologyKey kubernetes.io/hostname.",
	Check:       checkMissingAntiAffinity,
})

func checkMissingAntiAffinity(o *Object, _ *Run, _ Params) []Report {
	replicas, _ := replicasOf(o)
	w := o.Workload
	if replicas == nil || *replicas < 2 || w == nil {
		return nil
	}
	for _, c := range w.Spec.TopologySpreadConstraints {
		if c.TopologyKey == hostnameKey {
			return nil
		}
	}
	if a := w.Spec.Affinity; a != nil && a.PodAntiAffinity != nil {
		terms := a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution
		for _, wt := range a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution {
			terms = append(terms, wt.PodAffinityTerm)
		}
		for _, t := range terms {
			if t.TopologyKey == hostnameKey && selectsOwnPods(t, w.Labels) {
				return nil
			}
		}
	}
	return []Report{{Path: w.SpecPath + ".affinity", Message: fmt.Sprintf("%s %q runs %d replicas with no anti-affinity or spread over %s: they may all land on one node", o.Kind, o.Name, *replicas, hostnameKey)}}
}

// selectsOwnPods reports whether an affinity term's label selector
// matches the pods' own labels.
func selectsOwnPods(t corev1.PodAffinityTerm, own map[string]string) bool {
	if t.LabelSelector == nil {
		return false // selects no pods
	}
	sel, err := metav1.LabelSelectorAsSelector(t.LabelSelector)
	return err == nil && !sel.Empty() && sel.Matches(labels.Set(own))
}
