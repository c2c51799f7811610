package fix

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klint-dev/klint/pkg/rules"
)

const twoDocs = `# leading comment
apiVersion: v1
kind: ConfigMap
metadata:
  name: a # keep me
data: {k: v}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    metadata:
      labels:
        app: web
`

// An addition to a block mapping is inserted before the mapping's first
// key, at its indentation, in the document it is for; every other byte of
// the file stays.
func TestApplyAddsOnlyTheLineItAdds(t *testing.T) {
	out, skipped := Apply([]byte(twoDocs), []Edit{{Doc: 1, Ops: []rules.PatchOp{{Op: "add", Path: "/spec/template/metadata/labels/tier", Value: "web"}}}})
	want := strings.Replace(twoDocs, "      labels:\n        app: web\n", "      labels:\n        tier: web\n        app: web\n", 1)
	if len(skipped) != 0 || string(out) != want {
		t.Errorf("skipped %q, out:\n%s", skipped, out)
	}
}

// What it cannot do exactly — a replace, an addition to a flow mapping,
// a document that is not there — is said, and the file left alone.
func TestApplySaysWhatItCannotDo(t *testing.T) {
	out, skipped := Apply([]byte(twoDocs), []Edit{
		{Doc: 0, Ops: []rules.PatchOp{{Op: "add", Path: "/data/k2", Value: "v2"}}},
		{Doc: 1, Ops: []rules.PatchOp{{Op: "replace", Path: "/metadata/name", Value: "api"}}},
	})
	if string(out) != twoDocs || len(skipped) != 2 {
		t.Fatalf("skipped %q, out:\n%s", skipped, out)
	}
	if !strings.Contains(skipped[1], "replace /metadata/name") {
		t.Errorf("skipped %q", skipped)
	}
}

// A diff's context never shows a secret value, though the lines are there.
func TestDiffHidesSecretValues(t *testing.T) {
	before := "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  password: hunter2\n"
	after := "apiVersion: v1\nkind: Secret\nmetadata:\n  labels:\n    app: x\n  name: s\nstringData:\n  password: hunter2\n"
	var b bytes.Buffer
	if err := Diff(&b, "s.yaml", []byte(before), []byte(after)); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "hunter2") || !strings.Contains(b.String(), "+  labels:") {
		t.Errorf("diff:\n%s", b.String())
	}
}

// WriteFile replaces the file whole, keeping its mode, and leaves no
// temporary file beside it.
func TestWriteFileReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "m.yaml")
	if err := os.WriteFile(p, []byte("old\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(p)
	if err := WriteFile(p, []byte("new\n")); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(p)
	data, _ := os.ReadFile(p)
	ents, _ := os.ReadDir(dir)
	if string(data) != "new\n" || after.Mode() != before.Mode() || len(ents) != 1 || os.SameFile(before, after) {
		t.Errorf("data %q, mode %v (was %v), %d entries, same inode %v", data, after.Mode(), before.Mode(), len(ents), os.SameFile(before, after))
	}
}
