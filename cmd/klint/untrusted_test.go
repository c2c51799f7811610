package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klint-dev/klint/internal/linkcheck"
)

// hostileRepo lays out, under a temporary directory, a git work tree
// written as a hostile pull request would be, and a directory beside it
// holding what must not leak (outside/). It returns the work tree.
func hostileRepo(t *testing.T) (repo, outside string) {
	t.Helper()
	top := t.TempDir()
	repo, outside = filepath.Join(top, "repo"), filepath.Join(top, "outside")
	files := map[string]string{
		"outside/cm.yaml":                  "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: outside-marker\n  labels: {leak: \"outside-marker\"}\n",
		"outside/kustomization.yaml":       "resources: [cm.yaml]\n",
		"repo/chart/Chart.yaml":            "apiVersion: v2\nname: c\nversion: 0.1.0\n",
		"repo/chart/templates/cm.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  labels:\n    env: {{ .Files.Get \"env\" | quote }}\n    out: {{ .Files.Get \"out.yaml\" | quote }}\ndata:\n  env: {{ .Files.Get \"env\" | quote }}\n",
		"repo/k/kustomization.yaml":        "resources:\n  - ../../outside/cm.yaml\n",
		"repo/remote/kustomization.yaml":   "resources:\n  - local.yaml\n  - https://example.invalid/x.yaml\n  - git::file:///" + top + "/outside\n",
		"repo/remote/local.yaml":           "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: local}\n",
		"repo/plain/svc.yaml":              nodePortService,
		"repo/.git/HEAD":                   "ref: refs/heads/main\n",
		"repo/chart/templates/_helper.tpl": "{{/* nothing */}}\n",
	}
	for name, body := range files {
		p := filepath.Join(top, name)
		must(t, os.MkdirAll(filepath.Dir(p), 0o755))
		must(t, os.WriteFile(p, []byte(body), 0o644))
	}
	must(t, os.Symlink("/proc/self/environ", filepath.Join(repo, "chart", "env")))
	must(t, os.Symlink("../../outside/cm.yaml", filepath.Join(repo, "chart", "out.yaml")))
	must(t, os.Symlink("../../outside", filepath.Join(repo, "plain", "outdir")))
	must(t, os.Symlink("../../outside/cm.yaml", filepath.Join(repo, "plain", "outfile.yaml")))
	must(t, os.Symlink("/sys", filepath.Join(repo, "plain", "sys")))
	return repo, outside
}

// A pull request cannot make klint read outside its repository: a chart's
// symlink to /proc/self/environ or to a file outside, a symlinked file or
// directory leading out, a kustomization's resource outside, a remote
// resource. Each is a finding naming the link at its line; nothing the
// targets hold (the runner's environment, the outside file) is in any
// output format; and the run does not wander /sys.
func TestNothingOutsideTheRepositoryIsRead(t *testing.T) {
	repo, _ := hostileRepo(t)
	t.Setenv("FAKE_TOKEN", "supersecret123")
	t.Chdir(repo)
	for _, format := range []string{"text", "json", "sarif", "junit", "github"} {
		start := time.Now()
		code, out, errOut := klint(t, "", "--format", format, ".")
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("%s: the run took %v", format, d)
		}
		if code != exitError {
			t.Errorf("%s: exit %d, want %d", format, code, exitError)
		}
		for _, leak := range []string{"supersecret123", "FAKE_TOKEN", "outside-marker"} {
			if strings.Contains(out+errOut, leak) {
				t.Errorf("%s: output holds %q:\n%s%s", format, leak, out, errOut)
			}
		}
	}
	_, out, _ := klint(t, "", "--color", "never", ".")
	for _, want := range []string{
		"chart/env:1:1: error render: chart file not read: chart/env resolves to /proc/",
		"chart/out.yaml:1:1: error render: chart file not read: chart/out.yaml is a symlink (or is under one) that resolves outside the repository",
		"k/kustomization.yaml:2:5: error render: kustomization does not build: accumulating resources",
		"plain/outdir:1:1: error unreadable: not read: plain/outdir is a symlink (or is under one) that resolves outside the repository",
		"plain/outfile.yaml:1:1: error unreadable: not read: plain/outfile.yaml is a symlink",
		"plain/sys:1:1: error unreadable: not read: plain/sys resolves to /sys, a special file klint never reads\n",
		"remote/kustomization.yaml:3:5: error render: remote resource not fetched: klint works offline and runs no program",
		"remote/kustomization.yaml:4:5: error render: remote resource not fetched",
		// The rest is still linted: the chart's own object, the remote
		// kustomization's local file, the plain Service.
		`plain/svc.yaml:6:3: warning service-selects-nothing: Service "s" selects no pods`,
		"1 file, 1 chart, 2 kustomizations, 3 objects: 8 errors, 1 warning, 1 info",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

// --allow-outside widens the boundary on purpose: the outside directory's
// kustomization is then built through the link that leads there (its
// object counted), and the symlinked file read.
func TestAllowOutside(t *testing.T) {
	repo, outside := hostileRepo(t)
	t.Chdir(repo)
	_, out, _ := klint(t, "", "--color", "never", "--allow-outside", outside, "plain", "k")
	if strings.Contains(out, "plain/outdir:1:1: error unreadable") || !strings.Contains(out, "2 files, 2 kustomizations, 4 objects: 2 errors") {
		t.Errorf("--allow-outside did not widen the boundary:\n%s", out)
	}
}

// A repository's own .klint.yaml can narrow what klint does, never widen
// what it reads: allowOutside there, or a path outside the repository
// (a baseline at /etc/passwd, CRDs elsewhere), is an error at its line.
// The same config given from outside the repository is the user's word.
func TestRepositoryConfigCannotWidenTheBoundary(t *testing.T) {
	repo, outside := hostileRepo(t)
	t.Chdir(repo)
	_ = outside
	for _, c := range []struct{ config, want string }{
		{"allowOutside: [/]\n", "config .klint.yaml:1: allowOutside is not honoured in the repository's own config"},
		{"rules: {}\nbaseline: /etc/passwd\n", "config .klint.yaml:2: baseline: /etc/passwd is outside the repository"},
		{"crds:\n  - ../outside\n", "config .klint.yaml:1: crds: ../outside is outside the repository"},
	} {
		must(t, os.WriteFile(".klint.yaml", []byte(c.config), 0o644))
		code, out, errOut := klint(t, "", "plain/svc.yaml")
		if code != exitError || !strings.Contains(errOut, c.want) {
			t.Errorf("config %q: exit %d, stderr %q, want %q\n%s", c.config, code, errOut, c.want, out)
		}
	}
	os.Remove(".klint.yaml")
	own := filepath.Join(outside, "klint.yaml")
	must(t, os.WriteFile(own, []byte("allowOutside: [.]\n"), 0o644))
	if _, out, errOut := klint(t, "", "--color", "never", "--config", own, "plain"); strings.Contains(out, "plain/outdir:1:1: error unreadable") || !strings.Contains(out, "1 kustomization, 3 objects: 1 error") {
		t.Errorf("a config outside the repository did not widen it:\n%s%s", out, errOut)
	}
}

// A policy or CRD file in the repository that links out of its directory
// is not read (a parse error would quote what it points to): the run
// stops with an error naming the link.
func TestPolicyAndCRDLinksOutAreNotRead(t *testing.T) {
	repo, outside := hostileRepo(t)
	t.Setenv("FAKE_TOKEN", "supersecret123")
	t.Chdir(repo)
	must(t, os.WriteFile(filepath.Join(outside, "leak.rego"), []byte("FAKE_TOKEN=outside-marker\n"), 0o644))
	for _, c := range []struct{ dir, link, target, config string }{
		{"policies", "env.rego", "/proc/self/environ", "policies: [policies]\n"},
		{"policies2", "leak.rego", "../../outside/leak.rego", "policies: [policies2]\n"},
		{"crds", "env.yaml", "/proc/self/environ", "crds: [crds]\n"},
		{"crds2", "leak.yaml", "../../outside/leak.rego", "crds: [crds2]\n"},
	} {
		must(t, os.MkdirAll(c.dir, 0o755))
		must(t, os.Symlink(c.target, filepath.Join(c.dir, c.link)))
		must(t, os.WriteFile(".klint.yaml", []byte(c.config), 0o644))
		code, out, errOut := klint(t, "", "plain/svc.yaml")
		if code != exitError || !strings.Contains(errOut, filepath.Join(c.dir, c.link)) || strings.Contains(out+errOut, "supersecret123") || strings.Contains(out+errOut, "outside-marker") {
			t.Errorf("%s: exit %d\n%s%s", c.dir, code, out, errOut)
		}
	}
}

// klint fetches nothing: it does not even link Helm's getters (HTTP and
// OCI downloads of values files and charts), the OCI registry client they
// use, or Helm's plugin runtime (a WebAssembly engine that runs plugins).
func TestLinksNoFetcherOrPluginRuntime(t *testing.T) {
	linkcheck.Check(t, "klint",
		[]string{"helm.sh/helm/v4/pkg/getter", "helm.sh/helm/v4/pkg/registry", "helm.sh/helm/v4/internal/plugin", "oras.land/", "github.com/tetratelabs/wazero", "github.com/extism/"},
		// Helm's engine is how it renders charts: the test must see it.
		[]string{"helm.sh/helm/v4/pkg/engine"})
}
