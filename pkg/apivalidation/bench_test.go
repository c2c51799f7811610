package apivalidation_test

import (
	"encoding/json"
	"testing"

	"github.com/klint-dev/klint/internal/benchinput"
	"github.com/klint-dev/klint/pkg/apivalidation"
	"github.com/klint-dev/klint/pkg/inputs"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// BenchmarkValidateCreate is the API server's create path alone (decode
// with defaults, conversion to the internal version, what admission and
// storage do first, the strategy's validation) on the JSON of every
// object of a kind it knows: the corpus of real manifests when it is
// beside the repository (or $KLINT_CORPUS), else this repository's
// fixtures; on one core.
func BenchmarkValidateCreate(b *testing.B) {
	dir := benchinput.Dir()
	v := apivalidation.New()
	type object struct {
		gvk  schema.GroupVersionKind
		data []byte
	}
	var objs []object
	for _, in := range inputs.Expand([]string{dir}) {
		for _, o := range inputs.Read(in, nil, nil).Objects {
			data, err := json.Marshal(o.Value)
			if err != nil {
				continue
			}
			gvk := schema.FromAPIVersionAndKind(o.APIVersion, o.Kind)
			if _, _, ok := v.ValidateCreate(gvk, data); ok {
				objs = append(objs, object{gvk, data})
			}
		}
	}
	b.Logf("input: %s (%d objects of known kinds)", dir, len(objs))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, o := range objs {
			v.ValidateCreate(o.gvk, o.data)
		}
	}
	b.ReportMetric(float64(len(objs)*b.N)/b.Elapsed().Seconds(), "objects/s")
}
