package engine

import (
	"context"
	"testing"

	"github.com/klint-dev/klint/internal/benchinput"
	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/manifest"
)

// benchInput is the corpus of real manifests when it is beside the
// repository (../shared/corpus, or $KLINT_CORPUS), else this repository's
// own fixtures.
func benchInput(b *testing.B) []inputs.Input {
	dir := benchinput.Dir()
	files := inputs.Expand([]string{dir})
	b.Logf("input: %s (%d files)", dir, len(files))
	return files
}

// BenchmarkEngineRun measures the engine alone (schema, Go rules, Rego) on
// objects already loaded; objects/s is reported.
func BenchmarkEngineRun(b *testing.B) {
	files := benchInput(b)
	var objs []*manifest.Object
	var probs []manifest.Problem
	for _, in := range files {
		l := inputs.Read(in, nil, nil)
		objs, probs = append(objs, l.Objects...), append(probs, l.Problems...)
	}
	e := newEngine(b, Options{})
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		e.RunObjects(context.Background(), objs, probs)
	}
	b.ReportMetric(float64(len(objs)*b.N)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkLoadAndRun measures a whole lint as the CLI runs it: each file
// read, parsed and checked in turn (RunInputs).
func BenchmarkLoadAndRun(b *testing.B) {
	files := benchInput(b)
	e := newEngine(b, Options{})
	var objects int
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		objects += e.RunInputs(context.Background(), Inputs{Inputs: files}).Summary.Objects
	}
	b.ReportMetric(float64(objects)/b.Elapsed().Seconds(), "objects/s")
}

// BenchmarkNewEngine measures start-up: scheme, policy compilation.
func BenchmarkNewEngine(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		newEngine(b, Options{})
	}
}
