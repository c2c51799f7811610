package rules

import (
	"fmt"
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

var _ = register(&Rule{
	ID: "statefulset-service", Theme: ThemeWorkloads, NoFix: "the Service is a new object whose ports are the author's",
	Severity:    Warning,
	Source:      SourceGo,
	CrossObject: true,
	Holds:       true,
	Kinds:       []string{"StatefulSet"},
	Indexes:     []*IndexSpec{headlessServicesIndex},
	Description: "A StatefulSet's serviceName names no headless Service (clusterIP: None) among the objects checked that selects its pods.",
	Rationale:   "The governing Service gives each pod its stable DNS name (name-0.service): without it, or with one that is not headless or selects other pods, peers cannot find each other by name.",
	Remediation: "Add a Service with clusterIP: None, the StatefulSet's serviceName as its name, and a selector matching the pod template's labels. When it lives in files not checked in this run, run klint on the whole directory.",
	Check:       checkStatefulSetService,
})

type serviceKey struct{ ns, name string }

// headlessServicesIndex is the run's headless Services and their
// selectors.
var headlessServicesIndex = &IndexSpec{Name: "headless services", New: func() Index { return headlessServices{} }, Kinds: []string{"Service"}}

type headlessServices map[serviceKey]map[string]string

func (ix headlessServices) Add(o *Object) {
	if svc, ok := o.Typed.(*corev1.Service); ok && svc.Spec.ClusterIP == corev1.ClusterIPNone {
		ix[serviceKey{o.Namespace, o.Name}] = svc.Spec.Selector
	}
}

func (ix headlessServices) Merge(later Index) { maps.Copy(ix, later.(headlessServices)) }

func checkStatefulSetService(o *Object, _ *Run, _ Params) []Report {
	sts, ok := o.Typed.(*appsv1.StatefulSet)
	if !ok || sts.Spec.ServiceName == "" || o.Workload == nil {
		return nil
	}
	ns, name, pods := o.Namespace, sts.Spec.ServiceName, labels.Set(o.Workload.Labels)
	return []Report{{Path: "spec.serviceName", Message: fmt.Sprintf("StatefulSet %q names Service %q", o.Name, name),
		Settle: func(f *Finding, run *Run) bool {
			for k, sel := range indexOf[headlessServices](run, headlessServicesIndex) {
				if k.name != name || !sameNamespace(k.ns, ns) {
					continue
				}
				if len(sel) == 0 || labels.SelectorFromSet(sel).Matches(pods) {
					return false
				}
				f.Message += fmt.Sprintf(", whose selector {%s} does not select its pods", formatLabels(sel))
				return true
			}
			f.Message += ", and no headless Service of that name is in this run"
			return true
		}}}
}
