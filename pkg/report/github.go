package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/klint-dev/klint/pkg/rules"
)

var _ = register("github", GitHub)

// GitHub writes GitHub Actions workflow commands, one per finding
// (::error, ::warning, ::notice), which the runner turns into annotations
// on the pull request; and, when run.StepSummary is set, a Markdown
// summary table for the job's page.
func GitHub(w io.Writer, run *Run) error {
	for _, f := range run.Result.Findings {
		cmd := "notice"
		switch f.Severity {
		case rules.Error:
			cmd = "error"
		case rules.Warning:
			cmd = "warning"
		}
		msg := f.Message
		if s := f.Object.String(); s != "" {
			msg += " (" + s + ")"
		}
		if _, err := fmt.Fprintf(w, "::%s file=%s,line=%d,col=%d,title=%s::%s\n", cmd,
			escapeProperty(f.File), f.Line, f.Column, escapeProperty("klint "+f.Rule), escapeData(msg)); err != nil {
			return err
		}
	}
	if run.StepSummary == nil {
		return nil
	}
	var b strings.Builder
	s := run.Result.Summary
	fmt.Fprintf(&b, "### klint\n\n%s, %s, %s, %d suppressed in %s, %s, %s (%s)\n\n",
		plural(s.Errors, "error"), plural(s.Warnings, "warning"), plural(s.Infos, "info"), s.Suppressed,
		plural(s.Files, "file"), plural(s.Charts, "chart"), plural(s.Kustomizations, "kustomization"), plural(s.Objects, "object"))
	if len(run.Result.Findings) > 0 {
		b.WriteString("| Severity | Rule | Location | Message |\n|---|---|---|---|\n")
		for _, f := range run.Result.Findings {
			fmt.Fprintf(&b, "| %s | `%s` | `%s:%d:%d` | %s |\n", f.Severity, f.Rule, f.File, f.Line, f.Column, markdownCell(f.Message))
		}
	}
	_, err := io.WriteString(run.StepSummary, b.String()+"\n")
	return err
}

// The replacers are built once: building one costs a hundred times what
// it takes to replace in a message, and there is one per finding.
var (
	dataEscaper     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	propertyEscaper = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
	cellEscaper     = strings.NewReplacer("|", "\\|", "\n", " ", "\r", " ")
)

// escapeData escapes a workflow command's message as the runner expects.
func escapeData(s string) string { return dataEscaper.Replace(s) }

// escapeProperty escapes a workflow command's property value.
func escapeProperty(s string) string { return propertyEscaper.Replace(s) }

func markdownCell(s string) string { return cellEscaper.Replace(s) }
