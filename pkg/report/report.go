// Package report writes a run's findings in the formats people and CI
// systems read — text, JSON, SARIF, JUnit, GitHub Actions commands — each
// formatter in a file of its own, registered here in one place; and the
// rule list as text and Markdown.
package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/rules"
)

// Run is what a formatter reports on: the run's result, the metadata of
// every rule (SARIF describes the ones that fired), and how the run ended.
type Run struct {
	Result *engine.Result
	// Rules are all rules the engine knows.
	Rules []*rules.Rule
	// ToolVersion is klint's version.
	ToolVersion string
	// ExitCode is the exit code the run ends with.
	ExitCode int
	// FailOn is the lowest severity that fails the run.
	FailOn rules.Severity
	// Color asks the text format for ANSI colours.
	Color bool
	// StepSummary, when set, receives the github format's Markdown
	// summary (the file GITHUB_STEP_SUMMARY names).
	StepSummary io.Writer
}

// rule returns the metadata of a rule by ID, or nil.
func (r *Run) rule(id string) *rules.Rule {
	for _, x := range r.Rules {
		if x.ID == id {
			return x
		}
	}
	return nil
}

// Formatter writes a run in one format.
type Formatter func(w io.Writer, run *Run) error

var formats = map[string]Formatter{}

// register adds a format; called from each format's file.
func register(name string, f Formatter) Formatter {
	formats[name] = f
	return f
}

// Names lists the formats, sorted.
func Names() []string {
	out := make([]string, 0, len(formats))
	for n := range formats {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Write writes run in the named format.
func Write(w io.Writer, format string, run *Run) error {
	f, ok := formats[format]
	if !ok {
		return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Names(), ", "))
	}
	return f(w, run)
}
