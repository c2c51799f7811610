package rules

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// podsIndex is the pods of every pod-bearing object of a world, by
// namespace, then by each label key=value: what Services select.
var podsIndex = &IndexSpec{Name: "pods", New: func() Index { return PodIndex{} }}

// PodIndex indexes pod-bearing objects' pods by namespace, then by each
// label key=value.
type PodIndex map[string]map[string][]*Pods

// Pods is what cross-object rules know of a pod-bearing object: its pods'
// labels and the ports its containers declare.
type Pods struct {
	Labels map[string]string
	Ports  []corev1.ContainerPort
}

// Add indexes a pod-bearing object's pods.
func (ix PodIndex) Add(o *Object) {
	if o.Workload == nil {
		return
	}
	p := &Pods{Labels: o.Workload.Labels}
	for _, c := range o.Workload.Spec.Containers {
		p.Ports = append(p.Ports, c.Ports...)
	}
	ix.add(o.Namespace, p)
}

func (ix PodIndex) add(ns string, p *Pods) {
	byLabel := ix[ns]
	if byLabel == nil {
		byLabel = map[string][]*Pods{}
		ix[ns] = byLabel
	}
	for k, v := range p.Labels {
		byLabel[k+"="+v] = append(byLabel[k+"="+v], p)
	}
}

// Merge adds a later file's pods.
func (ix PodIndex) Merge(later Index) {
	for ns, byLabel := range later.(PodIndex) {
		mine := ix[ns]
		if mine == nil {
			ix[ns] = byLabel
			continue
		}
		for kv, pods := range byLabel {
			mine[kv] = append(mine[kv], pods...)
		}
	}
}

// SelectPods returns the pods a Service in namespace ns with this selector
// would select. An empty namespace (left to kubectl) is taken to match
// any namespace, so a run never claims that a Service selects nothing just
// because one file set the namespace and the other did not.
func (ix PodIndex) SelectPods(ns string, selector map[string]string) []*Pods {
	var out []*Pods
	ix.selectPods(ns, selector, func(p *Pods) bool {
		out = append(out, p)
		return true
	})
	return out
}

// SelectsPods reports whether a Service in namespace ns with this
// selector would select any pod, without listing them.
func (ix PodIndex) SelectsPods(ns string, selector map[string]string) bool {
	found := false
	ix.selectPods(ns, selector, func(*Pods) bool {
		found = true
		return false
	})
	return found
}

// selectPods calls yield with each selected pod-bearing object's pods
// until it returns false.
func (ix PodIndex) selectPods(ns string, selector map[string]string, yield func(*Pods) bool) {
	if len(selector) == 0 {
		return
	}
	sel := labels.SelectorFromSet(selector)
	for podNS, byLabel := range ix {
		if !sameNamespace(ns, podNS) {
			continue
		}
		// Candidates come from the rarest key=value of the selector.
		var cands []*Pods
		first := true
		for k, v := range selector {
			c := byLabel[k+"="+v]
			if first || len(c) < len(cands) {
				cands, first = c, false
			}
		}
		for _, p := range cands {
			if sel.Matches(labels.Set(p.Labels)) && !yield(p) {
				return
			}
		}
	}
}

// SelectsPodsBy reports whether a label selector (with expressions) in
// namespace ns selects any pod of the index; an empty selector selects
// every pod of the namespace, as a PodDisruptionBudget's does.
func (ix PodIndex) SelectsPodsBy(ns string, selector *metav1.LabelSelector) bool {
	sel, err := metav1.LabelSelectorAsSelector(selector)
	if err != nil {
		return true // a schema finding; nothing to say here
	}
	return ix.selectsIn(sel, func(podNS string) bool { return sameNamespace(ns, podNS) })
}

// selectsIn reports whether sel selects a pod of a namespace inNS accepts.
func (ix PodIndex) selectsIn(sel labels.Selector, inNS func(string) bool) bool {
	for podNS, byLabel := range ix {
		if !inNS(podNS) {
			continue
		}
		if sel.Empty() && len(byLabel) > 0 {
			return true
		}
		for _, pods := range byLabel {
			for _, p := range pods {
				if sel.Matches(labels.Set(p.Labels)) {
					return true
				}
			}
		}
	}
	return false
}

// podKinds are the built-in kinds that run pods: the Kinds of the rules
// about pods that read the run, so that only these wait for its end.
var podKinds = []string{"Pod", "PodTemplate", "ReplicationController", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob"}
