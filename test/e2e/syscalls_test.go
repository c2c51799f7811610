package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// klint on a hostile repository, traced by strace -f: a chart that links
// /proc/self/environ and a file outside, a kustomization naming a git
// repository and a URL, a Rego policy, a directory symlink to /. The
// process must start no program (one execve: klint's own) and open no
// network socket (no connect, no AF_INET or AF_INET6 socket), also while
// it reads the base revision from git (--base).
func TestNoProgramNoSocket(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Fatal("strace is needed (.ci/run installs it)")
	}
	bin := os.Getenv("KLINT_E2E_BIN")
	if bin == "" {
		bin = filepath.Join(repoRoot, "bin", "e2e")
	}
	top := t.TempDir()
	repo := filepath.Join(top, "repo")
	for name, body := range map[string]string{
		"outside.yaml":                    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: outside}\n",
		"repo/chart/Chart.yaml":           "apiVersion: v2\nname: c\nversion: 0.1.0\n",
		"repo/chart/templates/cm.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  env: {{ .Files.Get \"env\" | quote }}\n  host: {{ getHostByName \"example.com\" | quote }}\n",
		"repo/k/kustomization.yaml":       "resources:\n  - cm.yaml\n  - git::file://" + top + "/other\n  - https://example.com/x.yaml\n  - github.com/example/repo//base?ref=v1\n",
		"repo/k/cm.yaml":                  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: local}\n",
		"repo/policies/p.rego":            "package klint.p\nimport rego.v1\ndeny contains \"x\" if { input.kind == \"Nothing\" }\n",
		"repo/plain/deployment.yaml":      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {app: d}}\n  template:\n    metadata: {labels: {app: d}}\n    spec: {containers: [{name: c, image: nginx}]}\n",
		"repo/chart/templates/_h.tpl":     "{{/* */}}\n",
		"repo/plain/notes/readme.yaml":    "a: b\n",
		"repo/chart/ci/other-values.yaml": "x: 1\n",
	} {
		p := filepath.Join(top, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{"repo/chart/env": "/proc/self/environ", "repo/chart/out.yaml": "../../outside.yaml", "repo/plain/root": "/usr/share"} {
		if err := os.Symlink(target, filepath.Join(top, link)); err != nil {
			t.Fatal(err)
		}
	}
	// The repository is a git repository, and klint judges the working
	// tree as an update of its commit (--base HEAD): reading git's
	// objects runs no git either.
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}, {"commit", "-qm", "base"}} {
		git := exec.Command("git", append([]string{"-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		git.Dir = repo
		if out, err := git.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	changed := strings.ReplaceAll(string(must(os.ReadFile(filepath.Join(repo, "plain/deployment.yaml")))), "app: d", "app: e")
	os.WriteFile(filepath.Join(repo, "plain/deployment.yaml"), []byte(changed), 0o644)
	trace := filepath.Join(top, "strace.log")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, strace, "-f", "-qq", "-e", "trace=execve,execveat,fork,vfork,connect,socket", "-o", trace,
		filepath.Join(bin, "klint"), "--policy", "policies", "--base", "HEAD", "--format", "json", ".")
	cmd.Dir = repo
	out, _ := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatal("klint ran for two minutes (walking outside the repository?)")
	}
	if !strings.Contains(string(out), `"rule": "image-latest-tag"`) || !strings.Contains(string(out), `"rule": "immutable-field"`) {
		t.Fatalf("klint did not lint the repository:\n%s", out)
	}
	log, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	execs := 0
	for _, l := range strings.Split(string(log), "\n") {
		switch {
		case strings.Contains(l, "execve(") || strings.Contains(l, "execveat(") || strings.Contains(l, "vfork("):
			execs++
			if execs > 1 {
				t.Errorf("a program was run: %s", l)
			}
		case strings.Contains(l, "connect("), strings.Contains(l, "socket(AF_INET"):
			t.Errorf("a socket was opened: %s", l)
		}
	}
	if execs != 1 {
		t.Errorf("%d execve calls traced, want klint's own", execs)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
