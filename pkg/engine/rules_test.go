package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/rules"
	"sigs.k8s.io/yaml"
)

const testdata = "../../testdata/manifests"

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
	return runLoaded(t, e, named(files...), true)
}

// named are inputs for the files named.
func named(paths ...string) []inputs.Input {
	out := make([]inputs.Input, len(paths))
	for i, p := range paths {
		out[i] = inputs.Input{Path: p}
	}
	return out
}

// runLoaded reads every input first and then checks all their objects as
// one unit: what RunInputs, which reads and checks an input at a time,
// must give. With strict, a problem reading an input fails the test.
func runLoaded(t testing.TB, e *Engine, files []inputs.Input, strict bool) *Result {
	t.Helper()
	var objs []*manifest.Object
	var probs []manifest.Problem
	var sum Summary
	for _, in := range files {
		l := inputs.Read(in, nil, nil)
		if strict && len(l.Problems) > 0 {
			t.Fatalf("load problem: %v", l.Problems[0])
		}
		switch {
		case l.Skipped:
			sum.Skipped++
			continue
		case in.Problem != nil: // reported, not read
		case in.Kind == inputs.ChartInput:
			sum.Charts++
		case in.Kind == inputs.KustomizationInput:
			sum.Kustomizations++
		default:
			sum.Files++
		}
		objs = append(objs, l.Objects...)
		probs = append(probs, l.Problems...)
	}
	res := e.RunObjects(context.Background(), objs, probs)
	res.Summary.Files, res.Summary.Charts, res.Summary.Kustomizations, res.Summary.Skipped = sum.Files, sum.Charts, sum.Kustomizations, sum.Skipped
	return res
}

func only(res *Result, rule string) []rules.Finding {
	var out []rules.Finding
	for _, f := range res.Findings {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

// wantComment is a "# want:" comment of a fixture: on the line it is on,
// a finding of rule (at column col, when given) whose message contains
// frag.
type wantComment struct {
	line, col  int
	rule, frag string
}

var (
	wantLine = regexp.MustCompile(`#\s*want:\s*(.*)$`)
	wantItem = regexp.MustCompile("^\\s*([a-z0-9-]+)(?:@(\\d+))?\\s+(\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`)")
)

// readWants reads the "# want:" comments of a fixture file, in the way of
// Go's analysistest: `# want: rule@col "message fragment" other-rule "…"`.
func readWants(t *testing.T, file string) []wantComment {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []wantComment
	for i, line := range strings.Split(string(data), "\n") {
		m := wantLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		rest := m[1]
		for strings.TrimSpace(rest) != "" {
			it := wantItem.FindStringSubmatch(rest)
			if it == nil {
				t.Fatalf("%s:%d: malformed want comment at %q", file, i+1, rest)
			}
			w := wantComment{line: i + 1, rule: it[1]}
			if it[2] != "" {
				w.col, _ = strconv.Atoi(it[2])
			}
			if w.frag, err = strconv.Unquote(it[3]); err != nil {
				t.Fatalf("%s:%d: %v", file, i+1, err)
			}
			out = append(out, w)
			rest = rest[len(it[0]):]
		}
	}
	return out
}

// Each Go rule has a directory testdata/manifests/<rule>/ of fixtures
// whose expected findings are "# want:" comments on the offending lines:
// bad.yaml has some, good.yaml none. Every finding of the rules a file
// names (and of its directory's rule) must be wanted, and every want
// found, each at its line (and column) and of the rule's severity. The
// directories are found, not listed: a new rule is its file and its
// fixtures.
func TestRuleFixtures(t *testing.T) {
	// Rules that are off until configured are on here: each has its
	// fixtures.
	var off []string
	for _, r := range rules.Builtin() {
		if _, err := os.Stat(filepath.Join(testdata, r.ID, ".klint.yaml")); r.Off && r.Source == rules.SourceGo && err != nil {
			off = append(off, r.ID)
		}
	}
	e := newEngine(t, Options{Enable: off})
	dirs, _ := filepath.Glob(filepath.Join(testdata, "*"))
	tested := map[string]bool{}
	for _, dir := range dirs {
		rule := filepath.Base(dir)
		if r := e.rules[rule]; r == nil || r.Source != rules.SourceGo {
			continue // loader, demo; schema has its own test, which checks each finding's field path too
		}
		tested[rule] = true
		t.Run(rule, func(t *testing.T) {
			e := e
			// A rule whose parameters have no useful default (the keys
			// required-labels asks for) is configured by its fixture
			// directory's .klint.yaml.
			if cfg, err := os.ReadFile(filepath.Join(dir, ".klint.yaml")); err == nil {
				e = newEngine(t, Options{Enable: off, Config: parseConfig(t, string(cfg))})
			}
			files, _ := filepath.Glob(filepath.Join(dir, "[^.]*.yaml"))
			wanted := 0
			for _, file := range files {
				wants := readWants(t, file)
				wanted += len(wants)
				if strings.HasSuffix(file, "good.yaml") && len(wants) > 0 {
					t.Errorf("%s: a good fixture wants findings", file)
				}
				checked := map[string]bool{rule: true}
				for _, w := range wants {
					if e.rules[w.rule] == nil {
						t.Fatalf("%s:%d: want names no rule %q", file, w.line, w.rule)
					}
					checked[w.rule] = true
				}
				matched := make([]bool, len(wants))
				for _, f := range runFiles(t, e, file).Findings {
					if !checked[f.Rule] {
						continue
					}
					found := false
					for i, w := range wants {
						if !matched[i] && w.rule == f.Rule && w.line == f.Line && (w.col == 0 || w.col == f.Column) && strings.Contains(f.Message, w.frag) {
							matched[i], found = true, true
							break
						}
					}
					if !found {
						t.Errorf("%s:%d:%d: unexpected finding %s: %s", file, f.Line, f.Column, f.Rule, f.Message)
					}
					if f.Severity != e.severity[f.Rule] {
						t.Errorf("%s:%d: %s severity %s, want %s", file, f.Line, f.Rule, f.Severity, e.severity[f.Rule])
					}
				}
				for i, w := range wants {
					if !matched[i] {
						t.Errorf("%s:%d:%d: no %s finding containing %q", file, w.line, w.col, w.rule, w.frag)
					}
				}
			}
			if wanted == 0 {
				t.Errorf("%s: no fixture wants a finding", dir)
			}
		})
	}
	for _, r := range rules.Builtin() {
		if r.Source == rules.SourceGo && !tested[r.ID] {
			t.Errorf("Go rule %s has no fixture directory testdata/manifests/%s", r.ID, r.ID)
		}
	}
}

// The want comments are read as written: a rule, an optional column and
// a quoted fragment, several to a line; anything else fails the test.
func TestReadWants(t *testing.T) {
	f := filepath.Join(t.TempDir(), "x.yaml")
	os.WriteFile(f, []byte("a: 1\nimage: x:latest  # want: image-latest-tag@7 \"latest is\" plaintext-secret `say \"hi\"`\n# no want here\n"), 0o644)
	got := readWants(t, f)
	want := []wantComment{{2, 7, "image-latest-tag", "latest is"}, {2, 0, "plaintext-secret", `say "hi"`}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

// Each rule's good fixture is clean of every rule but the probes and
// labels ones; the Pod Security profiles are judged on their own good
// fixtures (the others' pods are not written to the restricted profile).
func TestGoodFixturesAreClean(t *testing.T) {
	// Rules that ask something of every pod, or of what pods reference,
	// would flag the other rules' fixtures, linted here as one run.
	disable := []string{"recommended-labels", "missing-readiness-probe", "missing-liveness-probe", "writable-root-filesystem", "missing-resource-requests", "missing-resource-limits", "replicas-minimum", "missing-anti-affinity", "missing-pdb", "config-ref-missing"}
	files, _ := filepath.Glob(filepath.Join(testdata, "*", "good.yaml"))
	var others []string
	for _, f := range files {
		if !strings.Contains(f, "pod-security-") {
			others = append(others, f)
		}
	}
	res := runFiles(t, newEngine(t, Options{Disable: append(disable, "pod-security-baseline", "pod-security-restricted")}), others...)
	// baseline's good pods meet baseline, not restricted; restricted's meet both.
	base := runFiles(t, newEngine(t, Options{Disable: append(disable, "pod-security-restricted")}), filepath.Join(testdata, "pod-security-baseline", "good.yaml"))
	restricted := runFiles(t, newEngine(t, Options{Disable: disable, Enable: []string{"pod-security-restricted"}}), filepath.Join(testdata, "pod-security-restricted", "good.yaml"))
	for _, f := range append(append(res.Findings, base.Findings...), restricted.Findings...) {
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
	cfg := parseConfig(t, `
rules:
  missing-readiness-probe:
    severity: info
exemptions:
  - kind: Pod
    namespace: shop
    name: "p*"
    rules: [missing-liveness-probe]
    reason: legacy pod, replaced in Q3
`)
	res := runFiles(t, newEngine(t, Options{Config: cfg, Disable: []string{"recommended-labels", "pod-security-restricted", "writable-root-filesystem", "missing-resource-requests", "missing-resource-limits"}}), f)
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

// parseConfig decodes the engine's section of a config file strictly, as
// pkg/config does.
func parseConfig(t *testing.T, text string) *Config {
	t.Helper()
	var c Config
	if err := yaml.UnmarshalStrict([]byte(text), &c); err != nil {
		t.Fatal(err)
	}
	if err := c.Resolve(".", func(msg string, _ ...string) error { return errors.New(msg) }); err != nil {
		t.Fatal(err)
	}
	return &c
}

func TestUnknownRuleInConfig(t *testing.T) {
	cfg := parseConfig(t, "rules: {no-such-rule: {enabled: false}}")
	if _, err := New(context.Background(), Options{Config: cfg}); err == nil || !strings.Contains(err.Error(), "no-such-rule") {
		t.Errorf("unknown rule in config: %v", err)
	}
}

func TestNodePortRangeParams(t *testing.T) {
	cfg := parseConfig(t, "rules: {nodeport-range: {params: {min: 8000, max: 9000}}}")
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
	cfg := parseConfig(t, "rules: {allowed-registries: {params: {registries: [registry.example.com]}}}")
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
		"db_password": true, "AZURE_BATCH_KEY": true, "aws_secret_access_key": true, "azure_batchai_storage_key": true,
		"AzureStorageKey": true, "AWSSecretKey": true, "jwt": true, "sessionKey": true,
		"aws_access_key_id": false, "ROUTING_KEY": false, "PUBLIC_KEY": false, "S3_KEY_PREFIX": false, "keyName": false,
		"MAX_TOTAL_TOKENS": false, "MAX_BATCH_PREFILL_TOKENS": false, "PASSWORD_FILE": false, "TOKEN_PATH": false,
		"MYSQL_ALLOW_EMPTY_PASSWORD": false, "CACHE_KEY": false, "KEYSPACE": false, "SECRET_NAME": false, "LOG_LEVEL": false,
	} {
		if got := rules.LooksLikeCredentialName(name); got != want {
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
	(&Result{}).add(e, []rules.Finding{{Rule: "no-such-rule", Message: "m"}}, nil)
}

// A policy that lists its kinds (custom.kinds) is evaluated only on
// objects of those kinds; one that lists none, on every object. A kinds
// entry that is not a list of names is an error naming the file.
func TestRegoPolicyKinds(t *testing.T) {
	dir := t.TempDir()
	policy := func(id, kinds string) string {
		return "# METADATA\n# title: t\n# custom:\n#   id: " + id + "\n" + kinds + "#   severity: warning\npackage klint." + strings.ReplaceAll(id, "-", "_") + "\n\ndeny contains {\"msg\": \"seen\"} if { input.kind }\n"
	}
	os.WriteFile(filepath.Join(dir, "cm.rego"), []byte(policy("only-configmaps", "#   kinds: [ConfigMap]\n")), 0o644)
	os.WriteFile(filepath.Join(dir, "all.rego"), []byte(policy("every-kind", "")), 0o644)
	e := newEngine(t, Options{PolicyDirs: []string{dir}})
	f := filepath.Join(t.TempDir(), "x.yaml")
	os.WriteFile(f, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\ntype: Opaque\n"), 0o644)
	res := runFiles(t, e, f)
	var got []string
	for _, fd := range res.Findings {
		if fd.Rule == "only-configmaps" || fd.Rule == "every-kind" {
			got = append(got, fd.Rule+" "+fd.Object.Kind)
		}
	}
	want := []string{"every-kind ConfigMap", "only-configmaps ConfigMap", "every-kind Secret"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "p.rego"), []byte(policy("bad-kinds", "#   kinds: ConfigMap\n")), 0o644)
	if _, err := New(context.Background(), Options{PolicyDirs: []string{bad}}); err == nil || !strings.Contains(err.Error(), "p.rego:1: custom.kinds must be a list of kinds") {
		t.Errorf("bad kinds: %v", err)
	}
}

// The Pod Security Standards are judged at the policy version of the
// target Kubernetes version, or at the version parameter: the restricted
// profile's capabilities check exists from 1.22 on, runAsUser from 1.23.
func TestPodSecurityVersion(t *testing.T) {
	file := filepath.Join(testdata, "pod-security-restricted", "bad.yaml")
	count := func(opts Options) (caps, all int) {
		opts.Enable = []string{"pod-security-restricted"}
		for _, f := range only(runFiles(t, newEngine(t, opts), file), "pod-security-restricted") {
			all++
			if strings.Contains(f.Message, "(capabilities_restricted)") {
				caps++
			}
		}
		return caps, all
	}
	if caps, all := count(Options{}); caps != 2 || all != 9 {
		t.Errorf("target 1.37: %d capabilities findings of %d", caps, all)
	}
	if caps, all := count(Options{KubeVersion: "1.21"}); caps != 0 || all != 6 { // nor runAsUser, from 1.23 on
		t.Errorf("target 1.21: %d capabilities findings of %d", caps, all)
	}
	if caps, _ := count(Options{KubeVersion: "1.21", Config: parseConfig(t, "rules: {pod-security-restricted: {params: {version: \"1.30\"}}}")}); caps != 2 {
		t.Errorf("version parameter 1.30 at target 1.21: %d capabilities findings", caps)
	}
	res := runFiles(t, newEngine(t, Options{Enable: []string{"pod-security-restricted"}, Config: parseConfig(t, "rules: {pod-security-restricted: {params: {version: one}}}")}), file)
	if got := only(res, "pod-security-restricted"); len(got) == 0 || !strings.Contains(got[0].Message, `version parameter "one" is not a Kubernetes version`) {
		t.Errorf("bad version: %+v", got)
	}
}

// Every built-in rule and policy says which theme of the docs it is in.
func TestEveryRuleHasATheme(t *testing.T) {
	for _, r := range newEngine(t, Options{}).Rules() {
		if !slices.Contains(rules.Themes, r.Theme) {
			t.Errorf("%s: theme %q is not one of %v", r.ID, r.Theme, rules.Themes)
		}
	}
}

// A rule either offers a fix on its bad fixture, or its docs say why it
// offers none (NoFix); not both.
func TestEveryRuleSaysWhyItHasNoFix(t *testing.T) {
	for _, r := range rules.Builtin() {
		if r.Source != rules.SourceGo {
			continue
		}
		dir := filepath.Join(testdata, r.ID)
		opts := Options{Enable: []string{r.ID}}
		if cfg, err := os.ReadFile(filepath.Join(dir, ".klint.yaml")); err == nil {
			opts.Config = parseConfig(t, string(cfg))
		}
		e := newEngine(t, opts)
		files, _ := filepath.Glob(filepath.Join(dir, "bad*.yaml"))
		fixes := false
		for _, f := range files {
			for _, fd := range runFiles(t, e, f).Findings {
				fixes = fixes || fd.Rule == r.ID && len(fd.Fix) > 0
			}
		}
		if fixes == (r.NoFix != "") {
			t.Errorf("%s: offers a fix on its fixtures: %v; says why it has none: %q", r.ID, fixes, r.NoFix)
		}
	}
}
