// Package inputs finds what a run reads on disk (files found by walking
// directories, charts, kustomizations and the files they list, with the
// excludes and the repository boundary applied) and reads each input into
// positioned objects with package manifest, which turns bytes into them.
package inputs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klint-dev/klint/pkg/boundary"
	"github.com/klint-dev/klint/pkg/manifest"
)

// Stdin is the path that stands for standard input.
const Stdin = "-"

// InputKind says how an input is read.
type InputKind int

// Input kinds.
const (
	// PlainFile is a manifest file (or stdin) read as it is.
	PlainFile InputKind = iota
	// ChartInput is a Helm chart directory, rendered.
	ChartInput
	// KustomizationInput is a kustomization directory, built.
	KustomizationInput
)

// Input is a file to read, or a chart or kustomization to render. Found is
// true for files found by walking a directory, rather than named by the
// user: those are skipped quietly when they are YAML that is not
// Kubernetes objects at all.
type Input struct {
	Path  string
	Kind  InputKind
	Found bool
	// SkipIfNotKubernetes skips a named file the way found files are
	// skipped when they hold no Kubernetes object at all (a pre-commit
	// hook names every changed .yaml and .json file).
	SkipIfNotKubernetes bool
	// Problem, when set, is why this input is not read: a path that does
	// not exist, a directory that cannot be listed, a named pipe or
	// device found in a directory. It is reported; the other inputs are
	// read as usual.
	Problem *manifest.Problem
	// Data, when set, is the input's bytes, already in memory (an
	// admission request's object): read instead of the file, and Path
	// names it in findings.
	Data []byte
	// Context inputs are read for cross-object rules only: nothing is
	// reported about them (--context, for pre-commit hooks).
	Context bool
	// Render, for a file, names the kustomization that lists it, when
	// that kustomization only lists files (ListedFiles): Expand reads
	// such a kustomization as its files, so a large list is read in
	// parallel and never held whole. The file's objects are that
	// render's, and cross-object rules judge them with its other files'.
	Render string
	// real is the path with symlinks resolved, when the walk that found
	// the input knows it.
	real string
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

// Expand turns command-line paths into the inputs to read:
//   - "-" stays "-" (standard input);
//   - a directory holding Chart.yaml is a chart, and one holding a
//     kustomization file is a kustomization, wherever they are met;
//   - other directories are walked recursively (skipping .git,
//     node_modules and the like): charts found are rendered; the files a
//     kustomization uses (resources, patches) are its own, not manifests
//     of their own; a kustomization that another one in the run builds on
//     (a base, a component) is built only as part of it;
//   - a file inside a chart stands for its chart, and a file that a
//     kustomization found upward from it uses stands for that
//     kustomization (a pre-commit hook names the changed template or
//     patch); other files are read as they are.
//
// Paths excluded by exclude (matched against the path as given and
// relative to the working directory) are left out. A path that does not
// exist, and whatever cannot be read, comes back as an Input with a
// Problem, so it is reported beside everything that can be read.
func Expand(paths []string, exclude ...string) []Input {
	return ExpandWithin(boundary.ForPaths(paths...), paths, exclude...)
}

// ExpandWithin is Expand reading nothing outside b: a named path, or a
// symlink met while walking, that resolves outside it (or to a special
// file) is an Unreadable input naming the path, and nothing under it is
// read.
func ExpandWithin(b *boundary.Boundary, paths []string, exclude ...string) []Input {
	var files []Input
	type inputKey struct {
		path string
		kind InputKind
	}
	seen := map[inputKey]bool{}
	addInput := func(in Input) {
		real := in.real
		if real == "" {
			real = realPath(in.Path)
		}
		key := inputKey{real, in.Kind}
		if in.Path == Stdin {
			key.path = Stdin
		}
		if !seen[key] {
			seen[key] = true
			files = append(files, in)
		}
	}
	for _, p := range paths {
		if p == Stdin {
			addInput(Input{Path: p})
			continue
		}
		if err := b.Check(p); err != nil {
			addInput(Input{Path: p, Problem: &manifest.Problem{Kind: manifest.Unreadable, File: p, Pos: manifest.Position{Line: 1, Column: 1}, Message: "not read: " + err.Error()}})
			continue
		}
		info, err := os.Stat(p) // follows a named symlink
		if err != nil {
			addInput(Input{Path: p, Problem: &manifest.Problem{Kind: manifest.Unreadable, File: p, Pos: manifest.Position{Line: 1, Column: 1}, Message: "cannot read: " + unwrapPathError(err).Error()}})
			continue
		}
		if !info.IsDir() {
			addInput(enclosing(p)) // a named pipe or device is read as a stream
			continue
		}
		if IsChart(p) {
			addInput(Input{Path: filepath.Clean(p), Kind: ChartInput})
			continue
		}
		for _, in := range walk(b, p, exclude) {
			addInput(in)
		}
	}
	return splitLists(files)
}

// splitLists replaces each kustomization that only lists files by those
// files, marked as its render.
func splitLists(inputs []Input) []Input {
	out := inputs[:0:0]
	for _, in := range inputs {
		if in.Kind != KustomizationInput || in.Problem != nil {
			out = append(out, in)
			continue
		}
		files, ok := ListedFiles(in.Path)
		if !ok {
			out = append(out, in)
			continue
		}
		for _, f := range files {
			out = append(out, Input{Path: f, Render: filepath.Clean(in.Path), Context: in.Context})
		}
	}
	return out
}

// realPath is the path with symlinks resolved, to tell when two inputs are
// one file; the path itself when it cannot be resolved.
func realPath(p string) string {
	r, err := filepath.EvalSymlinks(p)
	if err != nil { // a broken symlink or a missing file: its directory's real path
		dir, err := filepath.EvalSymlinks(filepath.Dir(p))
		if err != nil {
			return filepath.Clean(p)
		}
		r = filepath.Join(dir, filepath.Base(p))
	}
	if abs, err := filepath.Abs(r); err == nil {
		return abs
	}
	return r
}

// enclosing is the chart or kustomization a named file belongs to (found
// upward from it, up to the working directory), or the file itself.
func enclosing(file string) Input {
	abs, err := filepath.Abs(file)
	if err != nil {
		return Input{Path: file}
	}
	cwd, _ := os.Getwd()
	for dir := filepath.Dir(abs); ; dir = filepath.Dir(dir) {
		if IsChart(dir) {
			return Input{Path: relTo(cwd, dir), Kind: ChartInput}
		}
		if KustomizationFile(dir) != "" && owns(dir, abs, map[string]bool{}) {
			if k, err := ReadKustomization(dir); err == nil && !k.IsComponent() {
				return Input{Path: relTo(cwd, dir), Kind: KustomizationInput}
			}
		}
		if dir == cwd || filepath.Dir(dir) == dir || (cwd != "" && !strings.HasPrefix(dir, cwd)) {
			return Input{Path: file}
		}
	}
}

func relTo(base, p string) string {
	if base != "" {
		if r, err := filepath.Rel(base, p); err == nil && !strings.HasPrefix(r, "..") {
			return r
		}
	}
	return p
}

// maxWalkDepth is how deep a directory walk goes: deeper nesting is a
// problem, not a reason to walk for ever.
const maxWalkDepth = 64

// walk finds the inputs under a directory. Symlinks are followed (to
// files and directories) while they stay inside b; each real directory is
// entered once, however many links lead to it, so that links forming a
// loop or a diamond cost one visit each; a link out of b, a directory
// that cannot be listed, a directory past maxWalkDepth and a found file
// that is not a regular file (a named pipe, a socket, a device, which
// reading could block on forever) become inputs with a Problem, and the
// walk goes on.
func walk(b *boundary.Boundary, root string, exclude []string) []Input {
	var plain, charts, kusts []string
	var problems []Input
	report := func(path string, kind manifest.ProblemKind, msg string) {
		problems = append(problems, Input{Path: path, Problem: &manifest.Problem{Kind: kind, File: path, Pos: manifest.Position{Line: 1, Column: 1}, Message: msg}})
	}
	// realOf is each found path's real path (symlinks resolved), worked
	// out from its directory's, so that a file costs no system call for
	// it: Expand deduplicates inputs on it.
	realOf := map[string]string{}
	visited := map[string]bool{} // real directories entered
	var visit func(dir, real string, depth int)
	visit = func(dir, real string, depth int) {
		if visited[real] {
			return // reached again through a symlink: its files are found already
		}
		visited[real] = true
		if depth > maxWalkDepth {
			report(dir, manifest.Unreadable, fmt.Sprintf("directory is nested more than %d levels deep; not searched", maxWalkDepth))
			return
		}
		realOf[filepath.Clean(dir)] = real
		if IsChart(dir) && dir != root {
			charts = append(charts, filepath.Clean(dir))
			return
		}
		if KustomizationFile(dir) != "" {
			kusts = append(kusts, filepath.Clean(dir))
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			report(dir, manifest.Unreadable, "cannot read directory: "+unwrapPathError(err).Error())
			return
		}
		for _, e := range ents {
			path := filepath.Join(dir, e.Name())
			if Excluded(path, exclude) {
				continue
			}
			typ, childReal := e.Type(), filepath.Join(real, e.Name())
			if typ&fs.ModeSymlink != 0 {
				if err := b.Check(path); err != nil {
					if errors.Is(err, boundary.ErrOutside) {
						report(path, manifest.Unreadable, "not read: "+err.Error())
					} else if IsManifestFile(path) {
						report(path, manifest.Unreadable, "cannot read: broken symlink (its target: "+unwrapPathError(err).Error()+")")
					}
					continue
				}
				childReal = realPath(path)
				st, err := os.Stat(path)
				if err != nil {
					if IsManifestFile(path) {
						report(path, manifest.Unreadable, "cannot read: broken symlink (its target: "+unwrapPathError(err).Error()+")")
					}
					continue
				}
				typ = st.Mode().Type()
			}
			switch {
			case typ.IsDir():
				if !skipDirs[e.Name()] {
					visit(path, childReal, depth+1)
				}
			case !IsManifestFile(path):
			case typ.IsRegular():
				plain = append(plain, path)
				realOf[path] = childReal
			default:
				report(path, manifest.NotRegular, "not a regular file ("+boundary.TypeName(typ)+"); files found in directories are read only when regular: name it on the command line to read it as a stream")
			}
		}
	}
	visit(root, realPath(root), 0)
	// A kustomization that another one builds on is built as part of it,
	// and a component only ever is.
	// Files a kustomization uses (resources, patches, the kustomization
	// file) are its own; other files under it are manifests as usual.
	covered := map[string]bool{}
	owned := map[string]bool{}
	var own func(k string, seen map[string]bool)
	own = func(k string, seen map[string]bool) {
		if seen[k] || !b.Contains(k) {
			return // a base outside b is not read: its build reports it
		}
		seen[k] = true
		owned[KustomizationFile(k)] = true
		kz, err := ReadKustomization(k)
		if err != nil {
			return
		}
		for _, f := range kz.OwnFiles(k) {
			owned[f] = true
		}
		for _, d := range kz.Dirs(k) {
			covered[d] = true
			own(d, seen)
		}
	}
	for _, k := range kusts {
		if kz, err := ReadKustomization(k); err == nil && kz.IsComponent() {
			covered[k] = true
		}
		own(k, map[string]bool{})
	}
	var out []Input
	for _, c := range charts {
		out = append(out, Input{Path: c, Kind: ChartInput, Found: true, real: realOf[c]})
	}
	for _, k := range kusts {
		if !covered[k] {
			out = append(out, Input{Path: k, Kind: KustomizationInput, Found: true, real: realOf[k]})
		}
	}
	sort.Strings(plain)
	for _, f := range plain {
		if !owned[filepath.Clean(f)] {
			out = append(out, Input{Path: f, Found: true, real: realOf[f]})
		}
	}
	return append(out, problems...)
}

// Excluded reports whether path matches one of the globs, as given or
// relative to the working directory; a glob also matches everything
// under a directory it matches. "**" matches any number of directories.
func Excluded(path string, globs []string) bool {
	if len(globs) == 0 {
		return false
	}
	cands := []string{filepath.ToSlash(filepath.Clean(path))}
	if abs, err := filepath.Abs(path); err == nil {
		if cwd, err := os.Getwd(); err == nil {
			if r, err := filepath.Rel(cwd, abs); err == nil {
				cands = append(cands, filepath.ToSlash(r))
			}
		}
	}
	for _, g := range globs {
		g = strings.TrimSuffix(filepath.ToSlash(g), "/")
		for _, c := range cands {
			for p := c; p != "." && p != "/" && p != ""; p = pathDir(p) {
				if globMatch(g, p) {
					return true
				}
			}
		}
	}
	return false
}

func pathDir(p string) string {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return ""
	}
	return p[:i]
}

// globMatch matches a slash-separated path against a glob where "**"
// stands for any number of path segments.
func globMatch(glob, p string) bool {
	gs, ps := strings.Split(glob, "/"), strings.Split(p, "/")
	var match func(gs, ps []string) bool
	match = func(gs, ps []string) bool {
		for len(gs) > 0 {
			if gs[0] == "**" {
				for i := 0; i <= len(ps); i++ {
					if match(gs[1:], ps[i:]) {
						return true
					}
				}
				return false
			}
			if len(ps) == 0 {
				return false
			}
			if ok, _ := filepath.Match(gs[0], ps[0]); !ok {
				return false
			}
			gs, ps = gs[1:], ps[1:]
		}
		return len(ps) == 0
	}
	return match(gs, ps)
}

func unwrapPathError(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// RenderFunc renders a chart or kustomization input into objects whose
// positions are mapped to the files a person edits.
type RenderFunc func(Input) ([]*manifest.Object, []manifest.Problem)

// Loaded is what reading one input gave.
type Loaded struct {
	Objects  []*manifest.Object
	Problems []manifest.Problem
	// Skipped is a found file (or one named with SkipIfNotKubernetes)
	// that is YAML but holds no Kubernetes object at all.
	Skipped bool
}

// Read reads one input: parses a file (stdin for "-", or the bytes in
// Data), or renders a chart or kustomization with render. It is the one
// way klint reads input: paths and stdin in the CLI, request bodies in
// admission. An input with a Problem gives that
// problem; a file that cannot be read gives an Unreadable problem.
func Read(in Input, stdin io.Reader, render RenderFunc) Loaded {
	name := in.Path
	if in.Problem != nil {
		return Loaded{Problems: []manifest.Problem{*in.Problem}}
	}
	if in.Kind != PlainFile {
		if render == nil {
			return Loaded{Problems: []manifest.Problem{{Kind: manifest.Unreadable, File: name, Pos: manifest.Position{Line: 1, Column: 1}, Message: "charts and kustomizations are rendered by the klint command only"}}}
		}
		objs, probs := render(in)
		return Loaded{Objects: objs, Problems: probs}
	}
	data, err := in.Data, error(nil)
	if data == nil {
		data, err = readInput(name, stdin)
	}
	if err != nil {
		return Loaded{Problems: []manifest.Problem{{Kind: manifest.Unreadable, File: displayName(name), Pos: manifest.Position{Line: 1, Column: 1}, Message: err.Error()}}}
	}
	r := Loaded{}
	r.Objects, r.Problems = manifest.ParseJSON(displayName(name), data)
	if in.Render != "" {
		for _, o := range r.Objects {
			o.Render = in.Render // its source is its file: it can still be detached
		}
		for i := range r.Problems {
			r.Problems[i].Render = in.Render
		}
	}
	if !in.Found && !in.SkipIfNotKubernetes && len(r.Objects) == 0 && len(r.Problems) == 0 {
		// Named, yet empty or only comments: say so rather than pass it
		// silently.
		r.Problems = []manifest.Problem{{Kind: manifest.EmptyDocument, File: displayName(name), Pos: manifest.Position{Line: 1, Column: 1}, Message: "file holds no Kubernetes object (it is empty or only comments)"}}
	}
	if (in.Found || in.SkipIfNotKubernetes) && len(r.Objects) == 0 && allNotKubernetes(r.Problems) {
		return Loaded{Skipped: true}
	}
	return r
}

// DispatchOrder is the order inputs are handed to the workers: charts and
// kustomizations first, the largest first (one chart of large CRDs can
// take as long as all the others, and started last it would leave the
// other cores idle at the end), then plain files as given. Results are
// kept by input index, so the output does not depend on it. Sizes are the
// inputs' sizes in bytes (a render's: its directory's files), for
// schedulers that bound how much input is in memory at once.
func DispatchOrder(files []Input) (order []int, sizes []int64) {
	order = make([]int, len(files))
	sizes = make([]int64, len(files))
	for i, in := range files {
		order[i] = i
		switch {
		case in.Problem != nil || in.Path == Stdin:
		case in.Kind == PlainFile:
			if st, err := os.Stat(in.Path); err == nil && st.Mode().IsRegular() {
				sizes[i] = st.Size()
			}
		default:
			seen := 0 // an estimate: a kustomization at a repository's root is not walked whole
			_ = filepath.WalkDir(in.Path, func(_ string, d fs.DirEntry, err error) error {
				if seen++; seen > 2000 {
					return filepath.SkipAll
				}
				if err == nil && d.IsDir() && skipDirs[d.Name()] {
					return filepath.SkipDir
				}
				if err == nil && d.Type().IsRegular() {
					if info, err := d.Info(); err == nil {
						sizes[i] += info.Size()
					}
				}
				return nil
			})
		}
	}
	sort.SliceStable(order, func(a, b int) bool {
		ra, rb := files[order[a]].Kind != PlainFile, files[order[b]].Kind != PlainFile
		if ra != rb {
			return ra
		}
		return ra && sizes[order[a]] > sizes[order[b]]
	})
	return order, sizes
}

// allNotKubernetes is true when every problem says a document has neither
// apiVersion nor kind: the file is YAML, but not Kubernetes objects.
func allNotKubernetes(probs []manifest.Problem) bool {
	if len(probs) == 0 {
		return false
	}
	for _, p := range probs {
		if p.Kind != manifest.NotKubernetes {
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
			buf.Grow(int(min(st.Size(), manifest.MaxFileSize) + 1))
		}
	}
	_, err := buf.ReadFrom(io.LimitReader(r, manifest.MaxFileSize+1))
	data := buf.Bytes()
	if err != nil {
		return nil, fmt.Errorf("cannot read file: %w", unwrapPathError(err))
	}
	return data, nil
}
