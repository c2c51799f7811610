package report

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klint-dev/klint/pkg/apivalidation"
	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/helm"
	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/render"
	"github.com/klint-dev/klint/pkg/rules"
	"github.com/xeipuuv/gojsonschema"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/report")

// fixtureRun lints the demo manifests (with a suppression and a fix), a
// chart (renders, related locations) and a file with a syntax error, from
// the repository root so that paths are relative to it.
func fixtureRun(t *testing.T) *Run {
	t.Helper()
	t.Chdir("../..")
	eng, err := engine.New(context.Background(), engine.Options{APIValidator: apivalidation.New(), Disable: []string{"pod-security-restricted"}})
	if err != nil {
		t.Fatal(err)
	}
	files := inputs.Expand([]string{"testdata/manifests/demo", "testdata/charts/shop", "testdata/charts/broken", "testdata/manifests/loader/multi.yaml", "testdata/manifests/workload-selector-mismatch/bad.yaml"})
	res := eng.RunInputs(context.Background(), engine.Inputs{Inputs: files, Render: render.Func(helm.Options{KubeVersion: eng.KubeVersion()})})
	if len(res.Findings) < 10 {
		t.Fatalf("only %d findings", len(res.Findings))
	}
	return &Run{Result: res, Rules: eng.Rules(), ToolVersion: "test", ExitCode: 2, FailOn: rules.Warning}
}

func render1(t *testing.T, run *Run, format string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, format, run); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Every format's output on the fixtures is its golden file, byte for
// byte (go test ./pkg/report -update rewrites them).
func TestGolden(t *testing.T) {
	run := fixtureRun(t)
	for _, format := range Names() {
		got := render1(t, run, format)
		golden := filepath.Join("testdata", "report", format+".golden")
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./pkg/report -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s output differs from %s (run go test ./pkg/report -update and review the diff)", format, golden)
		}
	}
}

// The SARIF log is valid against the official SARIF 2.1.0 schema, and its
// regions are exactly the lines and columns of the findings.
func TestSARIFIsValidAndExact(t *testing.T) {
	run := fixtureRun(t)
	out := render1(t, run, "sarif")
	schema, err := os.ReadFile("testdata/report/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	v, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(schema), gojsonschema.NewBytesLoader(out))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range v.Errors() {
		t.Errorf("schema: %s", e)
	}
	var log struct {
		Runs []struct {
			Tool struct {
				Driver struct {
					Rules []struct{ ID string }
				}
			}
			Results []struct {
				RuleID    string
				RuleIndex int
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI, URIBaseID string }
						Region           struct{ StartLine, StartColumn int }
					}
				}
				Suppressions []struct{ Kind, Justification string }
			}
			Invocations []struct{ ExitCode int }
		}
	}
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	r := log.Runs[0]
	all := append(append([]rules.Finding{}, run.Result.Findings...), run.Result.SuppressedFindings...)
	if len(r.Results) != len(all) || r.Invocations[0].ExitCode != 2 {
		t.Fatalf("%d results for %d findings; invocation %+v", len(r.Results), len(all), r.Invocations)
	}
	for i, f := range all {
		res := r.Results[i]
		loc := res.Locations[0].PhysicalLocation
		if res.RuleID != f.Rule || r.Tool.Driver.Rules[res.RuleIndex].ID != f.Rule || loc.ArtifactLocation.URI != filepath.ToSlash(f.File) ||
			loc.ArtifactLocation.URIBaseID != "%SRCROOT%" || loc.Region.StartLine != f.Line || loc.Region.StartColumn != f.Column {
			t.Errorf("result %d = %+v, finding %s %s:%d:%d", i, res, f.Rule, f.File, f.Line, f.Column)
		}
		if (f.Suppressed != nil) != (len(res.Suppressions) == 1) {
			t.Errorf("result %d suppressions %+v, finding %+v", i, res.Suppressions, f.Suppressed)
		}
	}
}

// The JUnit report is well-formed XML whose counts add up: one failure
// per object with findings at or above --fail-on.
func TestJUnitIsWellFormed(t *testing.T) {
	run := fixtureRun(t)
	var doc junitSuites
	if err := xml.Unmarshal(render1(t, run, "junit"), &doc); err != nil {
		t.Fatal(err)
	}
	tests, failures, failing := 0, 0, 0
	for _, s := range doc.Suites {
		tests += len(s.Cases)
		for _, c := range s.Cases {
			if len(c.Failures) > 0 {
				failures++
			}
			failing += len(c.Failures)
		}
	}
	atOrAbove := 0
	for _, f := range run.Result.Findings {
		if f.Severity >= run.FailOn {
			atOrAbove++
		}
	}
	if doc.Tests != tests || doc.Failures != failures || failing != atOrAbove || tests == 0 {
		t.Errorf("tests %d/%d, failures %d/%d, failure elements %d, findings at or above fail-on %d", doc.Tests, tests, doc.Failures, failures, failing, atOrAbove)
	}
}

// Workflow commands escape what GitHub's runner would otherwise read as
// the end of a property or of the command.
func TestGitHubEscaping(t *testing.T) {
	res := &engine.Result{Findings: []rules.Finding{{
		Rule: "schema", Severity: rules.Error, Message: "100% wrong:\nsee a,b", File: "dir,x/a:b.yaml", Line: 3, Column: 7,
	}}, Summary: engine.Summary{Errors: 1, Files: 1, Objects: 1}}
	var summary bytes.Buffer
	out := render1(t, &Run{Result: res, StepSummary: &summary}, "github")
	want := "::error file=dir%2Cx/a%3Ab.yaml,line=3,col=7,title=klint schema::100%25 wrong:%0Asee a,b\n"
	if string(out) != want {
		t.Errorf("got  %q\nwant %q", out, want)
	}
	// One of each is said in the singular.
	if !strings.Contains(summary.String(), "| error | `schema` | `dir,x/a:b.yaml:3:7` | 100% wrong: see a,b |") ||
		!strings.Contains(summary.String(), "1 error, 0 warnings, 0 infos, 0 suppressed in 1 file, 0 charts, 0 kustomizations (1 object)") {
		t.Errorf("summary:\n%s", summary.String())
	}
}

// A rule's SARIF security-severity comes from the rule itself: the Go
// rules that set it, a Rego policy's custom.security-severity, and none
// for a rule that is not about security.
func TestSARIFSecuritySeverityFromTheRule(t *testing.T) {
	want := map[string]string{"plaintext-secret": "8.0", "pod-security-baseline": "7.0", "allowed-registries": "6.0", "image-latest-tag": "5.0", "service-selects-nothing": ""}
	eng, err := engine.New(context.Background(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rs := eng.Rules()
	for id, sev := range want {
		var r *rules.Rule
		for _, x := range rs {
			if x.ID == id {
				r = x
			}
		}
		if r == nil {
			t.Fatalf("no rule %s", id)
		}
		props := sarifRule(id, r).Properties
		got, _ := props.Properties["security-severity"].(string)
		if got != sev || (sev != "") != slices.Contains(props.Tags, "security") {
			t.Errorf("%s: security-severity %q, tags %v; want %q", id, got, props.Tags, sev)
		}
	}
}

// The text format keeps one line per finding, whatever a message carries.
func TestTextKeepsOneLinePerFinding(t *testing.T) {
	res := &engine.Result{Findings: []rules.Finding{{
		Rule: "render", Severity: rules.Error, Message: "kustomization does not build: accumulating resources\n: exit status 128\r\n", File: "k/kustomization.yaml", Line: 3, Column: 5,
	}}}
	out := string(render1(t, &Run{Result: res}, "text"))
	want := "k/kustomization.yaml:3:5: error render: kustomization does not build: accumulating resources; : exit status 128\n"
	if !strings.HasPrefix(out, want) {
		t.Errorf("got %q\nwant prefix %q", out, want)
	}
}

// A finding of many values sets of one chart names them compactly on its
// text line; a few are named.
func TestTextNamesManyRendersCompactly(t *testing.T) {
	renders := []string{"charts/x"}
	for _, n := range []string{"a", "b", "c", "d"} {
		renders = append(renders, "charts/x with ci/"+n+"-values.yaml")
	}
	res := &engine.Result{Findings: []rules.Finding{
		{Rule: "schema", Severity: rules.Error, Message: "m", File: "t.yaml", Line: 1, Column: 1, Renders: renders},
		{Rule: "schema", Severity: rules.Error, Message: "m", File: "t.yaml", Line: 2, Column: 1, Renders: renders[:3]},
	}}
	out := string(render1(t, &Run{Result: res}, "text"))
	for _, want := range []string{"t.yaml:1:1: error schema: m [charts/x: 5 values sets]\n", "t.yaml:2:1: error schema: m [charts/x: default values, ci/a-values.yaml, ci/b-values.yaml]\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
