package inputs

import (
	"os"
	"testing"
)

// BenchmarkRead measures reading and parsing: the corpus of real manifests
// when it is beside the repository, else this repository's fixtures.
func BenchmarkRead(b *testing.B) {
	dir := os.Getenv("KLINT_CORPUS")
	if dir == "" {
		dir = "../../../shared/corpus"
	}
	if _, err := os.Stat(dir); err != nil {
		dir = "../../testdata/manifests"
	}
	files := Expand([]string{dir})
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
