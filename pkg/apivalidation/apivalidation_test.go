package apivalidation

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
)

func validate(t *testing.T, v *Validator, gvk schema.GroupVersionKind, obj string) []string {
	t.Helper()
	errs, _, ok := v.ValidateCreate(gvk, []byte(obj))
	if !ok {
		t.Fatalf("%s: not validated", gvk)
	}
	var out []string
	for _, e := range errs {
		out = append(out, e.Field+": "+e.ErrorBody())
	}
	return out
}

var (
	podGVK     = schema.GroupVersionKind{Version: "v1", Kind: "Pod"}
	serviceGVK = schema.GroupVersionKind{Version: "v1", Kind: "Service"}
	jobGVK     = schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "Job"}
)

// What the API server does before validation is done here too: without
// it, a valid Pod would fail for its service account fields, a valid
// Service for its cluster IPs, a privileged container for the
// capability, and a namespaced object for its namespace.
func TestWhatTheServerDoesBeforeValidation(t *testing.T) {
	v := New()
	for name, c := range map[string]struct {
		gvk schema.GroupVersionKind
		obj string
	}{
		"pod without service account or namespace": {podGVK, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx:1.27"}]}}`},
		"privileged container":                     {podGVK, `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx:1.27","securityContext":{"privileged":true}}]}}`},
		"service without cluster IP":               {serviceGVK, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"selector":{"app":"a"},"ports":[{"port":80}]}}`},
		"node port service without node ports":     {serviceGVK, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"type":"NodePort","selector":{"app":"a"},"ports":[{"name":"a","port":80},{"name":"b","port":81}]}}`},
		"headless service":                         {serviceGVK, `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"clusterIP":"None","selector":{"app":"a"},"ports":[{"port":80}]}}`},
		"job with generateName":                    {jobGVK, `{"apiVersion":"batch/v1","kind":"Job","metadata":{"generateName":"migrate-"},"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"migrate:1.0"}]}}}}`},
	} {
		if errs := validate(t, v, c.gvk, c.obj); len(errs) > 0 {
			t.Errorf("%s: %v", name, errs)
		}
	}
}

// The server's errors come back as field errors at their paths; a
// generated name's fault is its generateName's, said once.
func TestErrorsAreTheServers(t *testing.T) {
	v := New()
	got := validate(t, v, jobGVK, `{"apiVersion":"batch/v1","kind":"Job","metadata":{"generateName":"Migrate_"},"spec":{"template":{"spec":{"restartPolicy":"Always","containers":[{"name":"c","image":"m:1"}]}}}}`)
	want := []string{"metadata.generateName: Invalid value", "spec.template.spec.restartPolicy: Required value"}
	if len(got) != len(want) {
		t.Fatalf("errors %v, want %v", got, want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("error %d = %q, want %q…", i, got[i], want[i])
		}
	}
}

// Kinds without a strategy here, and data that does not decode, are not
// judged (the strict decoding before it says why).
func TestNotJudged(t *testing.T) {
	v := New()
	if _, _, ok := v.ValidateCreate(schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"}, []byte(`{}`)); ok {
		t.Error("a custom resource was judged")
	}
	if _, _, ok := v.ValidateCreate(podGVK, []byte(`{"apiVersion":"v1","kind":"Pod","spec":{"containers":"nope"}}`)); ok {
		t.Error("undecodable data was judged")
	}
}

// Kinds whose strategies take what the server wires into them (an
// authorizer, a resolver, a namespace client) are validated too, CEL
// expressions compiled.
func TestStrategiesWithWiring(t *testing.T) {
	v := New()
	vap := schema.GroupVersionKind{Group: "admissionregistration.k8s.io", Version: "v1", Kind: "ValidatingAdmissionPolicy"}
	binding := schema.GroupVersionKind{Group: "admissionregistration.k8s.io", Version: "v1", Kind: "ValidatingAdmissionPolicyBinding"}
	template := schema.GroupVersionKind{Group: "resource.k8s.io", Version: "v1", Kind: "ResourceClaimTemplate"}
	policy := func(expr string) string {
		return `{"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicy","metadata":{"name":"p"},"spec":{"matchConstraints":{"resourceRules":[{"apiGroups":["apps"],"apiVersions":["v1"],"operations":["CREATE"],"resources":["deployments"]}]},"validations":[{"expression":"` + expr + `"}]}}`
	}
	claim := func(name string) string {
		return `{"apiVersion":"resource.k8s.io/v1","kind":"ResourceClaimTemplate","metadata":{"name":"t"},"spec":{"spec":{"devices":{"requests":[{"name":"` + name + `","exactly":{"deviceClassName":"gpu.example.com"}}]}}}}`
	}
	for _, c := range []struct {
		gvk       schema.GroupVersionKind
		obj, want string
	}{
		{vap, policy("object.spec.replicas <= 5"), ""},
		{vap, policy("object.spec.replicas <="), "spec.validations[0].expression: Invalid value"},
		{binding, `{"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicyBinding","metadata":{"name":"b"},"spec":{"policyName":"p","validationActions":["Deny"]}}`, ""},
		{template, claim("gpu"), ""},
		{template, claim("Not_Valid"), "spec.spec.devices.requests[0].name: Invalid value"},
	} {
		errs := validate(t, v, c.gvk, c.obj)
		switch {
		case c.want == "" && len(errs) > 0:
			t.Errorf("%s: %v", c.gvk.Kind, errs)
		case c.want != "" && (len(errs) != 1 || !strings.HasPrefix(errs[0], c.want)):
			t.Errorf("%s: %v, want %q", c.gvk.Kind, errs, c.want)
		}
	}
}

// The feature gates follow the target version: an environment variable
// name starting with a digit is valid since RelaxedEnvironmentVariableValidation
// (beta, on by default, in 1.32), invalid before.
func TestFeatureGatesAtTheTargetVersion(t *testing.T) {
	v := New()
	pod := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx:1.27","env":[{"name":"1VAR","value":"x"}]}]}}`
	defer v.EmulateVersion(1, 37)
	for _, c := range []struct {
		minor int
		want  string
	}{{30, "spec.containers[0].env[0].name: Invalid value"}, {31, "spec.containers[0].env[0].name: Invalid value"}, {32, ""}, {37, ""}} {
		if err := v.EmulateVersion(1, c.minor); err != nil {
			t.Fatalf("1.%d: %v", c.minor, err)
		}
		got := strings.Join(validate(t, v, podGVK, pod), "; ")
		if c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("1.%d: %q, want %q", c.minor, got, c.want)
		}
	}
}

// notCreated are kinds of the API server's scheme that no one creates
// from a manifest: subresources, options, discovery and watch types.
var notCreated = map[string]bool{"APIGroup": true, "APIVersions": true, "APIResourceList": true, "APIGroupList": true,
	"Binding": true, "ComponentStatus": true, "DeploymentRollback": true, "Eviction": true, "RangeAllocation": true,
	"Scale": true, "SerializedReference": true, "Status": true, "WatchEvent": true}

// Every kind the API server's scheme knows, but those no manifest
// creates, has its strategy here.
func TestEveryKindHasAStrategy(t *testing.T) {
	New()
	for gvk := range legacyscheme.Scheme.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal || strings.HasSuffix(gvk.Kind, "List") || strings.HasSuffix(gvk.Kind, "Options") || notCreated[gvk.Kind] {
			continue
		}
		if _, ok := strategies[gvk.GroupKind()]; !ok {
			t.Errorf("%s: no strategy", gvk)
		}
	}
}
