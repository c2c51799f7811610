// Package boundary is the one limit on what a run reads: the repository
// it lints. The repository may be a stranger's pull request, so a
// symlink in it, a chart's file, a kustomization's base or a path in its
// config must not make klint read the runner's files (its environment
// in /proc/self/environ, its credentials) and quote them in a report.
//
// A path is inside when its real path (every symlink resolved) lies
// under one of the boundary's roots. Special file systems (/proc, /sys,
// /dev) and files that are not regular (devices, pipes, sockets) are
// never read through the boundary, whatever the roots.
package boundary

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Boundary is the set of directories a run may read. The nil Boundary
// allows every path, but never a special file.
type Boundary struct {
	roots []string // absolute, real, cleaned
}

// New returns the boundary of the given roots (directories or files).
// A root that does not exist is left out.
func New(roots ...string) *Boundary {
	b := &Boundary{}
	b.Allow(roots...)
	return b
}

// Allow widens the boundary to each path (on purpose: --allow-outside, a
// path the user named).
func (b *Boundary) Allow(paths ...string) {
	for _, p := range paths {
		if real, err := realAbs(p); err == nil {
			b.roots = append(b.roots, real)
		}
	}
}

// Roots are the boundary's roots, real and absolute.
func (b *Boundary) Roots() []string {
	if b == nil {
		return nil
	}
	return append([]string{}, b.roots...)
}

// RepositoryRoot is the root a run reads by default for an input path:
// the git work tree that holds it (the nearest directory upward with a
// .git entry), or, outside git, the current directory when the path is
// under it, else the path itself (its directory, for a file). git is not
// run: the work tree is found on disk.
func RepositoryRoot(path string) string {
	// Lexical, not resolved: a named symlink that leads out of its
	// repository does not take the root with it.
	abs, err := filepath.Abs(path)
	if err != nil {
		return filepath.Clean(path)
	}
	start := abs
	if st, err := os.Lstat(abs); err != nil || !st.IsDir() {
		start = filepath.Dir(abs)
	}
	for d := start; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	if cwd, err := os.Getwd(); err == nil && within(cwd, start) {
		return cwd
	}
	return start
}

// OutsideError says a path resolves outside the boundary, or to a file
// klint never reads. It names the path as written, and the link that
// takes it out when there is one, never what the target holds.
type OutsideError struct {
	Path   string // as given
	Target string // its real path
	Reason string
	// Special: a file klint never reads, whatever the boundary.
	Special bool
}

func (e *OutsideError) Error() string {
	if e.Special {
		return fmt.Sprintf("%s %s", e.Path, e.Reason)
	}
	return fmt.Sprintf("%s %s; klint reads only the repository it lints (widen it with --allow-outside)", e.Path, e.Reason)
}

// ErrOutside matches every OutsideError with errors.Is.
var ErrOutside = errors.New("outside the boundary")

// Is makes errors.Is(err, ErrOutside) true.
func (e *OutsideError) Is(target error) bool { return target == ErrOutside }

// specialRoots are file systems whose files are never read: the
// process's own state and the machine's devices.
var specialRoots = []string{"/proc", "/sys", "/dev"}

// Check resolves path and says whether it may be read: nil when its real
// path is inside the boundary and not on a special file system. A path
// that does not exist is checked by its directory (it may be created).
func (b *Boundary) Check(path string) error {
	real, err := realAbs(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		dir, derr := realAbs(filepath.Dir(path))
		if derr != nil {
			return err
		}
		real = filepath.Join(dir, filepath.Base(path))
	}
	for _, s := range specialRoots {
		if within(s, real) {
			return &OutsideError{Path: path, Target: real, Reason: "resolves to " + real + ", a special file klint never reads", Special: true}
		}
	}
	if b == nil || len(b.roots) == 0 {
		return nil
	}
	for _, r := range b.roots {
		if within(r, real) {
			return nil
		}
	}
	reason := "is outside the repository"
	if lexical, err := filepath.Abs(path); err == nil && lexical != real {
		reason = "is a symlink (or is under one) that resolves outside the repository, to " + real
	}
	return &OutsideError{Path: path, Target: real, Reason: reason}
}

// Contains reports whether Check allows path.
func (b *Boundary) Contains(path string) bool { return b.Check(path) == nil }

// Open opens a regular file inside the boundary for reading.
func (b *Boundary) Open(path string) (*os.File, error) {
	if err := b.Check(path); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() && !st.IsDir() {
		f.Close()
		return nil, &OutsideError{Path: path, Reason: "is not a regular file (" + TypeName(st.Mode()) + "), which klint does not read", Special: true}
	}
	return f, nil
}

// ReadFile reads a regular file inside the boundary, at most limit bytes
// (limit <= 0: no limit); a longer file is an error.
func (b *Boundary) ReadFile(path string, limit int64) ([]byte, error) {
	f, err := b.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	var buf bytes.Buffer
	r := io.Reader(f)
	if limit > 0 {
		r = io.LimitReader(f, limit+1)
	}
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err
	}
	if limit > 0 && int64(buf.Len()) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return buf.Bytes(), nil
}

// TypeName says what kind of file that is not regular a mode is.
func TypeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

func realAbs(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

// within reports whether p is root or under it (both clean and absolute).
func within(root, p string) bool {
	if root == "/" || p == root {
		return true
	}
	return strings.HasPrefix(p, root+string(filepath.Separator))
}

// ForPaths is the default boundary of a run over paths: the repository
// root of each (RepositoryRoot), or of the current directory when there
// are none.
func ForPaths(paths ...string) *Boundary {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	b := &Boundary{}
	for _, p := range paths {
		if p == "-" {
			p = "."
		}
		b.Allow(RepositoryRoot(p))
	}
	return b
}
