package engine

import "github.com/klint-dev/klint/pkg/rules"

// ObjectInFile is an object of the run and the file its findings point at.
type ObjectInFile struct {
	File   string
	Object rules.ObjectRef
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
	Findings []rules.Finding `json:"findings"`
	// SuppressedFindings are kept so a report can show them on request.
	SuppressedFindings []rules.Finding `json:"suppressed,omitempty"`
	// Baselined are the findings a baseline accepted.
	Baselined []rules.Finding `json:"baselined,omitempty"`
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
		if rule := rules.Lookup(f.Rule); rule != nil && rule.InputError {
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
		case rules.Error:
			r.Summary.Errors++
		case rules.Warning:
			r.Summary.Warnings++
		default:
			r.Summary.Infos++
		}
	}
}

// Worst is the highest severity among unsuppressed findings, and false when
// there are none.
func (r *Result) Worst() (rules.Severity, bool) {
	worst, any := rules.Info, false
	for _, f := range r.Findings {
		if !any || f.Severity > worst {
			worst, any = f.Severity, true
		}
	}
	return worst, any
}
