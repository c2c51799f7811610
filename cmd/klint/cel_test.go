package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klint-dev/klint/pkg/admissionpolicy"
	"github.com/klint-dev/klint/pkg/inputs"
)

// A CELRule of a policy directory is a rule like any other: the CLI
// reports it at its fieldPath with its messageExpression's words, the
// webhook's engine (klint review) denies by it, and klint
// admission-policies writes it as a policy that the API server's own
// policy code judges alike. One that does not compile stops the run at
// its line, as does one that reads a field the matched kinds do not have.
func TestCELRules(t *testing.T) {
	const rules = "../../testdata/cel-rules/rules"
	objects := "../../testdata/cel-rules/objects.yaml"
	_, out, errOut := klint(t, "", "-o", "json", "--policy", rules, objects)
	var r struct {
		Findings []struct {
			Rule, Message, Severity string
			Line, Column            int
			Object                  struct{ Name string }
		}
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	var got []string
	for _, f := range r.Findings {
		if f.Rule == "team-label" || f.Rule == "replica-limit" {
			got = append(got, f.Severity+" "+f.Object.Name+" "+itoa(f.Line)+":"+itoa(f.Column)+" "+f.Message)
		}
	}
	want := []string{"warning owned 7:3 replicas must be at most 3", "error orphan 22:3 Deployment orphan names no team (label team)"}
	if !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}

	// A parameter set in config, as a built-in rule's; one the rule does
	// not have is an error naming it.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ten.yaml"), []byte("rules:\n  replica-limit:\n    params: {max: 10}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "typo.yaml"), []byte("rules:\n  replica-limit:\n    params: {mx: 10}\n"), 0o644)
	if code, out, errOut := klint(t, "", "--config", filepath.Join(dir, "ten.yaml"), "--policy", rules, objects); code != 1 || strings.Contains(out, "replica-limit") || !strings.Contains(out, "team-label") {
		t.Errorf("max 10: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := klint(t, "", "--config", filepath.Join(dir, "typo.yaml"), "--policy", rules, objects); code != 2 || !strings.Contains(errOut, "rules.replica-limit.params.mx") {
		t.Errorf("a parameter the rule does not have: exit %d, %s", code, errOut)
	}

	code, _, errOut := klint(t, "", "--policy", "../../testdata/cel-rules/broken", objects)
	if code != 2 || !strings.Contains(errOut, "testdata/cel-rules/broken/broken.yaml:9: CELRule: the expression does not compile") {
		t.Errorf("broken rule: exit %d, %s", code, errOut)
	}

	// Type-checked against the matched kinds' schemas at load, as the
	// API server type-checks a policy.
	code, _, errOut = klint(t, "", "--policy", "../../testdata/cel-rules/typo", objects)
	if code != 2 || !strings.Contains(errOut, "testdata/cel-rules/typo/typo.yaml:9: CELRule: the expression does not type-check") || !strings.Contains(errOut, "undefined field 'replica'") {
		t.Errorf("typo: exit %d, %s", code, errOut)
	}

	// The webhook's engine.
	var orphan map[string]any
	for _, o := range inputs.Read(inputs.Input{Path: objects}, nil, nil).Objects {
		if o.Value["metadata"].(map[string]any)["name"] == "orphan" {
			orphan = o.Value
		}
	}
	review, _ := json.Marshal(map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": map[string]any{
		"uid": "1", "kind": map[string]any{"group": "apps", "version": "v1", "kind": "Deployment"}, "resource": map[string]any{"group": "apps", "version": "v1", "resource": "deployments"},
		"namespace": "shop", "operation": "CREATE", "object": orphan}})
	file := filepath.Join(t.TempDir(), "review.json")
	os.WriteFile(file, review, 0o644)
	code, out, _ = klint(t, "", "review", "--policy", rules, file)
	if code != 1 || !strings.Contains(out, "[team-label] Deployment orphan names no team") {
		t.Errorf("review: exit %d\n%s", code, out)
	}

	// The policy it compiles to.
	code, out, errOut = klint(t, "", "admission-policies", "--policy", rules)
	if code != 0 || !strings.Contains(out, "name: klint-team-label") {
		t.Fatalf("admission-policies: exit %d, %s", code, errOut)
	}
	// The parameter is the policy's variable, with config's value.
	if !strings.Contains(out, "variables:\n  - expression: \"3\"\n    name: max\n") {
		t.Errorf("replica-limit's policy does not declare max 3:\n%s", out)
	}
	if _, ten, _ := klint(t, "", "admission-policies", "--policy", rules, "--config", filepath.Join(dir, "ten.yaml")); !strings.Contains(ten, "variables:\n  - expression: \"10\"\n    name: max\n") {
		t.Errorf("with max 10 in config:\n%s", ten)
	}
	set := admissionpolicy.New(inputs.Read(inputs.Input{Path: "p.yaml", Data: []byte(out)}, nil, nil).Objects, nil)
	for _, o := range inputs.Read(inputs.Input{Path: objects}, nil, nil).Objects {
		o.Value["metadata"].(map[string]any)["namespace"] = "shop"
		failed := false
		for _, v := range set.Judge(context.Background(), o.Value, nil) {
			failed = failed || v.Policy == "klint-team-label"
		}
		if name := o.Value["metadata"].(map[string]any)["name"]; failed != (name == "orphan") {
			t.Errorf("the compiled policy fails %v: %v", name, failed)
		}
		limited := false
		for _, v := range set.Judge(context.Background(), o.Value, nil) {
			limited = limited || v.Policy == "klint-replica-limit"
		}
		if name := o.Value["metadata"].(map[string]any)["name"]; limited != (name == "owned") {
			t.Errorf("the compiled replica-limit fails %v: %v", name, limited)
		}
	}
}
