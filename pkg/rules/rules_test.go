package rules

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/klint-dev/klint/pkg/manifest"
)

const testdata = "../../testdata/manifests"

type wantFinding struct {
	line, col int
	container string
	frag      string
}

func newEngine(t testing.TB, opts Options) *Engine {
	t.Helper()
	e, err := New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func runFiles(t testing.TB, e *Engine, files ...string) *Result {
	t.Helper()
	set := manifest.Load(manifest.Inputs(files...), nil)
	for _, p := range set.Problems {
		t.Fatalf("load problem: %v", p)
	}
	return e.Run(context.Background(), set)
}

func only(res *Result, rule string) []Finding {
	var out []Finding
	for _, f := range res.Findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// Each rule has testdata/manifests/<rule>/bad.yaml, whose findings for that
// rule are listed here exactly, and good.yaml, which has none.
func TestRuleFixtures(t *testing.T) {
	cases := map[string][]wantFinding{
		"workload-selector-mismatch": {
			{6, 3, "", "Deployment selector does not match its pod template labels: tier=frontend (missing)"},
			{25, 3, "", "StatefulSet selector expressions (app in (database,db),!canary) do not select"},
			{47, 3, "", "app=legacy (template has old)"},
		},
		"service-selects-nothing": {
			{6, 3, "", `Service "api" selects no pods: no Pod or pod template in this run has the labels {app=api}`},
		},
		"service-target-port": {
			{11, 7, "", "targetPort http-alt is not a port"},
			{13, 7, "", "targetPort 9090 is not a port"},
		},
		"nodeport-range": {
			{9, 7, "", "nodePort 8080 is outside the NodePort range 30000-32767"},
			{18, 7, "", "nodePort 30001 is set on a Service of type ClusterIP"},
			{38, 7, "", "nodePort 30443 is already used by Service first (" + filepath.Join(testdata, "nodeport-range/bad.yaml") + ":28)"},
		},
		"missing-readiness-probe": {
			{17, 11, "proxy", `container "proxy" has no readinessProbe`},
			{24, 11, "web", `container "web" has no readinessProbe`},
		},
		"missing-liveness-probe": {
			{7, 7, "server", `container "server" has no livenessProbe`},
		},
		"probe-port": {
			{23, 15, "web", "readinessProbe of container \"web\" uses port healthz"},
			{26, 15, "web", "livenessProbe of container \"web\" uses port 9999"},
		},
		"image-latest-tag": {
			{8, 7, "init", `image "busybox" has no tag`},
			{11, 7, "latest", `uses image "nginx:latest"`},
			{13, 7, "registry-port", `image "localhost:5000/app" has no tag`},
			{15, 7, "registry-latest", `"registry.example.com:5000/team/app:latest"; latest is not a version`},
		},
		"plaintext-secret": {
			{6, 3, "", `Secret "db" has key "password" in data written in the manifest (base64 is an encoding, not encryption)`},
			{8, 3, "", `key "api.key" in stringData`},
			{15, 5, "", "annotation deploy-token contains a GitHub token"},
			{17, 3, "", `key "aws" contains an AWS access key ID`},
			{18, 3, "", `key "tls.key" contains a private key`},
			{41, 15, "app", "env DB_PASSWORD of container \"app\" looks like a credential"},
			{43, 15, "app", "env SLACK_HOOK of container \"app\" contains a Slack token"},
		},
	}
	e := newEngine(t, Options{})
	for rule, want := range cases {
		t.Run(rule, func(t *testing.T) {
			if r := e.rules[rule]; r == nil || r.Source != SourceGo {
				t.Fatalf("%s is not a registered Go rule", rule)
			}
			got := only(runFiles(t, e, filepath.Join(testdata, rule, "bad.yaml")), rule)
			if len(got) != len(want) {
				t.Fatalf("got %d findings, want %d: %+v", len(got), len(want), got)
			}
			for i, w := range want {
				g := got[i]
				if g.Line != w.line || g.Column != w.col || g.Container != w.container || !strings.Contains(g.Message, w.frag) {
					t.Errorf("finding %d = %d:%d [%s] %q; want %d:%d [%s] containing %q", i, g.Line, g.Column, g.Container, g.Message, w.line, w.col, w.container, w.frag)
				}
				if g.Severity != e.rules[rule].Severity {
					t.Errorf("finding %d severity %s, want %s", i, g.Severity, e.rules[rule].Severity)
				}
			}
			if good := only(runFiles(t, e, filepath.Join(testdata, rule, "good.yaml")), rule); len(good) != 0 {
				t.Errorf("good.yaml: %+v", good)
			}
		})
	}
	for _, r := range Builtin() {
		if r.Source == SourceGo && cases[r.ID] == nil {
			t.Errorf("Go rule %s has no fixture case", r.ID)
		}
	}
}

func TestGoodFixturesAreClean(t *testing.T) {
	e := newEngine(t, Options{Disable: []string{"recommended-labels", "missing-readiness-probe", "missing-liveness-probe"}})
	files, _ := filepath.Glob(filepath.Join(testdata, "*", "good.yaml"))
	res := runFiles(t, e, files...)
	for _, f := range res.Findings {
		if f.Rule != "unknown-kind" {
			t.Errorf("%s:%d:%d %s %s", f.File, f.Line, f.Column, f.Rule, f.Message)
		}
	}
}

func TestSecretValuesNeverInFindings(t *testing.T) {
	e := newEngine(t, Options{})
	res := runFiles(t, e, filepath.Join(testdata, "plaintext-secret", "bad.yaml"))
	secrets := []string{"c3VwZXItc2VjcmV0LXZhbHVl", "super-secret-value", "plain-text-api-key-value", "ghp_abcdefghij", "AKIAIOSFODNN7EXAMPLE", "MIIBOgIBAAJBAKj34", "hunter2", "xoxb-123456789012"}
	for _, f := range res.Findings {
		for _, s := range secrets {
			if strings.Contains(f.Message, s) {
				t.Errorf("finding leaks %q: %s", s, f.Message)
			}
		}
	}
}

func TestSelectorMismatchFix(t *testing.T) {
	e := newEngine(t, Options{})
	got := only(runFiles(t, e, filepath.Join(testdata, "workload-selector-mismatch", "bad.yaml")), "workload-selector-mismatch")
	fix := got[0].Fix
	if len(fix) != 1 || fix[0].Op != "add" || fix[0].Path != "/spec/template/metadata/labels/tier" || fix[0].Value != "frontend" {
		t.Errorf("deployment fix = %+v", fix)
	}
	// The RC's template sets app to another value: overwriting it could
	// break other selectors, so no fix is offered.
	if got[2].Fix != nil {
		t.Errorf("rc fix = %+v", got[2].Fix)
	}
	// A template with no metadata gets the whole parent.
	dir := t.TempDir()
	f := writeFile(t, dir, "d.yaml", "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: r}\nspec:\n  selector: {matchLabels: {app: r}}\n  template:\n    spec:\n      containers: [{name: c, image: c:1}]\n")
	got = only(runFiles(t, e, f), "workload-selector-mismatch")
	if len(got) != 1 || len(got[0].Fix) != 1 || got[0].Fix[0].Path != "/spec/template/metadata" ||
		got[0].Fix[0].Value.(map[string]any)["labels"].(map[string]any)["app"] != "r" {
		t.Errorf("no-metadata fix = %+v", got)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const latestPod = `apiVersion: v1
kind: Pod
metadata:
  name: p
  namespace: shop
  annotations:
    ignore.klint.dev/image-latest-tag: "pinned by the image controller"
    ignore.klint.dev/missing-liveness-probe: ""
    ignore.klint.dev/no-such-rule: "typo"
spec:
  containers:
    - name: c
      image: nginx:latest
`

func TestSuppressionsAndConfig(t *testing.T) {
	dir := t.TempDir()
	f := writeFile(t, dir, "pod.yaml", latestPod)
	cfg, err := ParseConfig("test.yaml", []byte(`
rules:
  missing-readiness-probe:
    severity: info
exemptions:
  - kind: Pod
    namespace: shop
    name: "p*"
    rules: [missing-liveness-probe]
    reason: legacy pod, replaced in Q3
`))
	if err != nil {
		t.Fatal(err)
	}
	res := runFiles(t, newEngine(t, Options{Config: cfg, Disable: []string{"recommended-labels"}}), f)
	var rules []string
	for _, fd := range res.Findings {
		rules = append(rules, fd.Rule+"@"+fd.Severity.String())
	}
	want := "invalid-suppression@warning,invalid-suppression@warning,missing-readiness-probe@info"
	if strings.Join(rules, ",") != want {
		t.Fatalf("findings %v, want %s", rules, want)
	}
	if !strings.Contains(res.Findings[0].Message, "has no reason") || !strings.Contains(res.Findings[1].Message, `names no rule "no-such-rule"`) {
		t.Errorf("messages: %q / %q", res.Findings[0].Message, res.Findings[1].Message)
	}
	if res.Summary.Suppressed != 2 || len(res.SuppressedFindings) != 2 {
		t.Fatalf("suppressed = %d", res.Summary.Suppressed)
	}
	bys := res.SuppressedFindings[0].Suppressed.By + "," + res.SuppressedFindings[1].Suppressed.By
	if bys != "annotation,config" && bys != "config,annotation" {
		t.Errorf("suppressed by %s", bys)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []struct{ yaml, frag string }{
		{"rulez: {}", `k.yaml:1: unknown key "rulez"`},
		{"kubeVersion: \"1.30\"\nfailOn: eror", `k.yaml:2: failOn: severity "eror"`},
		{"rules:\n  schema: 3", `k.yaml:1: rules has the wrong type`},
		{"exemptions: [{kind: Pod}]", "has no reason"},
		{"rules: {schema: {severity: fatal}}", `severity "fatal"`},
	} {
		if _, err := ParseConfig("k.yaml", []byte(c.yaml)); err == nil || !strings.Contains(err.Error(), c.frag) || !strings.Contains(err.Error(), "k.yaml") {
			t.Errorf("%q: err = %v, want it to contain %q", c.yaml, err, c.frag)
		}
	}
	cfg, _ := ParseConfig("k.yaml", []byte("rules: {no-such-rule: {enabled: false}}"))
	if _, err := New(context.Background(), Options{Config: cfg}); err == nil || !strings.Contains(err.Error(), "no-such-rule") {
		t.Errorf("unknown rule in config: %v", err)
	}
}

func TestNodePortRangeParams(t *testing.T) {
	cfg, _ := ParseConfig("k.yaml", []byte("rules: {nodeport-range: {params: {min: 8000, max: 9000}}}"))
	got := only(runFiles(t, newEngine(t, Options{Config: cfg}), filepath.Join(testdata, "nodeport-range", "bad.yaml")), "nodeport-range")
	// 8080 is inside the configured range; 30443 is outside it, twice.
	if len(got) != 4 || !strings.Contains(got[0].Message, "ClusterIP") || !strings.Contains(got[1].Message, "30443 is outside the NodePort range 8000-9000") ||
		!strings.Contains(got[3].Message, "30443 is outside") {
		t.Errorf("findings: %+v", got)
	}
}

func TestRegoPoliciesAndUserPolicy(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "team.rego", `# METADATA
# title: Team label
# description: Every Deployment names its owning team.
# custom:
#   id: team-label
#   severity: warning
package klint.team

deny contains {"msg": "Deployment has no team label", "path": "metadata.labels"} if {
	input.kind == "Deployment"
	not input.metadata.labels.team
}
`)
	manifests := t.TempDir()
	f := writeFile(t, manifests, "d.yaml", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  labels:
    app: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: quay.io/web:1
`)
	cfg, _ := ParseConfig("k.yaml", []byte("rules: {allowed-registries: {params: {registries: [registry.example.com]}}}"))
	res := runFiles(t, newEngine(t, Options{Config: cfg, PolicyDirs: []string{dir}}), f)
	want := map[string]string{
		"team-label":           "6:3 warning Deployment has no team label",
		"no-default-namespace": "5:3 warning Deployment \"web\" is in the default namespace",
		"recommended-labels":   "3:1 info Deployment \"web\" lacks the recommended label(s) app.kubernetes.io/name",
		"allowed-registries":   "17:11 error container \"web\" uses image registry \"quay.io\"",
	}
	for rule, w := range want {
		got := only(res, rule)
		if len(got) != 1 {
			t.Errorf("%s: %d findings %+v", rule, len(got), got)
			continue
		}
		g := got[0]
		if s := strings.Join([]string{itoa(g.Line) + ":" + itoa(g.Column), g.Severity.String(), g.Message}, " "); !strings.HasPrefix(s, w) {
			t.Errorf("%s: %q, want prefix %q", rule, s, w)
		}
	}
	// allowed-registries is off until configured.
	if got := only(runFiles(t, newEngine(t, Options{}), f), "allowed-registries"); len(got) != 0 {
		t.Errorf("allowed-registries ran unconfigured: %+v", got)
	}
}

func TestBadPolicyIsAnErrorNamingTheFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "bad.rego", "package team\n\ndeny contains \"x\" if { true }\n")
	_, err := New(context.Background(), Options{PolicyDirs: []string{dir}})
	if err == nil || !strings.Contains(err.Error(), "bad.rego") || !strings.Contains(err.Error(), "must be under klint.") {
		t.Errorf("err = %v", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestCredentialNames(t *testing.T) {
	for name, want := range map[string]bool{
		"DB_PASSWORD": true, "MYSQL_ROOT_PASSWORD": true, "HF_TOKEN": true, "NGC_API_KEY": true, "AWS_SECRET_ACCESS_KEY": true,
		"GITHUB_TOKEN": true, "dbPassword": true, "DBPASSWORD": true, "client-secret": true,
		"MAX_TOTAL_TOKENS": false, "MAX_BATCH_PREFILL_TOKENS": false, "PASSWORD_FILE": false, "TOKEN_PATH": false,
		"MYSQL_ALLOW_EMPTY_PASSWORD": false, "CACHE_KEY": false, "KEYSPACE": false, "SECRET_NAME": false, "LOG_LEVEL": false,
	} {
		if got := looksLikeCredentialName(name); got != want {
			t.Errorf("%s: %v, want %v", name, got, want)
		}
	}
}

// A finding of a rule the engine does not know is a bug: it fails the
// tests (outside them it is reported as an error, never dropped).
func TestFindingOfAnUnknownRuleFailsTests(t *testing.T) {
	e := newEngine(t, Options{})
	defer func() {
		if v := recover(); v == nil || !strings.Contains(v.(string), `finding of unregistered rule "no-such-rule"`) {
			t.Errorf("recovered %v", v)
		}
	}()
	(&Result{}).add(e, []Finding{{Rule: "no-such-rule", Message: "m"}}, nil)
}
