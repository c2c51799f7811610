// Package gitbase reads the inputs of a run as they are at a git revision,
// for klint --base: it finds the repository holding the work tree,
// resolves the revision as git does (a commit, a branch, a tag, a
// remote-tracking branch such as origin/main, REF~N), and copies the files
// under the inputs as they are at that revision into a temporary
// directory, noting which differ from the working tree. It reads git's
// objects with go-git: no git program runs, and neither the working tree
// nor the index is touched. It is the only package that imports go-git.
package gitbase

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// maxBlob is the largest file copied from the revision: larger ones are
// not manifests klint reads (the working tree's reads are bounded alike).
const maxBlob = 64 << 20

// Snapshot is the inputs of a run at a revision, in a temporary directory
// laid out as the repository is.
type Snapshot struct {
	// Ref is the revision as given; Commit its hash.
	Ref, Commit string
	// Dir is the temporary directory: the repository's root at Ref.
	Dir string
	// Root is the work tree's root (absolute, symlinks resolved).
	Root string
	// changed are the repository paths (slash-separated) of the files
	// whose content at Ref differs from the working tree's, or that the
	// working tree no longer has; deleted are the latter.
	changed map[string]bool
	deleted []string
}

// Take copies the files under paths (files or directories of the work
// tree holding root) as they are at ref into a new temporary directory.
// The caller removes it (Remove), also when interrupted.
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
	s := &Snapshot{Ref: ref, Commit: commit.Hash.String(), Dir: dir, Root: top, changed: map[string]bool{}}
	done := map[string]bool{}
	for _, p := range paths {
		rel, ok := s.rel(p)
		if !ok {
			continue // outside the repository: nothing of it at ref
		}
		if err := s.copy(tree, rel, done); err != nil {
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

// copy writes the file or tree at rel in tree into the snapshot.
func (s *Snapshot) copy(tree *object.Tree, rel string, done map[string]bool) error {
	if rel == "." {
		return s.copyTree(tree, "", done)
	}
	e, err := tree.FindEntry(rel)
	if err != nil {
		return nil // not at ref: everything under it is new
	}
	if e.Mode == filemode.Dir {
		sub, err := tree.Tree(rel)
		if err != nil {
			return err
		}
		return s.copyTree(sub, rel+"/", done)
	}
	return s.copyEntry(tree, rel, e, done)
}

func (s *Snapshot) copyTree(tree *object.Tree, prefix string, done map[string]bool) error {
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
		if err := s.copyEntry(tree, prefix+name, &e, done); err != nil {
			return err
		}
	}
}

func (s *Snapshot) copyEntry(tree *object.Tree, rel string, e *object.TreeEntry, done map[string]bool) error {
	if done[rel] || e.Mode == filemode.Submodule {
		return nil
	}
	done[rel] = true
	f, err := tree.TreeEntryFile(e)
	if err != nil {
		return err
	}
	if f.Size > maxBlob {
		return nil
	}
	r, err := f.Reader()
	if err != nil {
		return err
	}
	data, err := io.ReadAll(r)
	r.Close()
	if err != nil {
		return err
	}
	dst := filepath.Join(s.Dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	work := filepath.Join(s.Root, filepath.FromSlash(rel))
	if e.Mode == filemode.Symlink {
		// The link as committed: the run's boundary judges where it
		// leads, as it does in the working tree.
		if target, err := os.Readlink(work); err != nil || target != string(data) {
			s.differs(rel, err != nil)
		}
		return os.Symlink(string(data), dst)
	}
	if now, err := os.Lstat(work); err != nil {
		s.differs(rel, true)
	} else if !now.Mode().IsRegular() || now.Size() != int64(len(data)) {
		s.differs(rel, false)
	} else if cur, err := os.ReadFile(work); err != nil || !bytes.Equal(cur, data) {
		s.differs(rel, false)
	}
	return os.WriteFile(dst, data, 0o600)
}

func (s *Snapshot) differs(rel string, gone bool) {
	s.changed[rel] = true
	if gone {
		s.deleted = append(s.deleted, rel)
	}
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

// Deleted are the working-tree paths of the files the revision has under
// the inputs and the working tree does not.
func (s *Snapshot) Deleted() []string {
	out := make([]string, len(s.deleted))
	for i, d := range s.deleted {
		out[i] = filepath.Join(s.Root, filepath.FromSlash(d))
	}
	return out
}
