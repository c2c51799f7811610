// Package benchinput picks what the benchmarks read: the corpus of real
// manifests beside the repository (../shared/corpus, or $KLINT_CORPUS)
// when it is there, else the repository's own fixtures (testdata/manifests),
// so that a benchmark runs anywhere and measures the corpus where it can.
package benchinput

import (
	"os"
	"path/filepath"
)

// Dir is the directory the benchmarks read.
func Dir() string {
	root := moduleRoot()
	dir := os.Getenv("KLINT_CORPUS")
	if dir == "" {
		dir = filepath.Join(root, "..", "shared", "corpus")
	}
	if _, err := os.Stat(dir); err != nil {
		dir = filepath.Join(root, "testdata", "manifests")
	}
	return filepath.Clean(dir)
}

// moduleRoot is the directory of go.mod above the working directory (a
// test runs in its package's directory).
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}
