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

// nodePortUse is one Service port's nodePort: the object (by key), the
// field, and what a message about it names.
type nodePortUse struct {
	port int32
	key  objectKey
	path string
	ref  ObjectRef
	file string
	line int
}

// objectKey tells the objects of a run apart: the input they came from,
// and their place in it.
type objectKey struct{ unit, n int32 }

// nodePortsOf lists the nodePorts a Service sets, for the index.
func nodePortsOf(o *Object) []nodePortUse {
	var out []nodePortUse
	for _, np := range serviceNodePorts(o) {
		pos, _ := o.Pos(np.path)
		out = append(out, nodePortUse{port: np.port, key: o.key, path: np.path, ref: o.Ref(), file: o.File, line: pos.Line})
	}
	return out
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

// runOf builds the index of a world whose objects are all at hand (a
// render, or the one object of an admission request).
func runOf(objs []*Object) *Run {
	r := newRun()
	for _, o := range objs {
		if p := podsOf(o); p != nil {
			r.addPods(o.Namespace, p)
		}
		for _, np := range nodePortsOf(o) {
			r.nodePorts[np.port] = append(r.nodePorts[np.port], np)
		}
	}
	return r
}

// SelectPods returns the pods a Service in namespace ns with this selector
// would select. An empty namespace (left to kubectl) is taken to match
// any namespace, so a run never claims that a Service selects nothing just
// because one file set the namespace and the other did not.
func (r *Run) SelectPods(ns string, selector map[string]string) []*Pods {
	var out []*Pods
	r.selectPods(ns, selector, func(p *Pods) bool {
		out = append(out, p)
		return true
	})
	return out
}

// SelectsPods reports whether a Service in namespace ns with this
// selector would select any pod, without listing them.
func (r *Run) SelectsPods(ns string, selector map[string]string) bool {
	found := false
	r.selectPods(ns, selector, func(*Pods) bool {
		found = true
		return false
	})
	return found
}

// selectPods calls yield with each selected pod-bearing object's pods
// until it returns false.
func (r *Run) selectPods(ns string, selector map[string]string, yield func(*Pods) bool) {
	if len(selector) == 0 {
		return
	}
	sel := labels.SelectorFromSet(selector)
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
			if sel.Matches(labels.Set(p.Labels)) && !yield(p) {
				return
			}
		}
	}
}
