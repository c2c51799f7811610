package schema_test

import (
	"testing"

	"github.com/klint-dev/klint/internal/benchinput"
	"github.com/klint-dev/klint/pkg/apivalidation"
	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/schema"
)

// benchObjects are the objects of the corpus of real manifests when it is
// beside the repository (or $KLINT_CORPUS), else of this repository's
// fixtures, read once.
func benchObjects(b *testing.B) []*manifest.Object {
	dir := benchinput.Dir()
	var objs []*manifest.Object
	for _, in := range inputs.Expand([]string{dir}) {
		objs = append(objs, inputs.Read(in, nil, nil).Objects...)
	}
	b.Logf("input: %s (%d objects)", dir, len(objs))
	return objs
}

// BenchmarkCheck is the schema stage as a lint run has it: strict
// decoding into the API types, then the API server's own validation of
// built-in kinds (apivalidation), on one core.
func BenchmarkCheck(b *testing.B) {
	benchCheck(b, true)
}

// BenchmarkCheckDecodeOnly is the schema stage without the API server's
// validation: strict decoding and klint's own checks of the values.
func BenchmarkCheckDecodeOnly(b *testing.B) {
	benchCheck(b, false)
}

func benchCheck(b *testing.B, api bool) {
	objs := benchObjects(b)
	c, err := schema.New("")
	if err != nil {
		b.Fatal(err)
	}
	if api {
		c.WithAPIValidator(apivalidation.New())
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, o := range objs {
			c.Check(o)
		}
	}
	b.ReportMetric(float64(len(objs)*b.N)/b.Elapsed().Seconds(), "objects/s")
}
