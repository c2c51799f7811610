//go:build unix

package fix

import (
	"os"
	"syscall"
)

// keepOwner gives f the owner and group of the file it replaces, where
// this process may (root, or the owner changing the group among its own).
func keepOwner(f *os.File, old os.FileInfo) {
	if sys, ok := old.Sys().(*syscall.Stat_t); ok {
		_ = f.Chown(int(sys.Uid), int(sys.Gid))
	}
}
