package kustomize

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/klint-dev/klint/pkg/manifest"
)

// A remote resource is never fetched: the build fails with a render
// finding at the kustomization's line for it, and the local resources are
// still linted, as plain files. The server here is on loopback and counts
// what reaches it.
func TestRemoteResourcesAreNotFetched(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Write([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: remote}\n"))
	}))
	defer srv.Close()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("resources:\n  - cm.yaml\n  - "+srv.URL+"/cm.yaml\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: local}\n"), 0o644)
	objs, probs := Render(dir)
	if hits.Load() != 0 {
		t.Errorf("the remote resource was fetched %d times", hits.Load())
	}
	if len(objs) != 1 || objs[0].Name != "local" || objs[0].File != filepath.Join(dir, "cm.yaml") || len(probs) != 1 || probs[0].Kind != manifest.RenderFailed || probs[0].Pos.Line != 3 || probs[0].Pos.Column != 5 ||
		!strings.Contains(probs[0].Message, "works offline") {
		t.Errorf("objs %d, problems %+v", len(objs), probs)
	}
}

// The objects of a build are what kustomize build prints: the origin
// annotation klint asks for is gone, and annotations the user wrote stay.
func TestBuildLeavesNoOriginAnnotation(t *testing.T) {
	objs, probs := Render("../../testdata/kustomize/overlays/prod")
	if len(probs) != 0 || len(objs) != 2 {
		t.Fatalf("objs %d, problems %v", len(objs), probs)
	}
	for _, o := range objs {
		md := o.Value["metadata"].(map[string]any)
		if _, has := md["annotations"]; has {
			t.Errorf("%s has annotations %v", o.Name, md["annotations"])
		}
	}
}

// Deprecated kustomization fields, the overlay's and its base's, are
// problems at their key's line (kustomize only prints a warning).
func TestDeprecatedFieldsAreReported(t *testing.T) {
	dir := t.TempDir()
	base, overlay := filepath.Join(dir, "base"), filepath.Join(dir, "overlay")
	for _, d := range []string{base, overlay} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, content string) {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(base, "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: b}\n")
	write(filepath.Join(base, "kustomization.yaml"), "resources: [cm.yaml]\ncommonLabels:\n  app: demo\n")
	write(filepath.Join(overlay, "kustomization.yaml"), "resources:\n  - ../base\nimageTags: []\n")
	objs, probs := Render(overlay)
	if len(objs) != 1 {
		t.Fatalf("%d objects, problems %v", len(objs), probs)
	}
	want := map[string]manifest.Position{
		filepath.Join(overlay, "kustomization.yaml") + ": kustomize deprecates imageTags; use images": {Line: 3, Column: 1},
		filepath.Join(base, "kustomization.yaml") + ": kustomize deprecates commonLabels; use labels": {Line: 2, Column: 1},
	}
	got := 0
	for _, p := range probs {
		if p.Kind != manifest.DeprecatedField {
			continue
		}
		got++
		found := false
		for k, pos := range want {
			if strings.HasPrefix(p.File+": "+p.Message, k) && p.Pos == pos && p.Render == overlay {
				found = true
			}
		}
		if !found {
			t.Errorf("unexpected %+v", p)
		}
	}
	if got != len(want) {
		t.Errorf("%d deprecated fields reported, want %d: %v", got, len(want), probs)
	}
}
