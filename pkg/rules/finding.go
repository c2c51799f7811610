// Package rules is klint's one rule engine: built-in Go rules, Rego
// policies, schema and input findings, configuration and suppressions, all
// producing the same Finding. The CLI and the admission webhook both call
// Engine.Run, so they cannot disagree.
package rules

import (
	"fmt"
	"strings"
)

// Severity orders findings; higher is worse.
type Severity int

// Severities, in increasing order.
const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	}
	return "error"
}

// ParseSeverity reads "error", "warning" or "info".
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(s) {
	case "error":
		return Error, nil
	case "warning", "warn":
		return Warning, nil
	case "info":
		return Info, nil
	}
	return 0, fmt.Errorf("severity %q is not one of error, warning, info", s)
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// ObjectRef names the object a finding is about.
type ObjectRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
}

func (r ObjectRef) String() string {
	if r.Kind == "" {
		return ""
	}
	n := r.Name
	if n == "" {
		n = "<unnamed>"
	}
	if r.Namespace != "" {
		n = r.Namespace + "/" + n
	}
	return r.Kind + " " + n
}

// PatchOp is one JSON Patch (RFC 6902) operation on an object.
type PatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// Suppression says why a finding does not count.
type Suppression struct {
	By     string `json:"by"` // "annotation" or "config"
	Reason string `json:"reason"`
}

// Finding is one problem, from any source, resolved to a position.
type Finding struct {
	Rule       string       `json:"rule"`
	Severity   Severity     `json:"severity"`
	Message    string       `json:"message"`
	File       string       `json:"file"`
	Line       int          `json:"line"`
	Column     int          `json:"column"`
	Path       string       `json:"path"`
	Object     ObjectRef    `json:"object"`
	Container  string       `json:"container"`
	Fix        []PatchOp    `json:"fix,omitempty"`
	Suppressed *Suppression `json:"suppressed,omitempty"`
	// Approximate is set when the finding is on a rendered object and
	// the source of its field could not be known exactly.
	Approximate bool `json:"approximate,omitempty"`
	// Related are other places that explain the finding: the values file
	// line a template took its value from, the line that included a
	// named template.
	Related []RelatedLocation `json:"related,omitempty"`
	// Renders name the chart renders (values sets) or kustomizations that
	// produced the finding; empty for plain files. A finding that several
	// renders produce at the same source line is reported once.
	Renders []string `json:"renders,omitempty"`
	// Template is the chart template that a rendered stream (helm
	// template | klint -) names in its "# Source:" comment for the
	// finding's document.
	Template string `json:"template,omitempty"`

	warn bool // from a Rego warn set: severity at most Warning
	// settled, when set, is the severity a rule's Settle gave the
	// finding over the configured one.
	settled *Severity
	// settle is its report's Settle, until the finding is settled.
	settle func(f *Finding, run *Run) bool
}

// RelatedLocation is a second place that explains a finding.
type RelatedLocation struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}

// ObjectInFile is an object of the run and the file its findings point at.
type ObjectInFile struct {
	File   string
	Object ObjectRef
}

// Summary counts a run's inputs and findings. Suppressed findings are
// counted only under Suppressed.
type Summary struct {
	Files int `json:"files"`
	// Skipped are files found in directories that are not manifests:
	// YAML without any Kubernetes object.
	Skipped int `json:"skipped"`
	// Charts and Kustomizations are the rendered inputs.
	Charts         int `json:"charts"`
	Kustomizations int `json:"kustomizations"`
	Objects        int `json:"objects"`
	Errors         int `json:"errors"`
	Warnings       int `json:"warnings"`
	Infos          int `json:"infos"`
	Suppressed     int `json:"suppressed"`
	// Baselined are findings a baseline accepted (not in Findings).
	Baselined int `json:"baselined"`
}

// Result is the outcome of one run.
type Result struct {
	Findings []Finding `json:"findings"`
	// SuppressedFindings are kept so a report can show them on request.
	SuppressedFindings []Finding `json:"suppressed,omitempty"`
	// Baselined are the findings a baseline accepted.
	Baselined []Finding `json:"baselined,omitempty"`
	// Objects lists every object of the run and the file it is reported
	// in (for reports that list what passed, such as JUnit).
	Objects []ObjectInFile `json:"-"`
	Summary Summary        `json:"summary"`
	// Interrupted is the context's error when the run was cancelled or
	// ran past its deadline before every object was checked: the result
	// is then incomplete and must not be taken as a verdict.
	Interrupted error `json:"-"`
	// Omitted counts, by rule, the findings not kept because of
	// Options.MaxFindingsPerRule (before suppressions).
	Omitted map[string]int `json:"-"`
}

// HasInputErrors reports whether some input could not be read or
// rendered: a finding of an InputError rule that is reported (not
// suppressed or baselined).
func (r *Result) HasInputErrors() bool {
	for _, f := range r.Findings {
		if rule := registry[f.Rule]; rule != nil && rule.InputError {
			return true
		}
	}
	return false
}

// recount sets the summary's error, warning and info counts from Findings.
func (r *Result) recount() {
	r.Summary.Errors, r.Summary.Warnings, r.Summary.Infos = 0, 0, 0
	for _, f := range r.Findings {
		switch f.Severity {
		case Error:
			r.Summary.Errors++
		case Warning:
			r.Summary.Warnings++
		default:
			r.Summary.Infos++
		}
	}
}

// Worst is the highest severity among unsuppressed findings, and false when
// there are none.
func (r *Result) Worst() (Severity, bool) {
	worst, any := Info, false
	for _, f := range r.Findings {
		if !any || f.Severity > worst {
			worst, any = f.Severity, true
		}
	}
	return worst, any
}
