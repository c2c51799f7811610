package rules

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

var _ = register(&Rule{
	ID: "nodeport-range", Theme: ThemeNetworking, NoFix: "the port is the author's to choose within the range (or to leave to the API server)",
	Severity:    Error,
	Source:      SourceGo,
	Description: "A nodePort outside the cluster's NodePort range, a nodePort on a Service that is not NodePort or LoadBalancer, or the same nodePort used by two Services.",
	Rationale:   "The API server rejects a nodePort outside --service-node-port-range (default 30000-32767) or one already allocated; a nodePort on a ClusterIP Service is rejected too.",
	Remediation: "Pick a free port inside the range, or leave nodePort out and let the cluster allocate one. Set the range of your cluster with the min and max parameters. Duplicates are found among the objects of one run only (never in admission, which sees one object).",
	Params:      map[string]any{"min": 30000, "max": 32767},
	Kinds:       []string{"Service"},
	ReadsRun:    true,
	Indexes:     []*IndexSpec{nodePortsIndex},
	Check:       checkNodePortRange,
})

// nodePortsIndex lists every Service port of a world that sets a
// nodePort, by port, in input order: the first use is the one a later
// Service conflicts with.
var nodePortsIndex = &IndexSpec{Name: "nodePorts", New: func() Index { return nodePorts{} }, Kinds: []string{"Service"}}

type nodePorts map[int32][]nodePortUse

// nodePortUse is one Service port's nodePort: the object (by key), the
// field, and what a message about it names.
type nodePortUse struct {
	port int32
	key  ObjectKey
	path string
	ref  ObjectRef
	file string
	line int
}

func (ix nodePorts) Add(o *Object) {
	for _, np := range serviceNodePorts(o) {
		pos, _ := o.Pos(np.path)
		ix[np.port] = append(ix[np.port], nodePortUse{port: np.port, key: o.Key, path: np.path, ref: o.Ref(), file: o.File, line: pos.Line})
	}
}

func (ix nodePorts) Merge(later Index) { mergeLists(ix, later.(nodePorts)) }

type servicePort struct {
	port int32
	path string
}

// serviceNodePorts lists the nodePorts a Service sets, with their paths.
func serviceNodePorts(o *Object) []servicePort {
	svc, ok := o.Typed.(*corev1.Service)
	if !ok {
		return nil
	}
	var out []servicePort
	for i, p := range svc.Spec.Ports {
		if p.NodePort != 0 {
			out = append(out, servicePort{p.NodePort, "spec.ports[" + strconv.Itoa(i) + "].nodePort"})
		}
	}
	return out
}

func checkNodePortRange(o *Object, run *Run, p Params) []Report {
	svc, ok := o.Typed.(*corev1.Service)
	if !ok {
		return nil
	}
	lo, hi := p.Int("min"), p.Int("max")
	var reps []Report
	for _, np := range serviceNodePorts(o) {
		switch {
		case svc.Spec.Type != corev1.ServiceTypeNodePort && svc.Spec.Type != corev1.ServiceTypeLoadBalancer:
			t := string(svc.Spec.Type)
			if t == "" {
				t = "ClusterIP"
			}
			reps = append(reps, Report{Path: np.path, Message: fmt.Sprintf("nodePort %d is set on a Service of type %s; only NodePort and LoadBalancer Services may set it", np.port, t)})
		case int(np.port) < lo || int(np.port) > hi:
			reps = append(reps, Report{Path: np.path, Message: fmt.Sprintf("nodePort %d is outside the NodePort range %d-%d", np.port, lo, hi)})
		}
		if uses := indexOf[nodePorts](run, nodePortsIndex)[np.port]; len(uses) > 0 && (uses[0].key != o.Key || uses[0].path != np.path) {
			first := uses[0]
			reps = append(reps, Report{Path: np.path, Message: fmt.Sprintf("nodePort %d is already used by %s (%s:%d); a nodePort can be allocated only once per cluster", np.port, first.ref, first.file, first.line)})
		}
	}
	return reps
}
