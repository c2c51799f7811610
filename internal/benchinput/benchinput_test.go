package benchinput

import (
	"os"
	"path/filepath"
	"testing"
)

// $KLINT_CORPUS wins when it exists; otherwise the fixtures, found from
// the module's root whatever package the benchmark runs in.
func TestDir(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	corpus := t.TempDir()
	t.Setenv("KLINT_CORPUS", corpus)
	if got := Dir(); got != corpus {
		t.Errorf("Dir() = %s, want $KLINT_CORPUS %s", got, corpus)
	}
	t.Setenv("KLINT_CORPUS", filepath.Join(corpus, "missing"))
	if got, want := Dir(), filepath.Join(root, "testdata", "manifests"); got != want {
		t.Errorf("Dir() = %s, want the fixtures %s", got, want)
	}
	if _, err := os.Stat(Dir()); err != nil {
		t.Error(err)
	}
}
