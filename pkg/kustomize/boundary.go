package kustomize

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/klint-dev/klint/pkg/boundary"
	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/manifest"
	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// boundedFS is the disk as kustomize sees it, read only inside the run's
// boundary: kustomize's own load restrictor keeps a kustomization's files
// under its root, but a base may be anywhere, and a symlink resolves
// wherever it points. Writes are refused: a build never writes.
type boundedFS struct {
	filesys.FileSystem
	b *boundary.Boundary
}

func (f boundedFS) ReadFile(p string) ([]byte, error) {
	if err := f.b.Check(p); err != nil {
		return nil, err
	}
	return f.FileSystem.ReadFile(p)
}

func (f boundedFS) Open(p string) (filesys.File, error) {
	if err := f.b.Check(p); err != nil {
		return nil, err
	}
	return f.FileSystem.Open(p)
}

func (f boundedFS) ReadDir(p string) ([]string, error) {
	if err := f.b.Check(p); err != nil {
		return nil, err
	}
	return f.FileSystem.ReadDir(p)
}

func (f boundedFS) Glob(pattern string) ([]string, error) {
	m, err := f.FileSystem.Glob(pattern)
	out := m[:0]
	for _, p := range m {
		if f.b.Contains(p) {
			out = append(out, p)
		}
	}
	return out, err
}

func (f boundedFS) Walk(p string, fn filepath.WalkFunc) error {
	if err := f.b.Check(p); err != nil {
		return err
	}
	return f.FileSystem.Walk(p, func(path string, info os.FileInfo, err error) error {
		if err == nil && !f.b.Contains(path) {
			return filepath.SkipDir
		}
		return fn(path, info, err)
	})
}

func (f boundedFS) Create(p string) (filesys.File, error) { return nil, errReadOnly(p) }
func (f boundedFS) Mkdir(p string) error                  { return errReadOnly(p) }
func (f boundedFS) MkdirAll(p string) error               { return errReadOnly(p) }
func (f boundedFS) RemoveAll(p string) error              { return errReadOnly(p) }
func (f boundedFS) WriteFile(p string, _ []byte) error    { return errReadOnly(p) }

func errReadOnly(p string) error {
	return &os.PathError{Op: "write", Path: p, Err: os.ErrPermission}
}

// remoteKeys are the kustomization keys whose entries kustomize loads as
// directories, and so fetches with git when they name a repository.
var remoteKeys = []string{"resources", "bases", "components", "generators", "transformers", "validators"}

// remoteEntries finds, in the kustomization in dir and every local one it
// builds on, the entries kustomize would fetch (a URL, a git or ssh
// address, a host-qualified repository path): klint works offline, so
// each is a problem at its line and the kustomization is not built.
func remoteEntries(dir string, b *boundary.Boundary) []manifest.Problem {
	var probs []manifest.Problem
	seen := map[string]bool{}
	var scan func(d string)
	scan = func(d string) {
		if seen[d] || !b.Contains(d) {
			return
		}
		seen[d] = true
		kfile := inputs.KustomizationFile(d)
		data, err := b.ReadFile(kfile, manifest.MaxFileSize)
		if err != nil {
			return
		}
		var root yaml.Node
		if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
			return
		}
		m := root.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			if !slices.Contains(remoteKeys, m.Content[i].Value) || m.Content[i+1].Kind != yaml.SequenceNode {
				continue
			}
			for _, e := range m.Content[i+1].Content {
				if e.Kind != yaml.ScalarNode {
					continue // an inline generator or transformer
				}
				local := filepath.Join(d, e.Value)
				if _, err := os.Lstat(local); err == nil {
					if st, err := os.Stat(local); err == nil && st.IsDir() {
						scan(filepath.Clean(local))
					}
					continue
				}
				if isRemote(e.Value) {
					probs = append(probs, manifest.Problem{Kind: manifest.RenderFailed, File: kfile, Pos: manifest.Position{Line: e.Line, Column: e.Column},
						Message: "remote " + strings.TrimSuffix(m.Content[i].Value, "s") + " not fetched: klint works offline and runs no program (kustomize would run git or make an HTTP request); vendor it into the repository, or render the kustomization before klint",
						Render:  dir})
				}
			}
		}
	}
	scan(filepath.Clean(dir))
	return probs
}

// isRemote reports whether kustomize would read an entry that is not on
// disk from the network: a URL, a git or ssh address, a repository with a
// query (?ref=), or a path whose first segment is a host name.
func isRemote(e string) bool {
	if strings.Contains(e, "://") || strings.HasPrefix(e, "git@") || strings.HasPrefix(e, "git::") ||
		strings.Contains(e, "?ref=") || strings.Contains(e, "?version=") || strings.Contains(e, "_git/") || strings.Contains(e, ".git") {
		return true
	}
	first, _, _ := strings.Cut(e, "/")
	return first != "." && first != ".." && strings.Contains(first, ".") && strings.Contains(e, "/")
}
