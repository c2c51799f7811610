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
		"missing.yaml:1:1: error unreadable: cannot read: no such file or directory",
		"1 file, 1 object: 2 errors, 1 warning, 2 infos, 0 suppressed",
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

// Messages a user can act on: a named empty file says it holds nothing, a
// YAML 1.1 boolean names its field and says to quote it, a rule enabled
// without the list it needs says so once, and shell completion offers
// the values of flags that take a fixed set.
func TestActionableMessages(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.yaml")
	must(t, os.WriteFile(empty, []byte("# only a comment\n"), 0o644))
	if code, out, _ := klint(t, "", empty); code != 0 || !strings.Contains(out, empty+":1:1: info empty-document: file holds no Kubernetes object (it is empty or only comments)") {
		t.Errorf("empty file: exit %d\n%s", code, out)
	}
	yes := filepath.Join(dir, "y.yaml")
	must(t, os.WriteFile(yes, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  enabled: y\n"), 0o644))
	if _, out, _ := klint(t, "", yes); !strings.Contains(out, yes+":5:3: error schema: wrong type: enabled is a bool where a string is expected; unquoted y, n, yes, no, on, off, true and false are booleans in YAML") {
		t.Errorf("YAML 1.1 bool:\n%s", out)
	}
	code, out, errOut := klint(t, "", "--enable", "allowed-registries", yes)
	if code != 2 || out != "" || !strings.Contains(errOut, "rule allowed-registries is enabled but its parameter registries is empty: set rules.allowed-registries.params.registries in .klint.yaml") {
		t.Errorf("allowed-registries without registries: exit %d\n%s%s", code, out, errOut)
	}
	for flag, want := range map[string][]string{
		"--format":  {"github", "json", "junit", "sarif", "text"},
		"--fail-on": {"error", "warning", "info"},
		"--color":   {"auto", "always", "never"},
		"--enable":  {"image-latest-tag\t", "allowed-registries\t", "recommended-labels\t"},
		"--disable": {"plaintext-secret\t"},
	} {
		_, out, _ := klint(t, "", "__complete", flag, "")
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("completion of %s lacks %q:\n%s", flag, w, out)
			}
		}
	}
}
