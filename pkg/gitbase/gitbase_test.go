package gitbase

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// A snapshot knows which files changed, reads a file at the revision
// without writing it, copies a directory (links as links) only when
// asked, and says what the working tree lost.
func TestSnapshot(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"a.yaml": "a: 1\n", "b.yaml": "b: 1\n", "gone.yaml": "g: 1\n", "chart/Chart.yaml": "name: c\n", "chart/values.yaml": "v: 1\n"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
	}
	os.Symlink("values.yaml", filepath.Join(dir, "chart", "link.yaml"))
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := repo.Worktree()
	wt.AddWithOptions(&git.AddOptions{All: true})
	if _, err := wt.Commit("base", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Unix(1e9, 0)}}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "b.yaml"), []byte("b: 2\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "chart/values.yaml"), []byte("v: 2\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "new.yaml"), []byte("n: 1\n"), 0o644)
	os.Remove(filepath.Join(dir, "gone.yaml"))

	s, err := Take(dir, "HEAD", []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Remove()
	for p, want := range map[string]bool{"a.yaml": false, "b.yaml": true, "new.yaml": false, "gone.yaml": true, "chart": true, ".": true} {
		if got := s.Changed(filepath.Join(dir, p)); got != want {
			t.Errorf("Changed(%s) = %v", p, got)
		}
	}
	if got := s.Deleted(); !slices.Equal(got, []string{filepath.Join(s.Root, "gone.yaml")}) {
		t.Errorf("Deleted = %q", got)
	}
	if data, ok := s.ReadFile(filepath.Join(dir, "b.yaml")); !ok || string(data) != "b: 1\n" {
		t.Errorf("ReadFile(b.yaml) = %q, %v", data, ok)
	}
	if _, ok := s.ReadFile(filepath.Join(dir, "new.yaml")); ok {
		t.Error("ReadFile read a file the revision does not have")
	}
	if left, _ := os.ReadDir(s.Dir); len(left) != 0 {
		t.Errorf("written before asked: %v", left)
	}
	if err := s.Materialize(filepath.Join(dir, "chart")); err != nil {
		t.Fatal(err)
	}
	at, _ := s.Path(filepath.Join(dir, "chart"))
	if data, _ := os.ReadFile(filepath.Join(at, "values.yaml")); string(data) != "v: 1\n" {
		t.Errorf("chart/values.yaml at the revision: %q", data)
	}
	if target, err := os.Readlink(filepath.Join(at, "link.yaml")); err != nil || target != "values.yaml" {
		t.Errorf("chart/link.yaml: %q, %v", target, err)
	}
	s.Remove()
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Errorf("snapshot directory left: %v", err)
	}
	if _, err := Take(dir, "v9", []string{dir}); err == nil || !strings.Contains(err.Error(), "--base v9: no such revision") {
		t.Errorf("unknown revision: %v", err)
	}
}
