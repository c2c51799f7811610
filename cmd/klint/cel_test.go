package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klint-dev/klint/pkg/admissionpolicy"
	"github.com/klint-dev/klint/pkg/manifest"
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
		if f.Rule == "team-label" {
			got = append(got, f.Severity+" "+f.Object.Name+" "+itoa(f.Line)+":"+itoa(f.Column)+" "+f.Message)
		}
	}
	if want := "error orphan 21:3 Deployment orphan names no team (label team)"; len(got) != 1 || got[0] != want {
		t.Errorf("findings %q, want %q", got, want)
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
	for _, o := range manifest.Read(manifest.Input{Path: objects}, nil, nil).Objects {
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
	set := admissionpolicy.New(manifest.Read(manifest.Input{Path: "p.yaml", Data: []byte(out)}, nil, nil).Objects)
	for _, o := range manifest.Read(manifest.Input{Path: objects}, nil, nil).Objects {
		o.Value["metadata"].(map[string]any)["namespace"] = "shop"
		failed := false
		for _, v := range set.Judge(context.Background(), o.Value, nil) {
			failed = failed || v.Policy == "klint-team-label"
		}
		if name := o.Value["metadata"].(map[string]any)["name"]; failed != (name == "orphan") {
			t.Errorf("the compiled policy fails %v: %v", name, failed)
		}
	}
}
