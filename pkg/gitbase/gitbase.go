// Package gitbase reads the inputs of a run as they are at a git revision,
// for klint --base: it finds the repository holding the work tree,
// resolves the revision as git does (a commit, a branch, a tag, a
// remote-tracking branch such as origin/main, REF~N), notes which files
// under the inputs differ from the working tree, and copies those a run
// reads at the revision into a temporary directory. It reads git's
// objects with go-git: no git program runs, and neither the working tree
// nor the index is touched. It is the only package that imports go-git.
package gitbase

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// maxBlob is the largest file copied from the revision: larger ones are
// not manifests klint reads (the working tree's reads are bounded alike).
const maxBlob = 64 << 20

// Snapshot is the inputs of a run at a revision. Nothing is copied until
// asked for (Materialize): a run reads at the revision only what changed.
type Snapshot struct {
	// Ref is the revision as given; Commit its hash.
	Ref, Commit string
	// Dir is the temporary directory: the repository's root at Ref.
	Dir string
	// Root is the work tree's root (absolute, symlinks resolved).
	Root string
	tree *object.Tree
	// entries are the files under the inputs at Ref, by repository path
	// (slash-separated); changed those whose content at Ref differs from
	// the working tree's, or that the working tree no longer has;
	// deleted the latter; written those copied into Dir.
	entries map[string]object.TreeEntry
	changed map[string]bool
	deleted []string
	// mu guards written and the repository's reads.
	mu      sync.Mutex
	written map[string]bool
}

// Take finds the files under paths (files or directories of the work
// tree holding root) as they are at ref, and which of them differ from
// the working tree, comparing git's hash of each working file with the
// revision's. The caller removes the snapshot's directory (Remove), also
// when interrupted.
func Take(root, ref string, paths []string) (*Snapshot, error) {
	repo, err := git.PlainOpenWithOptions(root, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return nil, fmt.Errorf("--base %s: %s is not in a git repository (%v)", ref, root, err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, fmt.Errorf("--base %s: the repository has no work tree (%v)", ref, err)
	}
	top, err := filepath.EvalSymlinks(wt.Filesystem.Root())
	if err != nil {
		return nil, fmt.Errorf("--base %s: %v", ref, err)
	}
	commit, err := resolve(repo, ref)
	if err != nil {
		return nil, err
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, fmt.Errorf("--base %s: reading commit %s: %v", ref, commit.Hash, err)
	}
	dir, err := os.MkdirTemp("", "klint-base-")
	if err != nil {
		return nil, fmt.Errorf("--base %s: %v", ref, err)
	}
	s := &Snapshot{Ref: ref, Commit: commit.Hash.String(), Dir: dir, Root: top, tree: tree,
		entries: map[string]object.TreeEntry{}, changed: map[string]bool{}, written: map[string]bool{}}
	for _, p := range paths {
		rel, ok := s.rel(p)
		if !ok {
			continue // outside the repository: nothing of it at ref
		}
		if err := s.list(rel); err != nil {
			s.Remove()
			return nil, fmt.Errorf("--base %s: %v", ref, err)
		}
	}
	return s, nil
}

// resolve finds the commit ref names, saying what to fetch when a
// shallow clone lacks it.
func resolve(repo *git.Repository, ref string) (*object.Commit, error) {
	h, err := repo.ResolveRevision(plumbing.Revision(ref))
	if err == nil {
		var c *object.Commit
		if c, err = repo.CommitObject(*h); err == nil {
			return c, nil
		}
	}
	msg := fmt.Sprintf("--base %s: no such revision in this repository", ref)
	if shallow, _ := repo.Storer.Shallow(); len(shallow) > 0 {
		fetch := "git fetch origin " + ref
		if remote, branch, ok := strings.Cut(ref, "/"); ok && !strings.ContainsAny(ref, "~^@:") {
			fetch = fmt.Sprintf("git fetch --depth=1 %s %s:refs/remotes/%s/%s", remote, branch, remote, branch)
		}
		msg += fmt.Sprintf(": this is a shallow clone, which holds only the commits it was cloned with; fetch the revision first (%s), or clone with full history (actions/checkout: fetch-depth: 0)", fetch)
	} else {
		msg += " (a branch, tag, remote-tracking branch such as origin/main, or commit; fetch it first if it is on a remote)"
	}
	return nil, errors.New(msg)
}

// rel is p's path in the repository, slash-separated ("." for its root).
func (s *Snapshot) rel(p string) (string, bool) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", false
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	r, err := filepath.Rel(s.Root, abs)
	if err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(r), true
}

// list notes the file or the files of the tree at rel.
func (s *Snapshot) list(rel string) error {
	if rel == "." {
		return s.listTree(s.tree, "")
	}
	e, err := s.tree.FindEntry(rel)
	if err != nil {
		return nil // not at ref: everything under it is new
	}
	if e.Mode == filemode.Dir {
		sub, err := s.tree.Tree(rel)
		if err != nil {
			return err
		}
		return s.listTree(sub, rel+"/")
	}
	return s.note(rel, *e)
}

func (s *Snapshot) listTree(tree *object.Tree, prefix string) error {
	w := object.NewTreeWalker(tree, true, nil)
	defer w.Close()
	for {
		name, e, err := w.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if e.Mode == filemode.Dir || e.Mode == filemode.Submodule {
			continue
		}
		if err := s.note(prefix+name, e); err != nil {
			return err
		}
	}
}

// note records a file of the revision, and whether the working tree's
// differs: by git's hash of the working file's content (or link).
func (s *Snapshot) note(rel string, e object.TreeEntry) error {
	if _, done := s.entries[rel]; done {
		return nil
	}
	s.entries[rel] = e
	work := filepath.Join(s.Root, filepath.FromSlash(rel))
	fi, err := os.Lstat(work)
	var now []byte
	switch {
	case err != nil:
		s.changed[rel] = true
		s.deleted = append(s.deleted, rel)
		return nil
	case e.Mode == filemode.Symlink && fi.Mode()&os.ModeSymlink != 0:
		target, err := os.Readlink(work)
		if err != nil {
			s.changed[rel] = true
			return nil
		}
		now = []byte(target)
	case e.Mode != filemode.Symlink && fi.Mode().IsRegular() && fi.Size() <= maxBlob:
		if now, err = os.ReadFile(work); err != nil {
			s.changed[rel] = true
			return nil
		}
	default:
		s.changed[rel] = true
		return nil
	}
	if plumbing.ComputeHash(plumbing.BlobObject, now) != e.Hash {
		s.changed[rel] = true
	}
	return nil
}

// Materialize copies the file p, or the files under the directory p (a
// working-tree path), as they are at the revision into the snapshot's
// directory, where Path finds them. What is not at the revision is
// skipped.
func (s *Snapshot) Materialize(p string) error {
	rel, ok := s.rel(p)
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for r, e := range s.entries {
		if s.written[r] || !(rel == "." || r == rel || strings.HasPrefix(r, rel+"/")) {
			continue
		}
		s.written[r] = true
		if err := s.write(r, e); err != nil {
			return err
		}
	}
	return nil
}

// ReadFile is the content of the file p (a working-tree path) at the
// revision; ok is false when the revision has no such file (or a link
// there, which a run reads only through Materialize).
func (s *Snapshot) ReadFile(p string) (data []byte, ok bool) {
	rel, in := s.rel(p)
	if !in {
		return nil, false
	}
	e, found := s.entries[rel]
	if !found || e.Mode == filemode.Symlink {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	data, err := s.blob(e)
	return data, err == nil && data != nil
}

// blob reads an entry's content; nil for one over maxBlob.
func (s *Snapshot) blob(e object.TreeEntry) ([]byte, error) {
	f, err := s.tree.TreeEntryFile(&e)
	if err != nil {
		return nil, err
	}
	if f.Size > maxBlob {
		return nil, nil
	}
	r, err := f.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

func (s *Snapshot) write(rel string, e object.TreeEntry) error {
	data, err := s.blob(e)
	if err != nil || data == nil {
		return err
	}
	dst := filepath.Join(s.Dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	if e.Mode == filemode.Symlink {
		// The link as committed: the run's boundary judges where it
		// leads, as it does in the working tree.
		return os.Symlink(string(data), dst)
	}
	return os.WriteFile(dst, data, 0o600)
}

// Remove deletes the temporary directory.
func (s *Snapshot) Remove() {
	if s != nil && s.Dir != "" {
		os.RemoveAll(s.Dir)
	}
}

// Path is where the working-tree path p is in the snapshot; ok is false
// for a path outside the repository.
func (s *Snapshot) Path(p string) (string, bool) {
	rel, ok := s.rel(p)
	if !ok {
		return "", false
	}
	return filepath.Join(s.Dir, filepath.FromSlash(rel)), true
}

// Changed reports whether the file p, or any file under the directory p,
// differs between the revision and the working tree (a file only in the
// working tree is not a change of the revision's: it has no old side).
func (s *Snapshot) Changed(p string) bool {
	rel, ok := s.rel(p)
	if !ok {
		return false
	}
	if s.changed[rel] || rel == "." && len(s.changed) > 0 {
		return true
	}
	for c := range s.changed {
		if strings.HasPrefix(c, rel+"/") {
			return true
		}
	}
	return false
}

// Has reports whether the revision has the file p, or any file under the
// directory p.
func (s *Snapshot) Has(p string) bool {
	rel, ok := s.rel(p)
	if !ok {
		return false
	}
	if _, ok := s.entries[rel]; ok || rel == "." && len(s.entries) > 0 {
		return true
	}
	for e := range s.entries {
		if strings.HasPrefix(e, rel+"/") {
			return true
		}
	}
	return false
}

// Deleted are the working-tree paths of the files the revision has under
// the inputs and the working tree does not.
func (s *Snapshot) Deleted() []string {
	out := make([]string, len(s.deleted))
	for i, d := range s.deleted {
		out[i] = filepath.Join(s.Root, filepath.FromSlash(d))
	}
	return out
}
