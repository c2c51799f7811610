package rules

import (
	"k8s.io/apimachinery/pkg/labels"
)

// Run is the view of all objects of a run that cross-object rules get. Its
// indexes are built once, before the rules run, and only read afterwards.
type Run struct {
	objects []*Object
	// pods indexes every pod-bearing object by namespace, then by each
	// label key=value of its pods.
	pods map[string]map[string][]*Object
	// nodePorts lists every Service port that sets a nodePort.
	nodePorts map[int32][]nodePortUse
}

type nodePortUse struct {
	obj  *Object
	path string
}

// newRun builds the indexes.
func newRun(objs []*Object) *Run {
	r := &Run{objects: objs, pods: map[string]map[string][]*Object{}, nodePorts: map[int32][]nodePortUse{}}
	for _, o := range objs {
		if o.Workload != nil {
			byLabel := r.pods[o.Namespace]
			if byLabel == nil {
				byLabel = map[string][]*Object{}
				r.pods[o.Namespace] = byLabel
			}
			for k, v := range o.Workload.Labels {
				byLabel[k+"="+v] = append(byLabel[k+"="+v], o)
			}
		}
		for _, np := range serviceNodePorts(o) {
			r.nodePorts[np.port] = append(r.nodePorts[np.port], nodePortUse{o, np.path})
		}
	}
	return r
}

// SelectPods returns the pod-bearing objects whose pods a Service in
// namespace ns with this selector would select. An empty namespace
// (left to kubectl) is taken to match any namespace, so a run never
// claims that a Service selects nothing just because one file set the
// namespace and the other did not.
func (r *Run) SelectPods(ns string, selector map[string]string) []*Object {
	if len(selector) == 0 {
		return nil
	}
	sel := labels.SelectorFromSet(selector)
	var out []*Object
	for podNS, byLabel := range r.pods {
		if ns != "" && podNS != "" && podNS != ns {
			continue
		}
		// Candidates come from the rarest key=value of the selector.
		var cands []*Object
		first := true
		for k, v := range selector {
			c := byLabel[k+"="+v]
			if first || len(c) < len(cands) {
				cands, first = c, false
			}
		}
		for _, o := range cands {
			if sel.Matches(labels.Set(o.Workload.Labels)) {
				out = append(out, o)
			}
		}
	}
	return out
}
