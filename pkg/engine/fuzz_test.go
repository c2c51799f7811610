package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/manifest"
)

// FuzzEngine feeds arbitrary bytes through the loader and the whole engine:
// nothing may panic, every finding must point inside the input, and the
// streamed run (objects kept for the end as their source and parsed
// again) must give exactly the result of the run of everything loaded.
func FuzzEngine(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(testdata, "*", "*.yaml"))
	more, _ := filepath.Glob(filepath.Join(testdata, "*", "*", "*.yaml"))
	for _, s := range append(seeds, more...) {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [1, {kind: Pod}, {apiVersion: v1, kind: Service, spec: {ports: [{nodePort: -1}]}}]\n"))
	f.Add([]byte("apiVersion: apps/v1\nkind: Deployment\nspec: {selector: {matchExpressions: [{key: a, operator: Bogus}]}, template: {spec: {containers: [{name: a, image: 'x:y:z'}]}}}\n"))
	// Every rule, those off until enabled too.
	e := newEngine(f, Options{Enable: []string{"pod-security-baseline", "pod-security-restricted"}})
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, probs := manifest.Parse("<stdin>", data)
		res := e.RunObjects(context.Background(), objs, probs)
		if len(objs)+len(probs) > 0 { // an empty named input is a problem of its own when streamed
			streamed := e.RunInputs(context.Background(), Inputs{Inputs: named(inputs.Stdin), Stdin: bytes.NewReader(data)})
			a, _ := json.Marshal(res)
			b, _ := json.Marshal(streamed)
			if !bytes.Equal(a, b) {
				t.Fatalf("streamed run differs:\n%s\n%s", b, a)
			}
		}
		lines := bytes.Count(data, []byte{'\n'}) + 1
		if lines == 1 {
			// No line feed at all: lines are numbered by carriage
			// returns, as a classic Mac editor and the parser do.
			lines = bytes.Count(data, []byte{'\r'}) + 1
		}
		for _, fd := range append(res.Findings, res.SuppressedFindings...) {
			if fd.Line < 1 || fd.Line > lines || fd.Column < 1 {
				t.Fatalf("finding outside the input (%d lines): %+v", lines, fd)
			}
		}
	})
}
