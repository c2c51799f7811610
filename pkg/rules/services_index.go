package rules

import (
	"slices"

	"github.com/klint-dev/klint/pkg/workload"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// servicesIndex is the run's Services: their labels (what ServiceMonitors
// select) and ports (what Ingresses and routes name).
var servicesIndex = &IndexSpec{Name: "services", New: func() Index { return services{} }, Kinds: []string{"Service"}}

type serviceInfo struct {
	labels map[string]string
	// ports are the Service's ports; nil for an ExternalName Service,
	// whose ports are not checked.
	ports []corev1.ServicePort
	// external is true for an ExternalName Service.
	external bool
}

type services map[serviceKey]serviceInfo

func (ix services) Add(o *Object) {
	svc, ok := o.Typed.(*corev1.Service)
	if !ok {
		return
	}
	info := serviceInfo{labels: svc.Labels, external: svc.Spec.Type == corev1.ServiceTypeExternalName}
	for _, p := range svc.Spec.Ports {
		info.ports = append(info.ports, corev1.ServicePort{Name: p.Name, Port: p.Port})
	}
	ix[serviceKey{o.Namespace, o.Name}] = info
}

func (ix services) Merge(later Index) { mergeFirst(ix, later.(services)) }

// get finds a Service by namespace and name; a namespace left to kubectl
// on either side matches any.
func (ix services) get(ns, name string) (serviceInfo, bool) {
	if s, ok := ix[serviceKey{ns, name}]; ok {
		return s, true
	}
	for k, s := range ix {
		if k.name == name && sameNamespace(k.ns, ns) {
			return s, true
		}
	}
	return serviceInfo{}, false
}

// hasPort reports whether the Service declares a port of this number
// (when number > 0) or name; a Service without ports (ExternalName,
// headless without ports) is not judged.
func (s serviceInfo) hasPort(number int32, name string) bool {
	if s.external || len(s.ports) == 0 {
		return true
	}
	for _, p := range s.ports {
		if (number > 0 && p.Port == number) || (name != "" && p.Name == name) {
			return true
		}
	}
	return false
}

// selectsAny reports whether sel selects a Service in one of namespaces
// (nil: any namespace; "" in either matches any).
func (ix services) selectsAny(sel labels.Selector, namespaces []string) bool {
	for k, s := range ix {
		if nsIn(k.ns, namespaces) && sel.Matches(labels.Set(s.labels)) {
			return true
		}
	}
	return false
}

func nsIn(ns string, namespaces []string) bool {
	return namespaces == nil || slices.ContainsFunc(namespaces, func(n string) bool { return sameNamespace(n, ns) })
}

// labelSelectorAt reads a label selector from an object's source at
// m[key] (custom resources have no typed form); ok is false when it is
// absent or not a selector.
func labelSelectorAt(m map[string]any, key string) (labels.Selector, bool) {
	raw, present := m[key]
	if !present {
		return nil, false
	}
	ls, ok := workload.FromValue[metav1.LabelSelector](raw)
	if !ok {
		return nil, false
	}
	sel, err := metav1.LabelSelectorAsSelector(&ls)
	return sel, err == nil
}
