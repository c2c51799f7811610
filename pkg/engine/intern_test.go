package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"unsafe"

	"github.com/klint-dev/klint/pkg/rules"
)

// A run's findings that say the same thing share one copy of their
// message, path and container name, held (the pod security rule's are
// held to the end of the run) and reported alike.
func TestRunFindingsShareTheirStrings(t *testing.T) {
	dir := t.TempDir()
	pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\nspec:\n  containers:\n  - name: app\n    image: nginx:1.27\n"
	var files []string
	for _, name := range []string{"a", "b", "c"} {
		f := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(f, []byte(fmt.Sprintf(pod, name)), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	e := newEngine(t, Options{Enable: []string{"pod-security-restricted"}})
	res := e.RunInputs(context.Background(), Inputs{Inputs: named(files...)})
	first := map[string]rules.Finding{}
	shared := 0
	for _, f := range res.Findings {
		if f.Rule != "pod-security-restricted" && f.Rule != "missing-resource-limits" {
			continue
		}
		key := f.Rule + "\x00" + f.Message + "\x00" + f.Path
		g, seen := first[key]
		if !seen {
			first[key] = f
			continue
		}
		if g.File == f.File {
			continue
		}
		shared++
		for _, s := range [][2]string{{g.Message, f.Message}, {g.Path, f.Path}, {g.Container, f.Container}} {
			if unsafe.StringData(s[0]) != unsafe.StringData(s[1]) {
				t.Errorf("%s in %s and %s: %q held twice", f.Rule, g.File, f.File, s[0])
			}
		}
	}
	if shared < 4 {
		t.Fatalf("only %d findings repeat another file's: the fixtures no longer exercise sharing", shared)
	}
}
