package kustomize

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/klint-dev/klint/pkg/boundary"
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
	objs, probs := Render(dir, nil)
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
func TestBuildLeavesNoSourceMark(t *testing.T) {
	objs, probs := Render("../../testdata/kustomize/overlays/prod", nil)
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

// A kustomization reached through a symlinked directory (kustomize reads
// its files by their real paths) still maps each field to its source
// line, in files named through the link, as the user named the
// kustomization.
func TestSymlinkedKustomizationMapsSources(t *testing.T) {
	abs, err := filepath.Abs("../../testdata/kustomize")
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(abs, link); err != nil {
		t.Fatal(err)
	}
	objs, probs := Render(filepath.Join(link, "overlays", "prod"), boundary.New(abs)) // outside git, the overlay alone would be the root
	if len(probs) != 0 {
		t.Fatalf("problems %v", probs)
	}
	for _, o := range objs {
		if o.Kind != "Deployment" {
			continue
		}
		loc, _ := o.Locate("spec.template.spec.containers[0]")
		if loc.File != filepath.Join(link, "base", "deployment.yaml") || loc.Line != 18 || loc.Column != 11 || loc.Approximate {
			t.Errorf("container at %+v", loc)
		}
		return
	}
	t.Fatal("no Deployment built")
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
	objs, probs := Render(overlay, boundary.New(dir))
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

// A kustomization that only lists resource files is read without
// kustomize, as its files: objects at their own files and lines, no
// mapper. What kustomize would judge differently is still built by
// kustomize, whose refusal is reported.
func TestListOnlyKustomization(t *testing.T) {
	cm := func(name string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata: {a: b}\n"
	}
	for _, tc := range []struct {
		name, kust string
		files      map[string]string
		listOnly   bool
		objects    int
		refusal    string // in the RenderFailed message when kustomize builds it and refuses
	}{
		{"files", "resources:\n- a.yaml\n- sub/b.yaml\n", map[string]string{"a.yaml": cm("a"), "sub/b.yaml": "---\n" + cm("b") + "---\n" + cm("c")}, true, 3, ""},
		{"with kind", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [a.yaml]\n", map[string]string{"a.yaml": cm("a")}, true, 1, ""},
		{"a transformer", "namePrefix: x-\nresources: [a.yaml]\n", map[string]string{"a.yaml": cm("a")}, false, 1, ""},
		{"one identity twice", "resources: [a.yaml, b.yaml]\n", map[string]string{"a.yaml": cm("a"), "b.yaml": cm("a")}, false, 2, "already registered id"},
		{"one identity, default namespace spelled out once", "resources: [a.yaml, b.yaml]\n", map[string]string{"a.yaml": cm("a"), "b.yaml": strings.Replace(cm("a"), "  name: a\n", "  name: a\n  namespace: default\n", 1)}, false, 2, "already registered id"},
		{"a file twice", "resources: [a.yaml, ./a.yaml]\n", map[string]string{"a.yaml": cm("a")}, false, 2, "already registered id"},
		{"a broken file", "resources: [a.yaml, b.yaml]\n", map[string]string{"a.yaml": cm("a"), "b.yaml": "kind: [\n"}, false, 1, "b.yaml"},
		{"no name", "resources: [a.yaml]\n", map[string]string{"a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"}, false, 1, "missing metadata.name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(tc.kust), 0o644)
			for f, body := range tc.files {
				os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
				os.WriteFile(filepath.Join(dir, f), []byte(body), 0o644)
			}
			_, ok := listOnly(dir, boundary.ForPaths(dir))
			if ok != tc.listOnly {
				t.Errorf("read as a list of files: %v, want %v", ok, tc.listOnly)
			}
			objs, probs := Render(dir, nil)
			if len(objs) != tc.objects {
				t.Errorf("%d objects, want %d (problems %v)", len(objs), tc.objects, probs)
			}
			var refused string
			for _, p := range probs {
				if p.Kind == manifest.RenderFailed {
					refused = p.Message
				}
			}
			if (tc.refusal == "") != (refused == "") || !strings.Contains(refused, tc.refusal) {
				t.Errorf("refusal %q, want one naming %q", refused, tc.refusal)
			}
			if !tc.listOnly {
				return
			}
			nameLine := map[string]int{"a": 4, "b": 5, "c": 11}
			for _, o := range objs {
				if o.Mapper != nil || o.Render != dir || !strings.HasPrefix(o.File, dir) {
					t.Errorf("%s: file %s, render %s, mapper %v", o.Name, o.File, o.Render, o.Mapper)
				}
				if pos, exact := o.Pos("metadata.name"); !exact || pos.Line != nameLine[o.Name] || pos.Column != 3 {
					t.Errorf("%s: metadata.name at %v", o.Name, pos)
				}
			}
		})
	}
}

// Each object of a resource file is marked with the file and its place in
// it, a List's items one by one, and nothing else in the file changes.
func TestMarkSources(t *testing.T) {
	in := "# a comment\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations: {keep: \"yes\"}\ndata: {on: \"off\"}\n---\napiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: b}}\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: c\n    annotations:\n---\n"
	out, ok := markSources("/k/res.yaml", []byte(in))
	if !ok {
		t.Fatal("not marked")
	}
	objs, probs := manifest.Parse("res.yaml", out)
	if len(probs) != 0 {
		t.Fatalf("%s\n%v", out, probs)
	}
	var got []string
	for _, o := range objs {
		md := o.Value["metadata"].(map[string]any)
		ann, _ := md["annotations"].(map[string]any)
		got = append(got, fmt.Sprintf("%s=%v,%v", o.Name, ann[sourceAnnotation], ann["keep"]))
	}
	if want := "a=/k/res.yaml#0,yes b=/k/res.yaml#1,<nil> c=/k/res.yaml#2,<nil>"; strings.Join(got, " ") != want {
		t.Errorf("marks %q, want %q\n%s", got, want, out)
	}
	if data := objs[0].Value["data"].(map[string]any); data["on"] != "off" || !strings.Contains(string(out), "# a comment") {
		t.Errorf("the file changed beyond the marks:\n%s", out)
	}
}

// No program runs: a git repository as a resource, in every spelling
// kustomize's remote loader takes, with a git on PATH that leaves a mark
// when it runs (kustomize's loader execs git for these). Each entry is a
// finding at its line, also in a base the overlay builds on, and the
// mark is never made.
func TestRemoteRepositoriesRunNoGit(t *testing.T) {
	bin, dir, repo := t.TempDir(), t.TempDir(), t.TempDir()
	mark := filepath.Join(bin, "ran")
	if err := os.WriteFile(filepath.Join(bin, "git"), []byte("#!/bin/sh\necho \"$@\" >> "+mark+"\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin)
	entries := []string{"git::file://" + repo, "file://" + repo, "github.com/example/repo//base?ref=v1", "git@github.com:example/repo.git", "ssh://git@example.com/repo.git", "https://example.com/repo.git//base"}
	base := filepath.Join(dir, "base")
	os.MkdirAll(base, 0o755)
	os.WriteFile(filepath.Join(base, "kustomization.yaml"), []byte("resources:\n  - "+strings.Join(entries, "\n  - ")+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("resources:\n  - base\n  - cm.yaml\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: local}\n"), 0o644)
	objs, probs := Render(dir, boundary.New(dir))
	if b, err := os.ReadFile(mark); err == nil {
		t.Fatalf("git ran: %s", b)
	}
	if len(objs) != 1 || objs[0].Name != "local" {
		t.Errorf("objects %v", objs)
	}
	if len(probs) != len(entries) {
		t.Fatalf("%d problems, want %d: %v", len(probs), len(entries), probs)
	}
	for i, p := range probs {
		if p.File != filepath.Join(base, "kustomization.yaml") || p.Pos.Line != i+2 || p.Pos.Column != 5 || !strings.HasPrefix(p.Message, "remote resource not fetched") {
			t.Errorf("entry %s: %v", entries[i], p)
		}
	}
}
