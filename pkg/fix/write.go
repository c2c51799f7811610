package fix

import (
	"errors"
	"os"
	"path/filepath"
)

// WriteFile replaces the file at path with data so that the file is,
// at every moment and whatever happens (a kill, a full disk, another
// klint fix on the same tree), either its old bytes or its new ones: the
// data goes to a temporary file in the same directory, is synced, takes
// the file's mode (and owner, where permitted) and is renamed over it. A
// symlink is written through, to its target, as a plain write would.
func WriteFile(path string, data []byte) (err error) {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	st, err := os.Stat(target)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return &os.PathError{Op: "write", Path: path, Err: errors.New("not a regular file")}
	}
	dir := filepath.Dir(target)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(target)+".klint-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(st.Mode().Perm()); err != nil {
		return err
	}
	keepOwner(tmp, st)
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), target); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil { // the rename itself, durable
		_ = d.Sync()
		d.Close()
	}
	return nil
}
