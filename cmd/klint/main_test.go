package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite docs/rules.md")

const testdata = "../../testdata/manifests"

func klint(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestExitCodes(t *testing.T) {
	clean := filepath.Join(testdata, "schema", "valid", "configmap.yaml")
	probes := filepath.Join(testdata, "missing-liveness-probe", "bad.yaml")
	broken := filepath.Join(testdata, "loader", "multi.yaml")
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"clean file", []string{clean}, 0},
		{"warnings fail by default", []string{probes}, 1},
		{"warnings pass with --fail-on error", []string{"--fail-on", "error", probes}, 0},
		{"info fails with --fail-on info", []string{"--fail-on", "info", filepath.Join(testdata, "plaintext-secret", "good.yaml")}, 1},
		{"yaml syntax error", []string{broken}, 2},
		{"missing path", []string{filepath.Join(testdata, "nope.yaml")}, 2},
		{"bad flag", []string{"--no-such-flag"}, 2},
		{"bad format", []string{"--format", "xml", clean}, 2},
		{"unknown rule", []string{"--disable", "no-such-rule", clean}, 2},
		{"bad kube version", []string{"--kube-version", "banana", clean}, 2},
		{"kube version past the bundled API", []string{"--kube-version", "1.99", clean}, 2},
		{"completion for an unknown shell", []string{"completion", "tcsh"}, 2},
		{"completion for a known shell", []string{"completion", "bash"}, 0},
	}
	for _, c := range cases {
		code, out, errOut := klint(t, "", c.args...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", c.name, code, c.code, out, errOut)
		}
	}
}

func TestTextOutput(t *testing.T) {
	f := filepath.Join(testdata, "image-latest-tag", "bad.yaml")
	code, out, _ := klint(t, "", "--disable", "missing-liveness-probe,missing-readiness-probe,pod-security-restricted,writable-root-filesystem,missing-resource-requests,missing-resource-limits", "--color", "never", f)
	want := f + `:8:7: error image-latest-tag: container "init" image "busybox" has no tag, so it runs whatever latest is when the node pulls it (Pod images)` + "\n"
	if code != 1 || !strings.Contains(out, "\n"+want) {
		t.Fatalf("exit %d, output:\n%s\nwant line:\n%s", code, out, want)
	}
	if !strings.HasSuffix(out, "1 file, 1 object: 4 errors, 0 warnings, 1 info, 0 suppressed\n") {
		t.Errorf("summary line: %q", out[strings.LastIndex(strings.TrimSuffix(out, "\n"), "\n")+1:])
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("colour with --color never")
	}
	_, out, _ = klint(t, "", "--color", "always", f)
	if !strings.Contains(out, "\x1b[31merror\x1b[0m") {
		t.Error("no colour with --color always")
	}
}

type jsonReport struct {
	Findings []struct {
		Rule, Severity, Message, File, Path, Container string
		Line, Column                                   int
		Object                                         struct{ APIVersion, Kind, Namespace, Name string }
	}
	Suppressed []json.RawMessage
	Summary    struct{ Files, Skipped, Charts, Kustomizations, Objects, Errors, Warnings, Infos, Suppressed int }
}

func TestJSONOutputFromStdin(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testdata, "nodeport-range", "bad.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ := klint(t, string(data), "--format", "json", "--disable", "recommended-labels", "-")
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// The API server rejects the ClusterIP Service's nodePort too; the
	// schema stage leaves it to nodeport-range, which says it.
	if len(r.Findings) != 3 || r.Summary.Files != 1 || r.Summary.Objects != 4 || r.Summary.Errors != 3 {
		t.Fatalf("report: %+v", r)
	}
	f := r.Findings[0]
	if f.Rule != "nodeport-range" || f.Severity != "error" || f.File != "<stdin>" || f.Line != 9 || f.Column != 7 ||
		f.Path != "spec.ports[0].nodePort" || f.Object.Kind != "Service" || f.Object.Name != "low" || f.Object.APIVersion != "v1" {
		t.Errorf("first finding: %+v", f)
	}
}

// One broken file must not hide the findings in the others, and the run
// still exits 2 for the syntax error.
func TestBrokenFileDoesNotHideOthers(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a-broken.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "b-binary.yaml"), []byte{0x7f, 'E', 'L', 'F', 0, 1, 2}, 0o644)
	os.WriteFile(filepath.Join(dir, "c-good.yaml"), []byte("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx:latest\n"), 0o644)
	// A kustomize patch belongs to its kustomization; this one does not
	// build (the patch has no target), which is one render finding at
	// its line, and hides nothing else.
	os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\npatches: [{path: d-patch.yaml}]\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "d-patch.yaml"), []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 2}\n"), 0o644)
	code, out, _ := klint(t, "", "--format", "json", dir)
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	rules := map[string]string{}
	for _, f := range r.Findings {
		rules[f.Rule+"@"+filepath.Base(f.File)] = f.Message
	}
	for _, want := range []string{"yaml-syntax@a-broken.yaml", "yaml-syntax@b-binary.yaml", "image-latest-tag@c-good.yaml", "render@kustomization.yaml"} {
		if _, ok := rules[want]; !ok {
			t.Errorf("missing %s in %v", want, rules)
		}
	}
	if code != 2 || r.Summary.Files != 3 || r.Summary.Kustomizations != 1 || r.Summary.Skipped != 0 {
		t.Errorf("exit %d, summary %+v", code, r.Summary)
	}
	for k := range rules {
		if strings.Contains(k, "d-patch.yaml") {
			t.Errorf("patch linted: %s", k)
		}
	}
}

func TestNoSecretInAnyFormat(t *testing.T) {
	f := filepath.Join(testdata, "plaintext-secret", "bad.yaml")
	for _, format := range []string{"text", "json"} {
		_, out, errOut := klint(t, "", "--format", format, f)
		for _, s := range []string{"c3VwZXItc2VjcmV0LXZhbHVl", "plain-text-api-key-value", "ghp_abcdefghij", "AKIAIOSFODNN7EXAMPLE", "MIIBOgIBAAJBAKj34", "hunter2", "xoxb-123456789012"} {
			if strings.Contains(out+errOut, s) {
				t.Errorf("%s output contains secret %q", format, s)
			}
		}
	}
}

// --context gives cross-object rules the whole directory while reporting
// only on the files named, as the pre-commit hook does.
func TestContextForPreCommit(t *testing.T) {
	dir := t.TempDir()
	svc := filepath.Join(dir, "svc.yaml")
	os.WriteFile(svc, []byte("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector:\n    app: web\n  ports:\n    - port: 80\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "deploy.yaml"), []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: nginx:latest\n"), 0o644)
	_, alone, _ := klint(t, "", svc)
	if !strings.Contains(alone, "service-selects-nothing") {
		t.Errorf("alone: %s", alone)
	}
	code, withCtx, _ := klint(t, "", "--context", dir, svc)
	if code != 0 || strings.Contains(withCtx, "service-selects-nothing") || strings.Contains(withCtx, "deploy.yaml") ||
		!strings.HasSuffix(withCtx, "1 file, 1 object: 0 errors, 0 warnings, 1 info, 0 suppressed\n") {
		t.Errorf("with --context (exit %d): %s", code, withCtx)
	}
}

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "klint.yaml")
	os.WriteFile(cfg, []byte("failOn: error\nrules:\n  missing-liveness-probe:\n    enabled: false\n"), 0o644)
	f := filepath.Join(testdata, "missing-liveness-probe", "bad.yaml")
	code, out, _ := klint(t, "", "--config", cfg, f)
	if code != 0 || strings.Contains(out, "warning missing-liveness-probe:") || !strings.Contains(out, "warning missing-readiness-probe:") {
		t.Errorf("exit %d: %s", code, out)
	}
	// Config errors name the file and line, and are not called flag errors.
	for content, want := range map[string]string{
		"failOn: error\nrulez: {}\n":                            cfg + `:2: unknown key "rulez"`,
		"kubeVersion: \"1.30\"\nfailOn: eror\n":                 cfg + `:2: failOn: severity "eror" is not one of error, warning, info`,
		"kubeVersion: one\n":                                    cfg + ":1: kubeVersion: ",
		"admission:\n  actions:\n    image-latest-tagg: deny\n": cfg + ":3: admission.actions.image-latest-tagg: no such rule",
	} {
		os.WriteFile(cfg, []byte(content), 0o644)
		code, _, errOut := klint(t, "", "--config", cfg, f)
		if code != 2 || !strings.Contains(errOut, "klint: config "+want) || strings.Contains(errOut, "--fail-on") {
			t.Errorf("bad config %q: exit %d, %s", content, code, errOut)
		}
	}
	if code, _, errOut := klint(t, "", "--color", "bogus", f); code != 2 || !strings.Contains(errOut, `--color: "bogus" is not one of auto, always, never`) {
		t.Errorf("--color bogus: exit %d, %s", code, errOut)
	}
}

// Policy directories in a config file are relative to the config file.
func TestConfigPoliciesAreRelativeToTheConfigFile(t *testing.T) {
	dir := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(dir, "conf", "rego"), 0o755))
	cfg := filepath.Join(dir, "conf", ".klint.yaml")
	must(t, os.WriteFile(cfg, []byte("policies: [rego]\n"), 0o644))
	policy := "# METADATA\n# title: No team-x\n# description: Objects must not be in team-x.\n# custom:\n#   id: no-team-x\n#   severity: warning\n#   rationale: r\n#   remediation: m\n" +
		"package klint.no_team_x\n\ndeny contains {\"msg\": \"in team-x\", \"path\": \"metadata.namespace\"} if {\n\tinput.metadata.namespace == \"team-x\"\n}\n"
	must(t, os.WriteFile(filepath.Join(dir, "conf", "rego", "p.rego"), []byte(policy), 0o644))
	cm := filepath.Join(dir, "cm.yaml")
	must(t, os.WriteFile(cm, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: team-x\n"), 0o644))
	code, out, errOut := klint(t, "", "--config", cfg, cm)
	if code != 1 || !strings.Contains(out, cm+":5:3: warning no-team-x: in team-x") {
		t.Errorf("policy next to the config not applied: exit %d\n%s%s", code, out, errOut)
	}
}

// docs/rules.md and README's table of rules are what the registry and
// the policies say; make docs (go test ./cmd/klint -run
// TestRulesDocsAreUpToDate -update) writes them.
func TestRulesDocsAreUpToDate(t *testing.T) {
	code, out, errOut := klint(t, "", "rules", "--format", "markdown")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	const doc = "../../docs/rules.md"
	if *update {
		if err := os.WriteFile(doc, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	have, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	if string(have) != out {
		t.Error("docs/rules.md is out of date: run make docs")
	}

	_, table, _ := klint(t, "", "rules", "--format", "table")
	const readme, begin, end = "../../README.md", "<!-- rules table: generated by make docs -->\n", "<!-- end of rules table -->\n"
	text, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(text, []byte(begin)), bytes.Index(text, []byte(end))
	if i < 0 || j < i {
		t.Fatalf("README has no %q … %q section", begin, end)
	}
	want := string(text[:i+len(begin)]) + table + string(text[j:])
	if *update {
		if err := os.WriteFile(readme, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		text = []byte(want)
	}
	if string(text) != want {
		t.Error("README's table of rules is out of date: run make docs")
	}
	for _, r := range []string{"[`allowed-registries`](docs/rules.md#allowed-registries) *off*", "[`workload-selector-mismatch`](docs/rules.md#workload-selector-mismatch) error", "| [RBAC](docs/rules.md#rbac) |"} {
		if !strings.Contains(table, r) {
			t.Errorf("table lacks %q:\n%s", r, table)
		}
	}

	_, text2, _ := klint(t, "", "rules")
	if !strings.Contains(text2, "allowed-registries") || !strings.Contains(text2, "(off)") || !strings.Contains(text2, "workload-selector-mismatch") {
		t.Errorf("rules text:\n%s", text2)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := klint(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "klint ") || !strings.Contains(out, "Kubernetes target 1.") {
		t.Errorf("exit %d: %q", code, out)
	}
}
