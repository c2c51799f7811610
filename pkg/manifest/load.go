package manifest

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
)

// Stdin is the path that stands for standard input.
const Stdin = "-"

// Set is everything read from a run's inputs, in input order.
type Set struct {
	Files    int
	Objects  []*Object
	Problems []Problem
	// Skipped are files found in directories that are not manifests of
	// their own: YAML with no Kubernetes object at all (CI workflows, Helm
	// values, docker-compose files) and kustomize patches.
	Skipped []string
}

// Input is a file to read. Found is true for files found by walking a
// directory, rather than named by the user: those are skipped quietly when
// they are YAML that is not Kubernetes objects at all.
type Input struct {
	Path  string
	Found bool
	// KustomizePatch marks a found file that a kustomization uses as a
	// patch: a fragment, skipped rather than linted as an object.
	KustomizePatch bool
}

// Inputs names files explicitly.
func Inputs(paths ...string) []Input {
	out := make([]Input, len(paths))
	for i, p := range paths {
		out[i] = Input{Path: p}
	}
	return out
}

// IsManifestFile reports whether a file found while walking a directory is
// read: YAML and JSON files. Files named on the command line are always read.
func IsManifestFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// skipDirs are directories never searched: version control metadata and
// dependency trees.
var skipDirs = map[string]bool{".git": true, ".hg": true, ".svn": true, "node_modules": true, "vendor": true}

// Expand turns command-line paths into the list of files to read:
// directories are walked recursively (skipping .git, node_modules and the
// like), files are taken as given, and "-" stays "-". A path that does not
// exist is an error: the user asked for something that is not there.
func Expand(paths []string) ([]Input, error) {
	var files []Input
	for _, p := range paths {
		if p == Stdin {
			files = append(files, Input{Path: p})
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, unwrapPathError(err))
		}
		if !info.IsDir() {
			files = append(files, Input{Path: p})
			continue
		}
		var found []string
		patches := map[string]bool{}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("%s: %w", path, unwrapPathError(err))
			}
			if d.IsDir() {
				if path != p && skipDirs[d.Name()] {
					return filepath.SkipDir
				}
				for _, patch := range kustomizePatches(path) {
					patches[patch] = true
				}
				return nil
			}
			if IsManifestFile(path) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		for _, f := range found {
			files = append(files, Input{Path: f, Found: true, KustomizePatch: patches[filepath.Clean(f)]})
		}
	}
	return files, nil
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// Load reads and parses the files in parallel. Unreadable files become
// Unreadable problems; the rest are still read. stdin is used for "-".
func Load(files []Input, stdin io.Reader) *Set {
	type result struct {
		objs    []*Object
		probs   []Problem
		skipped bool
	}
	results := make([]result, len(files))
	var wg sync.WaitGroup
	work := make(chan int)
	workers := min(runtime.GOMAXPROCS(0), len(files))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				name := files[i].Path
				if files[i].KustomizePatch {
					results[i].skipped = true
					continue
				}
				data, err := readInput(name, stdin)
				if err != nil {
					results[i].probs = []Problem{{Kind: Unreadable, File: name, Pos: Position{1, 1}, Message: err.Error()}}
					continue
				}
				r := &results[i]
				r.objs, r.probs = Parse(displayName(name), data)
				if files[i].Found && len(r.objs) == 0 && allNotKubernetes(r.probs) {
					r.probs, r.skipped = nil, true
				}
			}
		}()
	}
	for i := range files {
		work <- i
	}
	close(work)
	wg.Wait()
	set := &Set{}
	for i, r := range results {
		if r.skipped {
			set.Skipped = append(set.Skipped, files[i].Path)
			continue
		}
		set.Files++
		set.Objects = append(set.Objects, r.objs...)
		set.Problems = append(set.Problems, r.probs...)
	}
	return set
}

// allNotKubernetes is true when every problem says a document has neither
// apiVersion nor kind: the file is YAML, but not Kubernetes objects.
func allNotKubernetes(probs []Problem) bool {
	if len(probs) == 0 {
		return false
	}
	for _, p := range probs {
		if p.Kind != NotKubernetes {
			return false
		}
	}
	return true
}

func displayName(name string) string {
	if name == Stdin {
		return "<stdin>"
	}
	return name
}

func readInput(name string, stdin io.Reader) ([]byte, error) {
	var r io.Reader = stdin
	if name != Stdin {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("cannot read file: %w", unwrapPathError(err))
		}
		defer f.Close()
		r = f
	} else if stdin == nil {
		return nil, fmt.Errorf("cannot read standard input")
	}
	// Read one byte past the limit so Parse can report an oversized file
	// without reading all of it into memory. A regular file's size is
	// known: read it into a buffer of that size rather than growing one.
	var buf bytes.Buffer
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			buf.Grow(int(min(st.Size(), MaxFileSize) + 1))
		}
	}
	_, err := buf.ReadFrom(io.LimitReader(r, MaxFileSize+1))
	data := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("cannot read file: %w", unwrapPathError(err))
	}
	return data, nil
}
