package config

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klint-dev/klint/pkg/admission"
	"github.com/klint-dev/klint/pkg/engine"
)

func TestParse(t *testing.T) {
	repo := t.TempDir()
	if err := os.Mkdir(filepath.Join(repo, "policies"), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := Parse(filepath.Join(repo, ".klint.yaml"), []byte(`
kubeVersion: "1.30"
policies: [policies]
baseline: base.yaml
rules:
  schema: {severity: warning}
admission:
  denyAt: warning
  actions: {image-latest-tag: warn}
  mutate: [workload-selector-mismatch]
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.KubeVersion != "1.30" || c.Policies[0] != filepath.Join(repo, "policies") || c.Baseline != filepath.Join(repo, "base.yaml") || c.Rules["schema"].Severity != "warning" {
		t.Errorf("engine section: %+v", c.Config)
	}
	if c.Admission.DenyAt != "warning" || c.Admission.Actions["image-latest-tag"] != "warn" || c.Admission.Mutate[0] != "workload-selector-mismatch" {
		t.Errorf("admission section: %+v", c.Admission)
	}
}

func TestErrorsNameFileAndLine(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"rulez: {}", `config k.yaml:1: unknown key "rulez"`},
		{"kubeVersion: \"1.30\"\nfailOn: eror", `config k.yaml:2: failOn: severity "eror"`},
		{"rules:\n  schema: 3", `config k.yaml:1: rules has the wrong type`},
		{"failon: error", `config k.yaml:1: unknown key "failon"`},
		{"failOn: error\nfailOn: info", `config k.yaml:2: key "failOn" already set in map`},
		{"rules:\n  schema: {\n", `config k.yaml:2: did not find expected node content`},
		{"exemptions:\n  - kind: Pod", "config k.yaml:1: exemptions[0] has no reason"},
		{"rules:\n  image-latest-tag: {}\n  schema:\n    severity: fatal", `config k.yaml:3: rules.schema: severity "fatal"`},
		{"admission:\n  dryRun: true\n  denyAt: eror", `config k.yaml:3: admission.denyAt: severity "eror"`},
		// The rule's key under admission.actions, not a rule of the
		// same name under rules.
		{"rules:\n  schema: {}\nadmission:\n  actions:\n    schema: block", `config k.yaml:5: admission.actions.schema: "block" is not one of deny, warn, off`},
		{"admission:\n  denyat: error", `config k.yaml:2: unknown key "admission.denyat"`},
		// A path that does not exist is said at its key, by its config name.
		{"kubeVersion: \"1.30\"\ncrds:\n  - ./vendor/crds", "config k.yaml:2: crds: ./vendor/crds does not exist (relative paths are relative to the config file's directory)"},
	} {
		_, err := Parse("k.yaml", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want it to contain %q", c.yaml, err, c.want)
		}
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("err = %v", err)
	}
	f := filepath.Join(t.TempDir(), ".klint.yaml")
	if err := os.WriteFile(f, []byte("failOn: info\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c, err := Load(f); err != nil || c.FailOn != "info" {
		t.Errorf("Load = %+v, %v", c, err)
	}
}

// A rule the engine does not know, named in the admission section, is an
// error for the webhook's reviewer (and for the CLI, which checks it).
func TestAdmissionRulesAreChecked(t *testing.T) {
	e, err := engine.New(context.Background(), engine.Options{SingleObject: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ yaml, want string }{
		{"admission: {actions: {image-latest-tagg: deny}}", "admission.actions.image-latest-tagg: no such rule"},
		{"admission: {mutate: [no-such-fix]}", `admission.mutate: no such rule "no-such-fix"`},
	} {
		f, err := Parse("k.yaml", []byte(c.yaml))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admission.NewReviewer(e, f.Admission); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: NewReviewer err = %v, want %q", c.yaml, err, c.want)
		}
	}
}
