package rules

import (
	"fmt"
	"slices"
	"strings"
)

var _ = register(&Rule{
	ID: "servicemonitor-selects-nothing", Theme: ThemeNetworking, NoFix: "the labels meant are not in the manifest",
	Severity:    Warning,
	Source:      SourceGo,
	CrossObject: true,
	Kinds:       []string{"ServiceMonitor", "PodMonitor"},
	Indexes:     []*IndexSpec{servicesIndex, podsIndex},
	Description: "A Prometheus Operator ServiceMonitor (PodMonitor) whose selector matches no Service (pod) among the objects checked, in the namespaces its namespaceSelector names (its own when unset; any with any: true). Namespaces named in matchNames count only when the run holds Services (pods) in them: those are often the cluster's own (kube-system).",
	Rationale:   "Prometheus then scrapes nothing for it and no alert fires about it: the metrics silently stop, usually because the Service's labels changed.",
	Remediation: "Make spec.selector match the labels of the Service (PodMonitor: of the pod template), and spec.namespaceSelector name its namespace. When they live in files not checked in this run, run klint on the whole directory.",
	Check:       checkServiceMonitorSelectsNothing,
})

func checkServiceMonitorSelectsNothing(o *Object, run *Run, _ Params) []Report {
	if !strings.HasPrefix(o.APIVersion, "monitoring.coreos.com/") {
		return nil
	}
	spec, _ := o.Value["spec"].(map[string]any)
	sel, ok := labelSelectorAt(spec, "selector")
	if !ok {
		return nil // absent, or a schema finding
	}
	namespaces := []string{o.Namespace}
	if nss, _ := spec["namespaceSelector"].(map[string]any); nss != nil {
		if all, _ := nss["any"].(bool); all {
			namespaces = nil
		} else if names, _ := nss["matchNames"].([]any); len(names) > 0 {
			namespaces = namespaces[:0]
			for _, n := range names {
				if s, ok := n.(string); ok {
					namespaces = append(namespaces, s)
				}
			}
		}
	}
	if len(namespaces) > 0 && (len(namespaces) > 1 || namespaces[0] != o.Namespace) {
		// Namespaces named outright are often the cluster's own
		// (kube-system's kubelet and CoreDNS): judge only those the run
		// holds objects of that kind in.
		namespaces = slices.DeleteFunc(namespaces, func(ns string) bool { return !holds(run, o.Kind, ns) })
		if len(namespaces) == 0 {
			return nil
		}
	}
	what := "Service"
	if o.Kind == "PodMonitor" {
		what = "pod"
		if indexOf[PodIndex](run, podsIndex).selectsIn(sel, func(ns string) bool { return nsIn(ns, namespaces) }) {
			return nil
		}
	} else if indexOf[services](run, servicesIndex).selectsAny(sel, namespaces) {
		return nil
	}
	where := "its namespace"
	if namespaces == nil {
		where = "any namespace"
	} else if len(namespaces) > 1 || (len(namespaces) == 1 && namespaces[0] != o.Namespace) {
		where = "namespaces " + strings.Join(namespaces, ", ")
	}
	return []Report{{Path: "spec.selector", Message: fmt.Sprintf("%s %q selects no %s of this run in %s", o.Kind, o.Name, what, where)}}
}

// holds reports whether the run has Services (for a ServiceMonitor) or
// pods (for a PodMonitor) in exactly namespace ns.
func holds(run *Run, kind, ns string) bool {
	if kind == "PodMonitor" {
		return len(indexOf[PodIndex](run, podsIndex)[ns]) > 0
	}
	for k := range indexOf[services](run, servicesIndex) {
		if k.ns == ns {
			return true
		}
	}
	return false
}
