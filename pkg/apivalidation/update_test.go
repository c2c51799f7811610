package apivalidation

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// An apply over what the server created is judged by the strategy's update
// path: what the server allocated or generated and neither manifest sets
// (a Service's cluster IP, a Job's selector) is kept, an immutable field
// that the new manifest changes is an error at that field.
func TestValidateUpdate(t *testing.T) {
	v := New()
	deployment := func(app string) string {
		return `{apiVersion: apps/v1, kind: Deployment, metadata: {name: web},
  spec: {selector: {matchLabels: {app: ` + app + `}}, template: {metadata: {labels: {app: ` + app + `}},
    spec: {containers: [{name: web, image: nginx:1.27}]}}}}`
	}
	job := func(image string) string {
		return `{apiVersion: batch/v1, kind: Job, metadata: {name: migrate},
  spec: {template: {spec: {restartPolicy: Never, containers: [{name: m, image: "` + image + `"}]}}}}`
	}
	for name, c := range map[string]struct {
		gvk      schema.GroupVersionKind
		old, new string
		want     []string // "field: detail" prefixes, in order
	}{
		"deployment selector changed": {schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, deployment("web"), deployment("shop"),
			[]string{"spec.selector: Invalid value: ", "field is immutable"}},
		"deployment image changed": {schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, deployment("web"),
			strings.Replace(deployment("web"), "nginx:1.27", "nginx:1.28", 1), nil},
		"job unchanged but for a label: the generated selector is kept": {jobGVK, job("m:1"),
			strings.Replace(job("m:1"), "{name: migrate}", "{name: migrate, labels: {a: b}}", 1), nil},
		"job template changed": {jobGVK, job("m:1"), job("m:2"), []string{"spec.template: Invalid value: ", "field is immutable"}},
		"service to ExternalName, cluster IP allocated": {serviceGVK,
			`{apiVersion: v1, kind: Service, metadata: {name: db}, spec: {ports: [{port: 5432}]}}`,
			`{apiVersion: v1, kind: Service, metadata: {name: db}, spec: {type: ExternalName, externalName: db.example.com}}`, nil},
		"immutable configmap edited": {schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"},
			`{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, immutable: true, data: {a: "1"}}`,
			`{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, immutable: true, data: {a: "2"}}`,
			[]string{"data: Forbidden: field is immutable when `immutable` is set"}},
	} {
		t.Run(name, func(t *testing.T) {
			oldJSON, _ := yaml.YAMLToJSON([]byte(c.old))
			newJSON, _ := yaml.YAMLToJSON([]byte(c.new))
			errs, _, ok := v.ValidateUpdate(c.gvk, newJSON, c.gvk, oldJSON)
			if !ok {
				t.Fatal("not validated")
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Field+": "+e.ErrorBody())
			}
			if len(c.want) == 0 {
				if len(got) > 0 {
					t.Fatalf("errors %q, want none", got)
				}
				return
			}
			if len(got) == 0 || !strings.HasPrefix(got[0], c.want[0]) || len(c.want) > 1 && !strings.Contains(got[0], c.want[1]) {
				t.Fatalf("errors %q, want first %q", got, c.want)
			}
		})
	}
}
