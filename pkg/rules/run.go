package rules

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Run is the view of a world's objects that rules reading it get (one
// render, or all the plain files of a run). It holds a compact index, not
// the objects: the pods' labels and ports, and the Services' nodePorts.
// It is built before the rules that read it run, and only read afterwards.
type Run struct {
	// pods indexes the pods of every pod-bearing object by namespace,
	// then by each label key=value.
	pods map[string]map[string][]*Pods
	// nodePorts lists every Service port that sets a nodePort, in input
	// order.
	nodePorts map[int32][]nodePortUse
}

// Pods is what cross-object rules know of a pod-bearing object: its pods'
// labels and the ports its containers declare.
type Pods struct {
	Labels map[string]string
	Ports  []corev1.ContainerPort
}

type nodePortUse struct {
	obj  *Object
	path string
}

func newRun() *Run {
	return &Run{pods: map[string]map[string][]*Pods{}, nodePorts: map[int32][]nodePortUse{}}
}

// podsOf is the index entry of a pod-bearing object, or nil.
func podsOf(o *Object) *Pods {
	if o.Workload == nil {
		return nil
	}
	p := &Pods{Labels: o.Workload.Labels}
	for _, c := range o.Workload.Spec.Containers {
		p.Ports = append(p.Ports, c.Ports...)
	}
	return p
}

// addPods indexes one pod-bearing object's pods in namespace ns.
func (r *Run) addPods(ns string, p *Pods) {
	byLabel := r.pods[ns]
	if byLabel == nil {
		byLabel = map[string][]*Pods{}
		r.pods[ns] = byLabel
	}
	for k, v := range p.Labels {
		byLabel[k+"="+v] = append(byLabel[k+"="+v], p)
	}
}

// addNodePorts indexes the nodePorts a Service sets.
func (r *Run) addNodePorts(o *Object) {
	for _, np := range serviceNodePorts(o) {
		r.nodePorts[np.port] = append(r.nodePorts[np.port], nodePortUse{o, np.path})
	}
}

// runOf builds the index of a world whose objects are all at hand (a
// render, or the one object of an admission request).
func runOf(objs []*Object) *Run {
	r := newRun()
	for _, o := range objs {
		if p := podsOf(o); p != nil {
			r.addPods(o.Namespace, p)
		}
		r.addNodePorts(o)
	}
	return r
}

// SelectPods returns the pods a Service in namespace ns with this selector
// would select. An empty namespace (left to kubectl) is taken to match
// any namespace, so a run never claims that a Service selects nothing just
// because one file set the namespace and the other did not.
func (r *Run) SelectPods(ns string, selector map[string]string) []*Pods {
	if len(selector) == 0 {
		return nil
	}
	sel := labels.SelectorFromSet(selector)
	var out []*Pods
	for podNS, byLabel := range r.pods {
		if ns != "" && podNS != "" && podNS != ns {
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
			if sel.Matches(labels.Set(p.Labels)) {
				out = append(out, p)
			}
		}
	}
	return out
}
