package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/rules"
)

var _ = register("text", func(w io.Writer, run *Run) error { return Text(w, run.Result, run.Color) })

const (
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	blue   = "\x1b[34m"
	bold   = "\x1b[1m"
	reset  = "\x1b[0m"
)

// Text writes one line per finding, file:line:col: severity rule: message
// (object), then a summary line.
func Text(w io.Writer, res *engine.Result, color bool) error {
	for _, f := range res.Findings {
		sev := f.Severity.String()
		if color {
			c := blue
			switch f.Severity {
			case rules.Error:
				c = red
			case rules.Warning:
				c = yellow
			}
			sev = c + sev + reset
		}
		loc := fmt.Sprintf("%s:%d:%d", f.File, f.Line, f.Column)
		if color {
			loc = bold + loc + reset
		}
		obj := ""
		if s := f.Object.String(); s != "" {
			obj = " (" + s + ")"
		}
		var extra strings.Builder
		if f.Template != "" {
			fmt.Fprintf(&extra, " [template %s]", f.Template)
		}
		if len(f.Renders) > 0 {
			fmt.Fprintf(&extra, " [%s]", renderList(f.Renders))
		}
		if f.Approximate {
			extra.WriteString(" (approximate position)")
		}
		if _, err := fmt.Fprintf(w, "%s: %s %s: %s%s%s\n", loc, sev, f.Rule, oneLine(f.Message), obj, extra.String()); err != nil {
			return err
		}
		for _, r := range f.Related {
			if _, err := fmt.Fprintf(w, "    %s:%d:%d: %s\n", r.File, r.Line, r.Column, r.Message); err != nil {
				return err
			}
		}
	}
	s := res.Summary
	skipped := ""
	if s.Skipped > 0 {
		skipped = fmt.Sprintf(" (%d skipped: YAML without Kubernetes objects)", s.Skipped)
	}
	renders := ""
	if s.Charts > 0 {
		renders += ", " + plural(s.Charts, "chart")
	}
	if s.Kustomizations > 0 {
		renders += ", " + plural(s.Kustomizations, "kustomization")
	}
	baselined := ""
	if s.Baselined > 0 {
		baselined = fmt.Sprintf(", %d baselined", s.Baselined)
	}
	_, err := fmt.Fprintf(w, "%s%s%s, %s: %s, %s, %s, %d suppressed%s\n",
		plural(s.Files, "file"), skipped, renders, plural(s.Objects, "object"),
		plural(s.Errors, "error"), plural(s.Warnings, "warning"), plural(s.Infos, "info"), s.Suppressed, baselined)
	return err
}

// renderList names the renders of a finding compactly: the values sets
// of one chart together ("charts/shop: default values, ci/prod-values.yaml").
func renderList(renders []string) string {
	var bases []string
	sets := map[string][]string{}
	defaults := map[string]bool{}
	for _, r := range renders {
		base, set, with := strings.Cut(r, " with ")
		if _, seen := sets[base]; !seen {
			bases = append(bases, base)
			sets[base] = nil
		}
		if with {
			sets[base] = append(sets[base], set)
		} else {
			defaults[base] = true
		}
	}
	parts := make([]string, len(bases))
	for i, b := range bases {
		parts[i] = b
		if len(sets[b]) > 0 {
			if defaults[b] {
				sets[b] = append([]string{"default values"}, sets[b]...)
			}
			if len(sets[b]) > 3 {
				// A line per finding stays readable: the names are in
				// the JSON and SARIF outputs.
				parts[i] += ": " + plural(len(sets[b]), "values set")
			} else {
				parts[i] += ": " + strings.Join(sets[b], ", ")
			}
		}
	}
	return strings.Join(parts, "; ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// oneLine keeps a finding on its line: a message that carries a tool's
// multi-line output (an error wrapping another program's stderr) has its
// line breaks said as "; ".
func oneLine(msg string) string {
	if !strings.ContainsAny(msg, "\r\n") {
		return msg
	}
	lines := strings.FieldsFunc(msg, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(slices.DeleteFunc(lines, func(l string) bool { return l == "" }), "; ")
}
