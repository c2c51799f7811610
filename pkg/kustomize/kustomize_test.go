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
