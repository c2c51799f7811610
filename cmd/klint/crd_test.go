package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// crdFixtures are the custom-resource fixtures and their CRD.
var crdFixtures = filepath.Join(testdata, "crd")

// A CRD among the inputs validates its custom resources wherever they
// are in the run: here the CRD is read after them, in a later argument.
func TestCRDInTheRun(t *testing.T) {
	code, out, stderr := klint(t, "", "--fail-on", "error", "--disable", "missing-liveness-probe,missing-readiness-probe",
		filepath.Join(crdFixtures, "invalid", "unknown-field.yaml"), filepath.Join(crdFixtures, "invalid", "cel-rule.yaml"),
		filepath.Join(crdFixtures, "valid"), filepath.Join(crdFixtures, "crds"))
	if code != 1 {
		t.Fatalf("exit %d\n%s%s", code, out, stderr)
	}
	for _, want := range []string{
		filepath.Join(crdFixtures, "invalid", "unknown-field.yaml") + `:7:3: error schema: unknown field "spec.replica": the CustomResourceDefinition widgets.example.klint.dev (` + filepath.Join(crdFixtures, "crds", "widget.yaml") + `:1) does not declare it`,
		filepath.Join(crdFixtures, "invalid", "cel-rule.yaml") + ":8:3: error schema: spec.minReplicas: Invalid value: minReplicas must not exceed replicas (Widget cel)",
		"4 files, 5 objects: 2 errors, 0 warnings, 0 infos",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
}

// --crd and the config's crds give a catalog; without one, a custom
// resource stays unknown-kind (info).
func TestCRDCatalog(t *testing.T) {
	bad := filepath.Join(crdFixtures, "invalid", "enum.yaml")
	want := bad + `:7:3: error schema: spec.size: Unsupported value: "huge"`

	code, out, _ := klint(t, "", "--crd", filepath.Join(crdFixtures, "crds", "widget.yaml"), bad)
	if code != 1 || !strings.Contains(out, want) {
		t.Errorf("--crd: exit %d\n%s", code, out)
	}

	dir := t.TempDir()
	abs, _ := filepath.Abs(filepath.Join(crdFixtures, "crds"))
	rel, _ := filepath.Rel(dir, abs)
	cfg := filepath.Join(dir, "klint.yaml")
	os.WriteFile(cfg, []byte("crds:\n  - "+rel+"\n"), 0o644)
	code, out, stderr := klint(t, "", "--config", cfg, bad)
	if code != 1 || !strings.Contains(out, want) {
		t.Errorf("config crds (relative to the config file): exit %d\n%s%s", code, out, stderr)
	}

	code, out, _ = klint(t, "", "--context", filepath.Join(crdFixtures, "crds"), bad)
	if code != 1 || !strings.Contains(out, want) || !strings.Contains(out, "1 file, 1 object") {
		t.Errorf("CRD in a --context directory: exit %d\n%s", code, out)
	}

	code, out, _ = klint(t, "", "--fail-on", "info", bad)
	if code != 1 || !strings.Contains(out, bad+":2:1: info unknown-kind: example.klint.dev/v1 Widget is not a built-in kind, and no CustomResourceDefinition in the run or the --crd catalog defines it") {
		t.Errorf("no CRD: exit %d\n%s", code, out)
	}

	code, _, stderr = klint(t, "", "--crd", filepath.Join(dir, "absent"), bad)
	if code != 2 || !strings.Contains(stderr, "--crd "+filepath.Join(dir, "absent")) {
		t.Errorf("absent --crd: exit %d, %s", code, stderr)
	}
}
