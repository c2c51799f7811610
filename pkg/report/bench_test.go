package report

import (
	"context"
	"io"
	"testing"

	"github.com/klint-dev/klint/internal/benchinput"
	"github.com/klint-dev/klint/pkg/apivalidation"
	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/rules"
)

// BenchmarkWrite writes one run's findings in each format: the lint of
// the corpus of real manifests when it is beside the repository (or
// $KLINT_CORPUS), else of this repository's fixtures.
func BenchmarkWrite(b *testing.B) {
	dir := benchinput.Dir()
	eng, err := engine.New(context.Background(), engine.Options{APIValidator: apivalidation.New()})
	if err != nil {
		b.Fatal(err)
	}
	res := eng.RunInputs(context.Background(), engine.Inputs{Inputs: inputs.Expand([]string{dir})})
	run := &Run{Result: res, Rules: eng.Rules(), ToolVersion: "bench", ExitCode: 1, FailOn: rules.Error}
	b.Logf("input: %s (%d findings)", dir, len(res.Findings))
	for _, format := range Names() {
		b.Run(format, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Write(io.Discard, format, run); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(res.Findings)*b.N)/b.Elapsed().Seconds(), "findings/s")
		})
	}
}
