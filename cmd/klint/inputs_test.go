package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const nodePortService = "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: NodePort\n  selector: {app: x}\n  ports: [{port: 80, nodePort: 30080}]\n"

// Inputs that cannot be read are reported and everything else is still
// linted: a missing path, a broken symlink, a named pipe found in a
// directory (which used to hang the run), a symlink loop. A symlinked
// directory named on the command line is followed, and a file reached
// twice is linted once.
func TestUnreadableInputsAreReportedAndTheRestLinted(t *testing.T) {
	dir := t.TempDir()
	d := filepath.Join(dir, "d")
	must(t, os.MkdirAll(filepath.Join(d, "sub"), 0o755))
	must(t, os.WriteFile(filepath.Join(d, "svc.yaml"), []byte(nodePortService), 0o644))
	must(t, syscall.Mkfifo(filepath.Join(d, "pipe.yaml"), 0o644))
	must(t, os.Symlink("nowhere.yaml", filepath.Join(d, "broken.yaml")))
	must(t, os.Symlink("..", filepath.Join(d, "sub", "loop")))
	must(t, os.Symlink("d", filepath.Join(dir, "link")))
	t.Chdir(dir)

	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errOut := klint(t, "", "link", "d", "d/svc.yaml", "missing.yaml")
		done <- result{code, out, errOut}
	}()
	var r result
	select {
	case r = <-done:
	case <-time.After(time.Minute):
		t.Fatal("klint hangs on a named pipe in a scanned directory")
	}
	want := []string{
		"link/broken.yaml:1:1: error unreadable: cannot read: broken symlink (its target: no such file or directory)",
		`link/svc.yaml:6:3: warning service-selects-nothing: Service "s" selects no pods`,
		"link/pipe.yaml:1:1: info skipped-file: not a regular file (a named pipe)",
		"link/sub/loop:1:1: info skipped-file: directory symlink loops back to d, which is being scanned; not followed again",
		"missing.yaml:1:1: error unreadable: cannot read: no such file or directory",
		"1 file, 1 object: 2 errors, 1 warning, 3 infos, 0 suppressed",
	}
	for _, w := range want {
		if !strings.Contains(r.out, w) {
			t.Errorf("output lacks %q", w)
		}
	}
	// d and d/svc.yaml are the files link reached: not linted again (a
	// Service would conflict with itself over its nodePort).
	if strings.Contains(r.out, "d/svc.yaml") || strings.Contains(r.out, "already used") || r.code != exitError {
		t.Errorf("exit %d:\n%s%s", r.code, r.out, r.err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
