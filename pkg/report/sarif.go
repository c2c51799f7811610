package report

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/rules"
	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
)

var _ = register("sarif", SARIF)

// SARIF writes a SARIF 2.1.0 log: one run, a rules entry per rule that
// fired, a result per finding (suppressed ones with their suppression),
// each at the exact line and column of the JSON output.
func SARIF(w io.Writer, run *Run) error {
	rep := sarif.NewReport()
	sr := sarif.NewRunWithInformationURI("klint", "https://github.com/klint-dev/klint")
	sr.Tool.Driver.WithVersion(run.ToolVersion)
	sr.WithOriginalUriBaseIds(map[string]sarif.ArtifactLocation{"%SRCROOT%": *sarif.NewArtifactLocation().WithURI("./")})
	index := map[string]int{}
	fired := func(id string) int {
		if i, ok := index[id]; ok {
			return i
		}
		index[id] = len(sr.Tool.Driver.Rules)
		sr.Tool.Driver.Rules = append(sr.Tool.Driver.Rules, sarifRule(id, run.rule(id)))
		return index[id]
	}
	all := append(append([]rules.Finding{}, run.Result.Findings...), run.Result.SuppressedFindings...)
	for _, f := range all {
		sr.AddResult(sarifResult(f, fired(f.Rule)))
	}
	sr.AddInvocation(sarif.NewInvocation().WithExecutionSuccessful(run.ExitCode != 2).WithExitCode(run.ExitCode))
	rep.AddRun(sr)
	return writeIndented(w, rep, "  ")
}

func sarifRule(id string, r *rules.Rule) *sarif.ReportingDescriptor {
	d := sarif.NewRule(id).WithName(id)
	props := sarif.NewPropertyBag()
	if r == nil { // cannot happen: every finding's rule is registered
		return d
	}
	d.WithShortDescription(sarif.NewMultiformatMessageString().WithText(r.Description)).
		WithFullDescription(sarif.NewMultiformatMessageString().WithText(strings.TrimSpace(r.Description + " " + r.Rationale))).
		WithHelp(sarif.NewMultiformatMessageString().
			WithText("Why: " + r.Rationale + "\nFix: " + r.Remediation).
			WithMarkdown("**Why:** " + r.Rationale + "\n\n**Fix:** " + r.Remediation)).
		WithHelpURI("https://github.com/klint-dev/klint/blob/main/docs/rules.md#" + id).
		WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(level(r.Severity)))
	props.AddTag(string(r.Source))
	if r.SecuritySeverity > 0 {
		props.AddTag("security")
		props.Add("security-severity", strconv.FormatFloat(r.SecuritySeverity, 'f', 1, 64))
	}
	return d.WithProperties(props)
}

func level(s rules.Severity) string {
	switch s {
	case rules.Error:
		return "error"
	case rules.Warning:
		return "warning"
	}
	return "note"
}

func sarifResult(f rules.Finding, ruleIndex int) *sarif.Result {
	res := sarif.NewResult().WithRuleID(f.Rule).WithRuleIndex(ruleIndex).
		WithLevel(level(f.Severity)).WithMessage(sarif.NewTextMessage(f.Message))
	loc := sarifLocation(f.File, f.Line, f.Column)
	if f.Object.Kind != "" {
		name := f.Object.Kind + "/" + f.Object.Name
		if f.Object.Namespace != "" {
			name = f.Object.Kind + "/" + f.Object.Namespace + "/" + f.Object.Name
		}
		ll := sarif.NewLogicalLocation().WithName(f.Object.Name).WithKind("object").WithFullyQualifiedName(name)
		if f.Path != "" {
			ll.WithFullyQualifiedName(name + ":" + f.Path)
		}
		loc.AddLogicalLocation(ll)
	}
	res.AddLocation(loc)
	for _, r := range f.Related {
		res.AddRelatedLocation(sarifLocation(r.File, r.Line, r.Column).WithMessage(sarif.NewTextMessage(r.Message)))
	}
	res.WithPartialFingerprints(map[string]string{"klintFinding/v1": fingerprint(f)})
	props := sarif.NewPropertyBag()
	if len(f.Renders) > 0 {
		props.Add("renders", f.Renders)
	}
	if f.Approximate {
		props.Add("approximate", true)
	}
	if f.Container != "" {
		props.Add("container", f.Container)
	}
	if len(f.Fix) > 0 {
		// SARIF's fixes need the exact text edits; the JSON Patch the rule
		// offers (the one the mutating webhook applies) is kept here.
		props.Add("fix", f.Fix)
	}
	if len(props.Properties) > 0 {
		res.WithProperties(props)
	}
	if f.Suppressed != nil {
		kind := "external"
		if f.Suppressed.By == "annotation" {
			kind = "inSource"
		}
		res.AddSuppression(sarif.NewSuppression().WithKind(kind).WithJustification(f.Suppressed.Reason))
	}
	return res
}

// sarifLocation points at a file relative to the working directory.
func sarifLocation(file string, line, col int) *sarif.Location {
	uri := filepath.ToSlash(filepath.Clean(file))
	u := &url.URL{Path: uri}
	region := sarif.NewRegion().WithStartLine(max(line, 1)).WithStartColumn(max(col, 1))
	return sarif.NewLocationWithPhysicalLocation(sarif.NewPhysicalLocation().
		WithArtifactLocation(sarif.NewArtifactLocation().WithURI(u.EscapedPath()).WithURIBaseID("%SRCROOT%")).
		WithRegion(region))
}

// fingerprint identifies a finding across runs without its line, as a
// baseline does: moving lines keeps it, renaming the file or the object
// makes a new one.
func fingerprint(f rules.Finding) string {
	h := sha256.Sum256([]byte(engine.StableKey(f)))
	return hex.EncodeToString(h[:16])
}
