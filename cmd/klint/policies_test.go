package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// policyFindings are the admission-policy findings of a JSON report, as
// "severity file:line", with their messages.
func policyFindings(t *testing.T, out string) (keys, messages []string) {
	t.Helper()
	var r struct {
		Findings []struct {
			Rule, Severity, File, Message string
			Line                          int
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, f := range r.Findings {
		if f.Rule == "admission-policy" {
			keys = append(keys, fmt.Sprintf("%s %s:%d", f.Severity, filepath.Base(f.File), f.Line))
			messages = append(messages, f.Message)
		}
	}
	return keys, messages
}

// A cluster's ValidatingAdmissionPolicies judge the objects of the run,
// whether they are among the inputs or given with --admission-policies:
// a Deny binding is an error, Warn a warning, Audit an info, at the
// object, naming the policy and the binding and where they are; a
// namespaceSelector, a matchCondition, params and a failurePolicy are
// honoured as the API server honours them.
func TestAdmissionPolicies(t *testing.T) {
	want := []string{"error objects.yaml:10", "warning objects.yaml:35", "info objects.yaml:77"}
	for name, args := range map[string][]string{
		"in the run":         {"../../testdata/admission-policies"},
		"admission-policies": {"--admission-policies", "../../testdata/admission-policies/policies.yaml", "../../testdata/admission-policies/objects.yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			_, out, errOut := klint(t, "", append([]string{"-o", "json"}, args...)...)
			keys, msgs := policyFindings(t, out)
			if !slices.Equal(keys, want) {
				t.Fatalf("findings %q, want %q\n%s", keys, want, errOut)
			}
			if !strings.Contains(msgs[0], "replicas must be at most 3 in production") || !strings.Contains(msgs[0], "binding replica-limit-prod at ../../testdata/admission-policies/policies.yaml:50") {
				t.Errorf("message %q", msgs[0])
			}
		})
	}
}

// With --base, a policy that reads oldObject judges the change as the
// update it is, after the mutating policies of updates; without, as a
// create, which the policy does not match.
func TestAdmissionPolicyOnUpdate(t *testing.T) {
	dir := t.TempDir()
	policy := `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: gradual-scale-down
spec:
  matchConstraints:
    resourceRules:
      - {apiGroups: [apps], apiVersions: [v1], operations: [UPDATE], resources: [deployments]}
  validations:
    - expression: "object.spec.replicas * 2 >= oldObject.spec.replicas"
      message: scale down by at most half at a time
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: gradual-scale-down
spec:
  policyName: gradual-scale-down
  validationActions: [Deny]
`
	deploy := func(replicas int) string {
		return fmt.Sprintf("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: %d\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - {name: web, image: nginx:1.27}\n", replicas)
	}
	os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(policy), 0o644)
	os.WriteFile(filepath.Join(dir, "web.yaml"), []byte(deploy(8)), 0o644)
	commitAll(t, dir)
	os.WriteFile(filepath.Join(dir, "web.yaml"), []byte(deploy(2)), 0o644)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--base", "HEAD"}, []string{"error web.yaml:6"}},
		{nil, nil},
	} {
		_, out, _ := klint(t, "", append(append([]string{"-o", "json"}, c.args...), dir)...)
		if keys, _ := policyFindings(t, out); !slices.Equal(keys, c.want) {
			t.Errorf("%v: findings %q, want %q", c.args, keys, c.want)
		}
	}
	// A mutating policy of UPDATEs runs first, with oldObject: it halves
	// the replicas at most, and the change passes.
	os.WriteFile(filepath.Join(dir, "mutate.yaml"), []byte(`apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicy
metadata:
  name: halve-at-most
spec:
  matchConstraints:
    resourceRules:
      - {apiGroups: [apps], apiVersions: [v1], operations: [UPDATE], resources: [deployments]}
  matchConditions:
    - name: too-fast
      expression: "object.spec.replicas * 2 < oldObject.spec.replicas"
  reinvocationPolicy: Never
  mutations:
    - patchType: JSONPatch
      jsonPatch:
        expression: "[JSONPatch{op: 'replace', path: '/spec/replicas', value: oldObject.spec.replicas / 2}]"
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingAdmissionPolicyBinding
metadata:
  name: halve-at-most
spec:
  policyName: halve-at-most
`), 0o644)
	_, out, _ := klint(t, "", "-o", "json", "--base", "HEAD", dir)
	if keys, _ := policyFindings(t, out); len(keys) != 0 {
		t.Errorf("with the mutating policy: findings %q", keys)
	}
}

// Mutating policies change what the validating ones judge, as on the API
// server (make e2e holds the fixture's verdicts to a real one's): an
// apply configuration merged into containers by name (the sidecar is
// left as it was, so non-root denies it), a label from a params object of
// the request's namespace (none in apm-db, so owner-required denies), a
// mutation that fails under failurePolicy Fail with no validating policy
// of the kind, params found by selector, an objectSelector and
// namespaceObject. The same policies in admissionregistration.k8s.io/
// v1beta1 judge alike.
func TestMutatingAdmissionPolicies(t *testing.T) {
	const dir = "../../testdata/admission-policies-mutating"
	want := []string{"error objects.yaml:31", "error objects.yaml:40", "error objects.yaml:79", "error objects.yaml:112",
		"info objects.yaml:130", "warning objects.yaml:130", "warning objects.yaml:159"}
	data, err := os.ReadFile(filepath.Join(dir, "policies.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	beta := filepath.Join(t.TempDir(), "policies.yaml")
	os.WriteFile(beta, []byte(strings.ReplaceAll(string(data), "admissionregistration.k8s.io/v1\n", "admissionregistration.k8s.io/v1beta1\n")), 0o644)
	for name, args := range map[string][]string{
		"v1":      {dir},
		"v1beta1": {"--admission-policies", beta, filepath.Join(dir, "objects.yaml")},
	} {
		t.Run(name, func(t *testing.T) {
			_, out, errOut := klint(t, "", append([]string{"-o", "json"}, args...)...)
			keys, msgs := policyFindings(t, out)
			if !slices.Equal(keys, want) {
				t.Fatalf("findings %q, want %q\n%s", keys, want, errOut)
			}
			if !strings.HasSuffix(strings.Split(msgs[0], " (policy")[0], "denied request: containers must run as non-root: sidecar") {
				t.Errorf("pair: %q", msgs[0])
			}
			if !strings.HasPrefix(msgs[2], "policy 'payload-size' with binding 'payload-size' denied request: ") || !strings.Contains(msgs[2], "no such key: payload") ||
				!strings.Contains(msgs[2], "policies.yaml:171, binding payload-size at ") {
				t.Errorf("no-payload: %q", msgs[2])
			}
		})
	}
}
