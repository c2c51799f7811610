package rules

import (
	"fmt"
	"strings"
)

var _ = register(&Rule{
	ID: "route-backend-missing", Theme: ThemeNetworking, NoFix: "the Service or port meant is not in the manifest",
	Severity:    Warning,
	Source:      SourceGo,
	CrossObject: true,
	Kinds:       []string{"HTTPRoute", "GRPCRoute"},
	Indexes:     []*IndexSpec{servicesIndex},
	Description: "A Gateway API HTTPRoute or GRPCRoute backendRef names a Service that is not among the objects checked, or a port that Service does not declare.",
	Rationale:   "The gateway answers 500 for the rule's requests (the route's ResolvedRefs condition turns false): usually the Service or its port was renamed and the route was not.",
	Remediation: "Point the backendRef at the Service's name and one of its port numbers. When the Service lives in files not checked in this run, run klint on the whole directory.",
	Check:       checkRouteBackendMissing,
})

func checkRouteBackendMissing(o *Object, run *Run, _ Params) []Report {
	if !strings.HasPrefix(o.APIVersion, "gateway.networking.k8s.io/") {
		return nil
	}
	spec, _ := o.Value["spec"].(map[string]any)
	rules, _ := spec["rules"].([]any)
	svcs := indexOf[services](run, servicesIndex)
	var reps []Report
	for i, r := range rules {
		rm, _ := r.(map[string]any)
		refs, _ := rm["backendRefs"].([]any)
		for j, ref := range refs {
			b, _ := ref.(map[string]any)
			group, _ := b["group"].(string)
			kind, _ := b["kind"].(string)
			name, _ := b["name"].(string)
			if group != "" || (kind != "" && kind != "Service") || name == "" {
				continue // another kind of backend
			}
			ns := o.Namespace
			if n, _ := b["namespace"].(string); n != "" {
				ns = n
			}
			at := fmt.Sprintf("spec.rules[%d].backendRefs[%d]", i, j)
			svc, found := svcs.get(ns, name)
			if !found {
				reps = append(reps, Report{Path: at + ".name", Message: fmt.Sprintf("%s %q routes to Service %q, which is not in this run", o.Kind, o.Name, name)})
				continue
			}
			if port, ok := b["port"].(int64); ok && !svc.hasPort(int32(port), "") {
				reps = append(reps, Report{Path: at + ".port", Message: fmt.Sprintf("%s %q routes to port %d of Service %q, which declares no such port", o.Kind, o.Name, port, name)})
			}
		}
	}
	return reps
}
