package rules

import (
	"fmt"
	"strconv"

	networkingv1 "k8s.io/api/networking/v1"
)

var _ = register(&Rule{
	ID: "ingress-backend-missing", Theme: ThemeNetworking, NoFix: "the Service or port meant is not in the manifest",
	Severity:    Warning,
	Source:      SourceGo,
	CrossObject: true,
	Kinds:       []string{"Ingress"},
	Indexes:     []*IndexSpec{servicesIndex},
	Description: "An Ingress backend names a Service that is not among the objects checked, or a port that Service does not declare.",
	Rationale:   "The controller answers 503 for the path: usually the Service or its port was renamed and the Ingress was not.",
	Remediation: "Point the backend at the Service's name and one of its ports (by number or name). When the Service lives in files not checked in this run, run klint on the whole directory.",
	Check:       checkIngressBackendMissing,
})

func checkIngressBackendMissing(o *Object, run *Run, _ Params) []Report {
	ing, ok := o.Typed.(*networkingv1.Ingress)
	if !ok {
		return nil
	}
	svcs := indexOf[services](run, servicesIndex)
	var reps []Report
	check := func(b *networkingv1.IngressBackend, path string) {
		if b == nil || b.Service == nil || b.Service.Name == "" {
			return // a resource backend, or a schema finding
		}
		s := b.Service
		svc, found := svcs.get(o.Namespace, s.Name)
		switch {
		case !found:
			reps = append(reps, Report{Path: path + ".service.name", Message: fmt.Sprintf("Ingress %q routes to Service %q, which is not in this run", o.Name, s.Name)})
		case !svc.hasPort(s.Port.Number, s.Port.Name):
			port, field := s.Port.Name, "name"
			if s.Port.Number > 0 {
				port, field = strconv.Itoa(int(s.Port.Number)), "number"
			}
			reps = append(reps, Report{Path: path + ".service.port." + field, Message: fmt.Sprintf("Ingress %q routes to port %s of Service %q, which declares no such port", o.Name, port, s.Name)})
		}
	}
	check(ing.Spec.DefaultBackend, "spec.defaultBackend")
	for i, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for j := range r.HTTP.Paths {
			check(&r.HTTP.Paths[j].Backend, fmt.Sprintf("spec.rules[%d].http.paths[%d].backend", i, j))
		}
	}
	return reps
}
