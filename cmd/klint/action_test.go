package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klint-dev/klint/internal/gcpace"
	"sigs.k8s.io/yaml"
)

// TestMain runs the test binary as klint itself when KLINT_AS_CLI is set
// (the action's test puts it on PATH as klint). As main does, it first
// gives the collector back its pace (gcpace kept it off while the
// packages initialised).
func TestMain(m *testing.M) {
	gcpace.Start(0)
	if os.Getenv("KLINT_AS_CLI") != "" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// The GitHub Action's lint step, run as the runner runs it (bash, its env
// from the inputs' defaults, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files)
// with the klint built for the tests first on PATH: it writes annotations,
// a SARIF report, the exit-code output, and exits as klint does.
func TestGitHubActionLintStep(t *testing.T) {
	data, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs map[string]struct{ Default string }
		Runs   struct {
			Using string
			Steps []struct {
				ID, Shell, Run string
				Env            map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(data, &action); err != nil {
		t.Fatal(err)
	}
	var script string
	var env []string
	for _, s := range action.Runs.Steps {
		if s.ID == "lint" {
			script = s.Run
			for k, v := range s.Env {
				// ${{ inputs.x }} → the input's default.
				name := strings.TrimSuffix(strings.TrimPrefix(v, "${{ inputs."), " }}")
				env = append(env, k+"="+action.Inputs[name].Default)
			}
		}
	}
	if action.Runs.Using != "composite" || script == "" {
		t.Fatalf("action.yml: using %q, lint step %q", action.Runs.Using, script)
	}

	// klint on PATH is this test binary, which runs as the CLI when
	// KLINT_AS_CLI is set (TestMain): nothing is built inside the test.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	if err := os.Symlink(self, filepath.Join(bin, "klint")); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	demo, _ := os.ReadFile("../../testdata/manifests/demo/shop.yaml")
	if err := os.WriteFile(filepath.Join(work, "shop.yaml"), demo, 0o644); err != nil {
		t.Fatal(err)
	}
	output, summary := filepath.Join(work, "output"), filepath.Join(work, "summary.md")
	cmd := exec.Command("bash", "-e", "-c", script)
	cmd.Dir = work
	cmd.Env = append(env, "KLINT_AS_CLI=1", "PATH="+bin+":/usr/bin:/bin", "GITHUB_OUTPUT="+output, "GITHUB_STEP_SUMMARY="+summary, "HOME="+work)
	stdout, err := cmd.Output()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if code != 1 {
		t.Errorf("exit %d, want 1 (the demo has errors)", code)
	}
	if !strings.Contains(string(stdout), "::error file=shop.yaml,line=13,col=7,title=klint workload-selector-mismatch::") {
		t.Errorf("annotations:\n%s", stdout)
	}
	if out, _ := os.ReadFile(output); string(out) != "exit-code=1\n" {
		t.Errorf("GITHUB_OUTPUT: %q", out)
	}
	var sarif struct {
		Version string
		Runs    []struct{ Results []json.RawMessage }
	}
	raw, err := os.ReadFile(filepath.Join(work, "klint.sarif"))
	if err != nil || json.Unmarshal(raw, &sarif) != nil || sarif.Version != "2.1.0" || len(sarif.Runs) != 1 || len(sarif.Runs[0].Results) == 0 {
		t.Errorf("SARIF: %v %s", err, raw[:min(len(raw), 200)])
	}
	if s, _ := os.ReadFile(summary); !strings.Contains(string(s), "| error | `nodeport-range` |") {
		t.Errorf("step summary:\n%s", s)
	}

	// With the base input (KLINT_BASE), a pull request that changes a
	// Deployment's selector gets the immutable field annotated.
	selector, _ := os.ReadFile("../../testdata/update/deployment-selector/old.yaml")
	os.WriteFile(filepath.Join(work, "app.yaml"), selector, 0o644)
	commitAll(t, work)
	selector, _ = os.ReadFile("../../testdata/update/deployment-selector/new.yaml")
	os.WriteFile(filepath.Join(work, "app.yaml"), selector, 0o644)
	cmd = exec.Command("bash", "-e", "-c", script)
	cmd.Dir = work
	cmd.Env = append(env, "KLINT_AS_CLI=1", "PATH="+bin+":/usr/bin:/bin", "GITHUB_OUTPUT="+output, "HOME="+work, "KLINT_BASE=HEAD")
	stdout, _ = cmd.Output()
	if !strings.Contains(string(stdout), "::error file=app.yaml,line=8,col=7,title=klint immutable-field::") {
		t.Errorf("with KLINT_BASE=HEAD, annotations:\n%s", stdout)
	}
}
