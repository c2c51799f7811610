package report

import (
	"io"

	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/rules"
)

var _ = register("json", func(w io.Writer, run *Run) error { return JSON(w, run.Result) })

// JSON writes the documented JSON document.
func JSON(w io.Writer, res *engine.Result) error {
	out := struct {
		Findings   []rules.Finding `json:"findings"`
		Suppressed []rules.Finding `json:"suppressed"`
		Summary    engine.Summary  `json:"summary"`
	}{res.Findings, res.SuppressedFindings, res.Summary}
	if out.Findings == nil {
		out.Findings = []rules.Finding{}
	}
	if out.Suppressed == nil {
		out.Suppressed = []rules.Finding{}
	}
	return writeIndented(w, out, "  ")
}
