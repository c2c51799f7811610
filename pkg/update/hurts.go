package update

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/rules"
	k8sschema "k8s.io/apimachinery/pkg/runtime/schema"
)

func gvkOf(o *manifest.Object) k8sschema.GroupVersionKind {
	return k8sschema.FromAPIVersionAndKind(o.APIVersion, o.Kind)
}

// backend is a Service port an Ingress of the run sends traffic to.
type backend struct {
	namespace, service string
	port               string // a number or a name
	at                 place
}

type changedService struct {
	key
	gone []string // ports by number and by name
	at   place
}

type changedCRD struct {
	group string
	gone  []string
	at    place
}

func backendsOf(o *manifest.Object, k key, at func(string) place) []backend {
	var out []backend
	add := func(path string, b any) {
		svc, _ := b.(map[string]any)["service"].(map[string]any)
		name, _ := svc["name"].(string)
		port, _ := svc["port"].(map[string]any)
		var p string
		switch {
		case port["number"] != nil:
			p = fmt.Sprint(port["number"])
		case port["name"] != nil:
			p, _ = port["name"].(string)
		}
		if name != "" && p != "" {
			out = append(out, backend{namespace: k.namespace, service: name, port: p, at: at(path + ".service.port")})
		}
	}
	spec, _ := o.Value["spec"].(map[string]any)
	if d, ok := spec["defaultBackend"].(map[string]any); ok {
		add("spec.defaultBackend", d)
	}
	rs, _ := spec["rules"].([]any)
	for i, r := range rs {
		http, _ := r.(map[string]any)["http"].(map[string]any)
		ps, _ := http["paths"].([]any)
		for j, p := range ps {
			if b, ok := p.(map[string]any)["backend"].(map[string]any); ok {
				add(fmt.Sprintf("spec.rules[%d].http.paths[%d].backend", i, j), b)
			}
		}
	}
	return out
}

// servicePorts are a Service's ports, by number and by name.
func servicePorts(v map[string]any) map[string]bool {
	spec, _ := v["spec"].(map[string]any)
	ps, _ := spec["ports"].([]any)
	out := map[string]bool{}
	for _, p := range ps {
		m, _ := p.(map[string]any)
		if m["port"] != nil {
			out[fmt.Sprint(m["port"])] = true
		}
		if n, _ := m["name"].(string); n != "" {
			out[n] = true
		}
	}
	return out
}

func removedPorts(was, now map[string]any) []string {
	before, after := servicePorts(was), servicePorts(now)
	var gone []string
	for p := range before {
		if !after[p] {
			gone = append(gone, p)
		}
	}
	slices.Sort(gone)
	return gone
}

func crdVersions(v map[string]any) []string {
	spec, _ := v["spec"].(map[string]any)
	vs, _ := spec["versions"].([]any)
	var out []string
	for _, x := range vs {
		if n, _ := x.(map[string]any)["name"].(string); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func removedVersions(was, now map[string]any) []string {
	after := crdVersions(now)
	var gone []string
	for _, v := range crdVersions(was) {
		if !slices.Contains(after, v) {
			gone = append(gone, v)
		}
	}
	return gone
}

func group(v map[string]any) string {
	spec, _ := v["spec"].(map[string]any)
	g, _ := spec["group"].(string)
	return g
}

// portsInUse are the changed Services whose removed ports an Ingress of
// the run still sends traffic to.
func (b *Base) portsInUse() []Finding {
	var out []Finding
	for _, s := range b.services {
		for _, be := range b.ingresses {
			if be.namespace != s.namespace || be.service != s.name || !slices.Contains(s.gone, be.port) {
				continue
			}
			port := be.port
			if _, err := strconv.Atoi(port); err != nil {
				port = strconv.Quote(port)
			}
			f := s.at.finding(RuleServicePortGone, "spec.ports", fmt.Sprintf("Service %s no longer has port %s, which it had at %s, and %s still sends traffic to it: once applied, that route answers 503 until the Ingress is changed too.", s.name, port, b.ref, be.at.ref))
			f.Related = []rules.RelatedLocation{{File: be.at.file, Line: be.at.line, Column: be.at.column, Message: be.at.ref.String() + " uses the port here"}}
			out = append(out, f)
		}
	}
	return out
}

// versionsInUse are the CRD versions removed since the base that objects
// of the run still use.
func (b *Base) versionsInUse() []Finding {
	var out []Finding
	for _, c := range b.crds {
		for _, v := range c.gone {
			user, ok := b.apiVersions[c.group+"/"+v]
			if !ok {
				continue
			}
			f := c.at.finding(RuleCRDVersionRemoved, "spec.versions", fmt.Sprintf("version %s of %s was served at %s and is removed, but %s still uses %s/%s: the API server stops serving it, so applying that object fails, and a controller or client that reads it breaks. Keep the version (served: false once nothing uses it) until every object and client has moved.", v, c.group, b.ref, user.ref, c.group, v))
			f.Related = []rules.RelatedLocation{{File: user.file, Line: user.line, Column: user.column, Message: user.ref.String() + " uses " + c.group + "/" + v}}
			out = append(out, f)
		}
	}
	return out
}
