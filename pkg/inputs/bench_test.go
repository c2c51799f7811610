package inputs

import (
	"os"
	"testing"

	"github.com/klint-dev/klint/internal/benchinput"
)

// BenchmarkRead measures reading and parsing: the corpus of real manifests
// when it is beside the repository, else this repository's fixtures.
func BenchmarkRead(b *testing.B) {
	files := Expand([]string{benchinput.Dir()})
	var size int64
	for _, f := range files {
		if st, err := os.Stat(f.Path); err == nil {
			size += st.Size()
		}
	}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		for _, in := range files {
			Read(in, nil, nil)
		}
	}
}
