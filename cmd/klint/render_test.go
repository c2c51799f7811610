package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

type renderReport struct {
	Findings []struct {
		Rule, File, Path, Template string
		Line, Column               int
		Renders                    []string
		Approximate                bool
		Related                    []struct {
			File         string
			Line, Column int
			Message      string
		}
	}
	Summary struct{ Files, Skipped, Charts, Kustomizations, Objects, Errors, Warnings, Infos, Suppressed int }
}

// lintJSON runs klint from the repository root (so that a named file
// finds the chart or kustomization it belongs to) and reads its JSON.
func lintJSON(t *testing.T, stdin string, args ...string) (int, renderReport) {
	t.Helper()
	t.Chdir("../..")
	// The Pod Security rules (on by default) are left out: these tests are
	// about rendering and positions, and the fixtures' pods are not written
	// to the restricted profile.
	code, out, errOut := klint(t, stdin, append([]string{"--format", "json", "--disable", "pod-security-baseline,pod-security-restricted"}, args...)...)
	var r renderReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("exit %d: %v\n%s\n%s", code, err, out, errOut)
	}
	return code, r
}

func findingKeys(r renderReport) []string {
	var out []string
	for _, f := range r.Findings {
		k := f.Rule + " " + f.File + ":" + itoa(f.Line) + ":" + itoa(f.Column) + " [" + strings.Join(f.Renders, "; ") + "]"
		for _, rel := range f.Related {
			k += " <" + rel.File + ":" + itoa(rel.Line) + ":" + itoa(rel.Column) + " " + rel.Message + ">"
		}
		if f.Approximate {
			k += " approximate"
		}
		out = append(out, k)
	}
	return out
}

// wantFindings compares a report's findings, in order, with want.
func wantFindings(t *testing.T, r renderReport, want []string) {
	t.Helper()
	if got := findingKeys(r); !slices.Equal(got, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// Every finding on a rendered chart or kustomization points at the line a
// person edits: the template line, the named template in _helpers.tpl (with
// the line that included it), the values file line a value came from, the
// base, the patch, or the kustomization entry of a transformer. A finding
// that several renders produce at the same line is reported once, naming
// them; broken templates, required values and missing dependencies are
// render findings at their lines and hide nothing else.
func TestChartsAndKustomizationsPointAtSources(t *testing.T) {
	code, r := lintJSON(t, "", "testdata/charts", "testdata/kustomize")
	shop, prod := "testdata/charts/shop", "testdata/charts/shop with ci/prod-values.yaml"
	both := shop + "; " + prod
	want := []string{
		"render testdata/charts/broken/Chart.yaml:7:5 [testdata/charts/broken]",
		"probe-port testdata/charts/broken/charts/lib/templates/_probe.tpl:3:3 [testdata/charts/broken] <testdata/charts/broken/templates/worker.yaml:14:1 included from here>",
		"probe-port testdata/charts/broken/charts/lib/templates/_probe.tpl:3:3 [testdata/charts/broken] <testdata/charts/broken/templates/worker.yaml:12:1 included from here>",
		"render testdata/charts/broken/templates/bad.yaml:6:1 [testdata/charts/broken]",
		"render testdata/charts/broken/templates/port.yaml:7:15 [testdata/charts/broken]",
		"render testdata/charts/broken/templates/secret.yaml:6:11 [testdata/charts/broken]",
		// A container's missing fields point at the container.
		"missing-resource-limits testdata/charts/broken/templates/worker.yaml:9:7 [testdata/charts/broken]",
		"missing-resource-requests testdata/charts/broken/templates/worker.yaml:9:7 [testdata/charts/broken]",
		"missing-resource-requests testdata/charts/broken/templates/worker.yaml:9:7 [testdata/charts/broken]",
		"writable-root-filesystem testdata/charts/broken/templates/worker.yaml:9:7 [testdata/charts/broken]",
		"image-latest-tag testdata/charts/broken/templates/worker.yaml:10:7 [testdata/charts/broken] <testdata/charts/broken/values.yaml:3:1 value image set here>",
		"probes-identical testdata/charts/broken/templates/worker.yaml:13:7 [testdata/charts/broken]",
		// The image comes from a named template through trim: exact, not
		// approximate, in the render with marks only (default values) and
		// in the one rendered twice (its tpl text computes with an include).
		"replicas-minimum testdata/charts/checksums/templates/deployment.yaml:7:1 [testdata/charts/checksums; testdata/charts/checksums with ci/computed-values.yaml]",
		"missing-resource-limits testdata/charts/checksums/templates/deployment.yaml:20:11 [testdata/charts/checksums; testdata/charts/checksums with ci/computed-values.yaml]",
		"missing-resource-requests testdata/charts/checksums/templates/deployment.yaml:20:11 [testdata/charts/checksums; testdata/charts/checksums with ci/computed-values.yaml]",
		"missing-resource-requests testdata/charts/checksums/templates/deployment.yaml:20:11 [testdata/charts/checksums; testdata/charts/checksums with ci/computed-values.yaml]",
		"writable-root-filesystem testdata/charts/checksums/templates/deployment.yaml:20:11 [testdata/charts/checksums; testdata/charts/checksums with ci/computed-values.yaml]",
		"image-latest-tag testdata/charts/checksums/templates/deployment.yaml:21:11 [testdata/charts/checksums; testdata/charts/checksums with ci/computed-values.yaml]",
		"probes-identical testdata/charts/checksums/templates/deployment.yaml:22:11 [testdata/charts/checksums; testdata/charts/checksums with ci/computed-values.yaml]",
		"recommended-labels testdata/charts/shop/charts/cache/templates/statefulset.yaml:3:1 [" + both + "]",
		"replicas-minimum testdata/charts/shop/charts/cache/templates/statefulset.yaml:5:1 [" + both + "]",
		"statefulset-service testdata/charts/shop/charts/cache/templates/statefulset.yaml:6:3 [" + both + "]",
		"missing-resource-limits testdata/charts/shop/charts/cache/templates/statefulset.yaml:16:11 [" + both + "]",
		"missing-resource-requests testdata/charts/shop/charts/cache/templates/statefulset.yaml:16:11 [" + both + "]",
		"missing-resource-requests testdata/charts/shop/charts/cache/templates/statefulset.yaml:16:11 [" + both + "]",
		"writable-root-filesystem testdata/charts/shop/charts/cache/templates/statefulset.yaml:16:11 [" + both + "]",
		"image-latest-tag testdata/charts/shop/charts/cache/templates/statefulset.yaml:17:11 [" + both + "] <testdata/charts/shop/values.yaml:13:3 value image set here>",
		"probes-identical testdata/charts/shop/charts/cache/templates/statefulset.yaml:20:11 [" + both + "]",
		"recommended-labels testdata/charts/shop/charts/queue-0.1.0.tgz:templates/service.yaml:3:1 [" + both + "]",
		"service-selects-nothing testdata/charts/shop/charts/queue-0.1.0.tgz:templates/service.yaml:6:3 [" + both + "]",
		"replicas-minimum testdata/charts/shop/templates/deployment.yaml:8:3 [" + both + "] <testdata/charts/shop/values.yaml:1:1 value replicaCount set here>",
		"missing-liveness-probe testdata/charts/shop/templates/deployment.yaml:18:11 [" + both + "]",
		"writable-root-filesystem testdata/charts/shop/templates/deployment.yaml:18:11 [" + both + "]",
		"image-latest-tag testdata/charts/shop/templates/deployment.yaml:19:11 [" + shop + "] <testdata/charts/shop/values.yaml:3:3 value image.repository set here> <testdata/charts/shop/values.yaml:4:3 value image.tag set here>",
		// resources: {limits: {cpu}} from values: the missing memory limit
		// points at the value that set the limits.
		"missing-resource-requests testdata/charts/shop/templates/deployment.yaml:29:11 [" + both + "]",
		"missing-resource-limits testdata/charts/shop/templates/deployment.yaml:30:13 [" + both + "] <testdata/charts/shop/values.yaml:8:1 value resources set here>",
		"pdb-blocks-eviction testdata/charts/shop/templates/pdb.yaml:11:3 [" + both + "]",
		"nodeport-range testdata/charts/shop/templates/service.yaml:16:7 [" + prod + "]",
		"replicas-minimum testdata/kustomize/base/deployment.yaml:8:3 [testdata/kustomize/overlays/dev; testdata/kustomize/overlays/staging]",
		"missing-anti-affinity testdata/kustomize/base/deployment.yaml:16:5 [testdata/kustomize/overlays/prod] approximate",
		"missing-liveness-probe testdata/kustomize/base/deployment.yaml:18:11 [testdata/kustomize/overlays/dev; testdata/kustomize/overlays/prod; testdata/kustomize/overlays/staging]",
		"missing-readiness-probe testdata/kustomize/base/deployment.yaml:18:11 [testdata/kustomize/overlays/prod; testdata/kustomize/overlays/staging]",
		"missing-resource-limits testdata/kustomize/base/deployment.yaml:18:11 [testdata/kustomize/overlays/dev; testdata/kustomize/overlays/prod; testdata/kustomize/overlays/staging] approximate",
		"missing-resource-requests testdata/kustomize/base/deployment.yaml:18:11 [testdata/kustomize/overlays/dev; testdata/kustomize/overlays/prod; testdata/kustomize/overlays/staging] approximate",
		"missing-resource-requests testdata/kustomize/base/deployment.yaml:18:11 [testdata/kustomize/overlays/dev; testdata/kustomize/overlays/prod; testdata/kustomize/overlays/staging] approximate",
		"writable-root-filesystem testdata/kustomize/base/deployment.yaml:18:11 [testdata/kustomize/overlays/dev; testdata/kustomize/overlays/prod; testdata/kustomize/overlays/staging] approximate",
		"missing-pdb testdata/kustomize/overlays/prod/replicas.yaml:6:3 [testdata/kustomize/overlays/prod]",
		"plaintext-secret testdata/kustomize/overlays/prod/replicas.yaml:13:15 [testdata/kustomize/overlays/prod]",
		"no-default-namespace testdata/kustomize/overlays/staging/kustomization.yaml:3:1 [testdata/kustomize/overlays/staging]",
		"image-latest-tag testdata/kustomize/overlays/staging/kustomization.yaml:8:5 [testdata/kustomize/overlays/staging]",
	}
	wantFindings(t, r, want)
	// lib is a library chart: found, rendered, and it renders nothing.
	// shop/.helmignore hides templates/draft-config.yaml, which does not
	// parse: no render finding for it.
	// The suppression annotation written in worker.yaml works.
	if code != 2 || r.Summary.Charts != 4 || r.Summary.Kustomizations != 3 || r.Summary.Files != 0 || r.Summary.Objects != 21 || r.Summary.Suppressed != 1 {
		t.Errorf("exit %d, summary %+v", code, r.Summary)
	}
}

// A value that reaches an error message (here a values key used as a
// template name) is never printed, in any output: the broken chart's
// db.password is KLINT-MARKER-hunter2.
func TestRenderErrorsDoNotPrintValues(t *testing.T) {
	t.Chdir("../..")
	for _, format := range []string{"text", "json"} {
		_, out, errOut := klint(t, "", "--format", format, "testdata/charts/broken")
		if strings.Contains(out+errOut, "KLINT-MARKER") {
			t.Errorf("%s output prints the value:\n%s", format, out)
		}
		if !strings.Contains(out, "no template (value not shown)") {
			t.Errorf("%s output lacks the redacted render error:\n%s", format, out)
		}
	}
}

// Helm's own flags apply to the chart named on the command line: one
// render with those values instead of one per values set.
func TestHelmValuesFlags(t *testing.T) {
	_, r := lintJSON(t, "", "testdata/charts/shop", "-f", "testdata/charts/shop/ci/prod-values.yaml", "--set", "service.nodePort=30080", "--release-name", "web")
	want := []string{
		"recommended-labels testdata/charts/shop/charts/cache/templates/statefulset.yaml:3:1 [testdata/charts/shop with testdata/charts/shop/ci/prod-values.yaml]",
		"replicas-minimum testdata/charts/shop/charts/cache/templates/statefulset.yaml:5:1 [testdata/charts/shop with testdata/charts/shop/ci/prod-values.yaml]",
		"statefulset-service testdata/charts/shop/charts/cache/templates/statefulset.yaml:6:3 [testdata/charts/shop with testdata/charts/shop/ci/prod-values.yaml]",
		"missing-resource-limits testdata/charts/shop/charts/cache/templates/statefulset.yaml:16:11 [testdata/charts/shop with testdata/charts/shop/ci/prod-values.yaml]",
		"missing-resource-requests testdata/charts/shop/charts/cache/templates/statefulset.yaml:16:11 [testdata/charts/shop with testdata/charts/shop/ci/prod-values.yaml]",
		"missing-resource-requests testdata/charts/shop/charts/cache/templates/statefulset.yaml:16:11 [testdata/charts/shop with testdata/charts/shop/ci/prod-values.yaml]",
		"writable-root-filesystem testdata/charts/shop/charts/cache/templates/statefulset.yaml:16:11 [testdata/charts/shop with testdata/charts/shop/ci/prod-values.yaml]",
		"image-latest-tag testdata/charts/shop/charts/cache/templates/statefulset.yaml:17:11 [testdata/charts/shop with testdata/charts/shop/ci/prod-values.yaml] <testdata/charts/shop/values.yaml:13:3 value image set here>",
		"probes-identical testdata/charts/shop/charts/cache/templates/statefulset.yaml:20:11 [testdata/charts/shop with testdata/charts/shop/ci/prod-values.yaml]",
		"recommended-labels testdata/charts/shop/charts/queue-0.1.0.tgz:templates/service.yaml:3:1 [testdata/charts/shop with testdata/charts/shop/ci/prod-values.yaml]",
		"service-selects-nothing testdata/charts/shop/charts/queue-0.1.0.tgz:templates/service.yaml:6:3 [testdata/charts/shop with testdata/charts/shop/ci/prod-values.yaml]",
		"replicas-minimum testdata/charts/shop/templates/deployment.yaml:8:3 [testdata/charts/shop with testdata/charts/shop/ci/prod-values.yaml] <testdata/charts/shop/values.yaml:1:1 value replicaCount set here>",
		"missing-liveness-probe testdata/charts/shop/templates/deployment.yaml:18:11 [testdata/charts/shop with testdata/charts/shop/ci/prod-values.yaml]",
		"writable-root-filesystem testdata/charts/shop/templates/deployment.yaml:18:11 [testdata/charts/shop with testdata/charts/shop/ci/prod-values.yaml]",
		"missing-resource-requests testdata/charts/shop/templates/deployment.yaml:29:11 [testdata/charts/shop with testdata/charts/shop/ci/prod-values.yaml]",
		"missing-resource-limits testdata/charts/shop/templates/deployment.yaml:30:13 [testdata/charts/shop with testdata/charts/shop/ci/prod-values.yaml] <testdata/charts/shop/values.yaml:8:1 value resources set here>",
		"pdb-blocks-eviction testdata/charts/shop/templates/pdb.yaml:11:3 [testdata/charts/shop with testdata/charts/shop/ci/prod-values.yaml]",
	}
	wantFindings(t, r, want)
}

// helm template | klint -: positions are in the stream, and each finding
// names the template from the stream's "# Source:" comment.
func TestRenderedStreamNamesTemplates(t *testing.T) {
	data, err := os.ReadFile("../../testdata/rendered/shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, r := lintJSON(t, string(data), "-")
	var got []string
	for _, f := range r.Findings {
		got = append(got, f.Rule+" "+itoa(f.Line)+":"+itoa(f.Column)+" "+f.Template)
	}
	// In a stream, the namespace helm template wrote is all there is; in
	// the chart (TestChartsAndKustomizationsPointAtSources), pdb.yaml's
	// namespace comes from .Release.Namespace and is not reported.
	want := []string{
		"no-default-namespace 7:3 shop/templates/pdb.yaml",
		"pdb-blocks-eviction 9:3 shop/templates/pdb.yaml",
		"recommended-labels 19:1 shop/charts/queue/templates/service.yaml",
		"service-selects-nothing 22:3 shop/charts/queue/templates/service.yaml",
		"replicas-minimum 59:3 shop/templates/deployment.yaml",
		"missing-liveness-probe 71:11 shop/templates/deployment.yaml",
		"writable-root-filesystem 71:11 shop/templates/deployment.yaml",
		"image-latest-tag 72:11 shop/templates/deployment.yaml",
		"missing-resource-requests 80:11 shop/templates/deployment.yaml",
		"missing-resource-limits 81:13 shop/templates/deployment.yaml",
		"recommended-labels 88:1 shop/charts/cache/templates/statefulset.yaml",
		"replicas-minimum 90:1 shop/charts/cache/templates/statefulset.yaml",
		"statefulset-service 91:3 shop/charts/cache/templates/statefulset.yaml",
		"missing-resource-limits 101:11 shop/charts/cache/templates/statefulset.yaml",
		"missing-resource-requests 101:11 shop/charts/cache/templates/statefulset.yaml",
		"missing-resource-requests 101:11 shop/charts/cache/templates/statefulset.yaml",
		"writable-root-filesystem 101:11 shop/charts/cache/templates/statefulset.yaml",
		"image-latest-tag 102:11 shop/charts/cache/templates/statefulset.yaml",
		"probes-identical 105:11 shop/charts/cache/templates/statefulset.yaml",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

// The pre-commit hook's exact invocation: every changed .yaml/.yml/.json
// by name. A CI workflow and a package.json are skipped, a changed values
// file lints its chart, and a changed patch lints its kustomization.
func TestPreCommitHookInvocation(t *testing.T) {
	data, err := os.ReadFile("../../.pre-commit-hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var hooks []struct{ Entry string }
	if err := yaml.Unmarshal(data, &hooks); err != nil || len(hooks) != 1 {
		t.Fatalf("hooks: %v %v", hooks, err)
	}
	entry := strings.Fields(hooks[0].Entry)
	if entry[0] != "klint" {
		t.Fatalf("entry %q", hooks[0].Entry)
	}
	dir := t.TempDir()
	os.WriteFile(dir+"/workflow.yaml", []byte("on: push\njobs:\n  test: {runs-on: linux}\n"), 0o644)
	os.WriteFile(dir+"/package.json", []byte(`{"name": "site", "version": "1.0.0"}`), 0o644)
	args := append(entry[1:], dir+"/workflow.yaml", dir+"/package.json",
		"testdata/charts/shop/values.yaml", "testdata/charts/shop/templates/service.yaml",
		"testdata/kustomize/overlays/prod/replicas.yaml")
	code, r := lintJSON(t, "", args...)
	if r.Summary.Skipped != 2 || r.Summary.Charts != 1 || r.Summary.Kustomizations != 1 || r.Summary.Files != 0 {
		t.Errorf("summary %+v", r.Summary)
	}
	var rules []string
	for _, f := range r.Findings {
		rules = append(rules, f.Rule+"@"+f.File)
	}
	if !slices.Contains(rules, "nodeport-range@testdata/charts/shop/templates/service.yaml") ||
		!slices.Contains(rules, "plaintext-secret@testdata/kustomize/overlays/prod/replicas.yaml") {
		t.Errorf("findings %v", rules)
	}
	if code != 1 {
		t.Errorf("exit %d", code)
	}
}

// --exclude leaves out what a repository holds that klint should not read.
func TestExclude(t *testing.T) {
	_, r := lintJSON(t, "", "--exclude", "testdata/charts/broken", "--exclude", "**/lib", "testdata/charts")
	if r.Summary.Charts != 2 { // shop and checksums
		t.Errorf("summary %+v", r.Summary)
	}
	for _, f := range r.Findings {
		if strings.Contains(f.File, "broken") {
			t.Errorf("excluded chart linted: %s", f.File)
		}
	}
}

// .Capabilities.KubeVersion follows --kube-version: the fixture's PDB
// template picks policy/v1beta1 below 1.26, which 1.25 no longer serves.
func TestKubeVersionReachesTemplates(t *testing.T) {
	_, r := lintJSON(t, "", "--kube-version", "1.25", "--disable", "recommended-labels,service-selects-nothing,missing-liveness-probe,image-latest-tag,probes-identical,statefulset-service,replicas-minimum,missing-resource-limits,missing-resource-requests,writable-root-filesystem", "testdata/charts/shop")
	wantFindings(t, r, []string{
		"removed-api testdata/charts/shop/templates/pdb.yaml:4:1 [testdata/charts/shop; testdata/charts/shop with ci/prod-values.yaml]",
		"nodeport-range testdata/charts/shop/templates/service.yaml:16:7 [testdata/charts/shop with ci/prod-values.yaml]",
	})
}

// One run writes several reports: each --format pairs with the --output in
// its position, and the one without an output goes to stdout.
func TestSeveralOutputs(t *testing.T) {
	dir := t.TempDir()
	sarifFile, junitFile := filepath.Join(dir, "klint.sarif"), filepath.Join(dir, "klint.xml")
	code, out, errOut := klint(t, "", "--format", "sarif", "--output", sarifFile, "--format", "junit", "--output", junitFile, "--format", "github", testdata+"/demo")
	if code != 1 || !strings.HasPrefix(out, "::") || !strings.Contains(out, "\n::error file=") || errOut != "" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	s, _ := os.ReadFile(sarifFile)
	j, _ := os.ReadFile(junitFile)
	if !strings.Contains(string(s), `"exitCode": 1`) || !strings.HasPrefix(string(j), "<?xml") {
		t.Errorf("sarif %.200s\njunit %.200s", s, j)
	}
	for _, bad := range [][]string{
		{"--format", "text", "--format", "json"},          // two to stdout
		{"--format", "xml"},                               // unknown
		{"--output", "a", "--output", "b", "-o", "sarif"}, // an output without a format
	} {
		if code, _, errOut := klint(t, "", append(bad, testdata+"/demo")...); code != 2 || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q", bad, code, errOut)
		}
	}
}

// GITHUB_STEP_SUMMARY gets a Markdown table when the github format runs.
func TestGitHubStepSummary(t *testing.T) {
	summary := filepath.Join(t.TempDir(), "summary.md")
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	klint(t, "", "--format", "github", testdata+"/demo")
	b, _ := os.ReadFile(summary)
	if !strings.Contains(string(b), "| error | `nodeport-range` | `"+testdata+"/demo/shop.yaml:48:7` |") {
		t.Errorf("summary:\n%s", b)
	}
}
