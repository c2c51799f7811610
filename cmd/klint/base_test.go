package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// commitAll makes dir a git repository (if it is not one) and commits
// everything in it, with go-git: the tests need no git program.
func commitAll(t *testing.T, dir string) string {
	t.Helper()
	repo, err := git.PlainOpen(dir)
	if err != nil {
		if repo, err = git.PlainInit(dir, false); err != nil {
			t.Fatal(err)
		}
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	h, err := wt.Commit("base", &git.CommitOptions{Author: &object.Signature{Name: "t", Email: "t@example.com", When: time.Unix(1e9, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// updateRules are the rules whose findings the update fixtures decide.
var updateRules = []string{"schema", "immutable-field", "object-renamed", "crd-version-removed", "service-port-removed", "ingress-backend-missing"}

var wantMarker = regexp.MustCompile(`# want: ([a-z-]+)`)

// Each update fixture is a previous manifest (old.yaml, committed) and its
// change (new.yaml, in the working tree): with --base, klint reports what
// the fixture's "# want:" comments say, at those lines, each immutable
// field with its line at the base; without --base, no update finding.
func TestBaseUpdateFixtures(t *testing.T) {
	cases, _ := filepath.Glob("../../testdata/update/*")
	if len(cases) < 10 {
		t.Fatalf("%d update fixtures", len(cases))
	}
	for _, c := range cases {
		t.Run(filepath.Base(c), func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, "app.yaml")
			old, _ := os.ReadFile(filepath.Join(c, "old.yaml"))
			new, _ := os.ReadFile(filepath.Join(c, "new.yaml"))
			os.WriteFile(file, old, 0o644)
			commitAll(t, dir)
			os.WriteFile(file, new, 0o644)
			var want []string
			for i, l := range strings.Split(string(new), "\n") {
				if m := wantMarker.FindStringSubmatch(l); m != nil {
					want = append(want, fmt.Sprintf("%s %d", m[1], i+1))
				}
			}
			for _, base := range []bool{true, false} {
				args := []string{"-o", "json", file}
				if base {
					args = append([]string{"--base", "HEAD"}, args...)
				}
				_, out, errOut := klint(t, "", args...)
				var r renderReport
				if err := json.Unmarshal([]byte(out), &r); err != nil {
					t.Fatalf("%v\n%s\n%s", err, out, errOut)
				}
				var got []string
				for _, f := range r.Findings {
					if !slices.Contains(updateRules, f.Rule) {
						continue
					}
					got = append(got, fmt.Sprintf("%s %d", f.Rule, f.Line))
					if f.Rule == "immutable-field" && (len(f.Related) != 1 || f.Related[0].File != file || f.Related[0].Line == 0 || !strings.Contains(f.Related[0].Message, "HEAD")) {
						t.Errorf("immutable-field without the old line: %+v", f.Related)
					}
				}
				if !base {
					// Without a base, a change is a create.
					want = slices.DeleteFunc(want, func(w string) bool { return !strings.HasPrefix(w, "ingress-backend-missing") })
				}
				if !slices.Equal(got, want) {
					t.Errorf("base %v: findings %q, want %q\n%s", base, got, want, out)
				}
				if strings.Contains(out, "bmV3LXNlY3JldC12YWx1ZQ") || strings.Contains(out, "b2xkLXNlY3JldC12YWx1ZQ") {
					t.Errorf("a secret value is in the report:\n%s", out)
				}
			}
		})
	}
}

// A shallow clone without the base revision gets an error that says
// which fetch brings it.
func TestBaseShallowCloneSaysWhatToFetch(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "app.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"), 0o644)
	head := commitAll(t, dir)
	os.WriteFile(filepath.Join(dir, ".git", "shallow"), []byte(head+"\n"), 0o644)
	code, _, errOut := klint(t, "", "--base", "origin/main", dir)
	if code != 2 || !strings.Contains(errOut, "--base origin/main: no such revision") || !strings.Contains(errOut, "shallow clone") ||
		!strings.Contains(errOut, "git fetch --depth=1 origin main:refs/remotes/origin/main") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = klint(t, "", "--base", "no-such-branch", dir)
	if code != 2 || !strings.Contains(errOut, "--base no-such-branch: no such revision") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// treeState is every file under dir, .git included, with its content.
func treeState(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			out[p] = string(data)
		}
		return nil
	})
	return out
}

// A Deployment moved to another file under a new name is a rename; the
// base is read from git's objects, leaving the working tree, the index
// and the temporary directory as they were; the base may come from the
// config or KLINT_BASE, and a branch names it as well as a commit.
func TestBaseRenameAcrossFilesAndWhereTheBaseComesFrom(t *testing.T) {
	dir := t.TempDir()
	deploy := func(name string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: " + name + "\n  namespace: shop\nspec:\n  selector:\n    matchLabels:\n      app: web\n" +
			"  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n"
	}
	os.WriteFile(filepath.Join(dir, "old.yaml"), []byte(deploy("web")), 0o644)
	commitAll(t, dir)
	repo, _ := git.PlainOpen(dir)
	head, _ := repo.Head()
	os.Remove(filepath.Join(dir, "old.yaml"))
	os.WriteFile(filepath.Join(dir, "new.yaml"), []byte(deploy("web-v2")), 0o644)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	before := treeState(t, dir)
	t.Chdir(dir)
	want := "object-renamed new.yaml:4:3 <old.yaml:4:3>"
	for name, c := range map[string]struct {
		args   []string
		env    string
		config string
	}{
		"flag, branch":     {args: []string{"--base", head.Name().Short()}},
		"flag, commit":     {args: []string{"--base", head.Hash().String()[:12]}},
		"KLINT_BASE":       {env: "HEAD"},
		"config":           {config: "base: HEAD\n"},
		"flag over config": {args: []string{"--base", "HEAD"}, config: "base: no-such-branch\n"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("KLINT_BASE", c.env)
			args := append([]string{"-o", "json", "--enable", "object-renamed"}, c.args...)
			if c.config != "" {
				cfg := filepath.Join(tmp, "klint.yaml")
				os.WriteFile(cfg, []byte(c.config), 0o644)
				args = append(args, "--config", cfg)
			}
			_, out, errOut := klint(t, "", append(args, ".")...)
			var r renderReport
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("%v\n%s", err, errOut)
			}
			var got []string
			for _, f := range r.Findings {
				if f.Rule == "object-renamed" {
					k := fmt.Sprintf("%s %s:%d:%d", f.Rule, f.File, f.Line, f.Column)
					for _, rel := range f.Related {
						k += fmt.Sprintf(" <%s:%d:%d>", rel.File, rel.Line, rel.Column)
					}
					got = append(got, k)
				}
			}
			if len(got) != 1 || got[0] != want {
				t.Errorf("findings %q, want %q", got, want)
			}
		})
	}
	if after := treeState(t, dir); !mapsEqual(before, after) {
		t.Error("the run changed the working tree or .git")
	}
	if left, _ := os.ReadDir(tmp); len(left) != 1 { // klint.yaml
		t.Errorf("left in TMPDIR: %v", left)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// A chart is rendered at the base revision with the same values sets:
// a values change that changes a selector is an immutable field, at the
// template's line, with the values line and the old line related.
func TestBaseRendersChartsAtTheRevision(t *testing.T) {
	dir := t.TempDir()
	chart := filepath.Join(dir, "charts", "web")
	os.MkdirAll(filepath.Join(chart, "templates"), 0o755)
	os.WriteFile(filepath.Join(chart, "Chart.yaml"), []byte("apiVersion: v2\nname: web\nversion: 0.1.0\n"), 0o644)
	os.WriteFile(filepath.Join(chart, "values.yaml"), []byte("app: web\n"), 0o644)
	os.WriteFile(filepath.Join(chart, "templates", "deploy.yaml"), []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector:
    matchLabels:
      app: {{ .Values.app }}
  template:
    metadata:
      labels:
        app: {{ .Values.app }}
    spec:
      containers:
        - name: web
          image: nginx:1.27
`), 0o644)
	commitAll(t, dir)
	os.WriteFile(filepath.Join(chart, "values.yaml"), []byte("app: shop\n"), 0o644)
	t.Chdir(dir)
	_, out, errOut := klint(t, "", "-o", "json", "--base", "HEAD", "charts/web")
	var r renderReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	got := slices.DeleteFunc(findingKeys(r), func(k string) bool { return !strings.HasPrefix(k, "immutable-field ") })
	want := []string{"immutable-field charts/web/templates/deploy.yaml:8:7 [charts/web] <charts/web/values.yaml:1:1 value app set here> <charts/web/templates/deploy.yaml:8:7 its value at HEAD>"}
	if !slices.Equal(got, want) {
		t.Errorf("findings %q\nwant %q", got, want)
	}
}

// README's --base output is what klint prints on the fixture it names.
func TestReadmeBaseOutputIsTrue(t *testing.T) {
	readme, _ := os.ReadFile("../../README.md")
	m := regexp.MustCompile("(?s)Output of `klint (--base HEAD app.yaml)` in a repository whose HEAD holds `([^`]*)` as `app.yaml` and whose working tree `new.yaml` \\(exit code (\\d);[^\n]*\n\n```\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no --base output")
	}
	fixture := filepath.Dir(filepath.Join("../..", string(m[2])))
	dir := t.TempDir()
	old, _ := os.ReadFile(filepath.Join(fixture, "old.yaml"))
	new, _ := os.ReadFile(filepath.Join(fixture, "new.yaml"))
	os.WriteFile(filepath.Join(dir, "app.yaml"), old, 0o644)
	commitAll(t, dir)
	os.WriteFile(filepath.Join(dir, "app.yaml"), new, 0o644)
	var others []string
	for _, r := range allRuleIDs(t) {
		if r != "immutable-field" {
			others = append(others, r)
		}
	}
	t.Chdir(dir)
	code, out, errOut := klint(t, "", append([]string{"--disable", strings.Join(others, ",")}, strings.Fields(string(m[1]))...)...)
	if want := string(m[3]); fmt.Sprint(code) != want || out != string(m[4]) {
		t.Errorf("exit %d (README: %s)\n%s%s\nREADME:\n%s", code, want, out, errOut, m[4])
	}
}

// allRuleIDs are the IDs klint rules lists.
func allRuleIDs(t *testing.T) []string {
	t.Helper()
	_, out, _ := klint(t, "", "rules")
	var ids []string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && regexp.MustCompile(`^[a-z][a-z0-9-]+$`).MatchString(f[0]) {
			ids = append(ids, f[0])
		}
	}
	return ids
}

// An object deleted beside one that did not change is not a rename: only
// the objects of new or changed files can be the new name.
func TestBaseDeletionIsNotARenameOfAnUnchangedObject(t *testing.T) {
	dir := t.TempDir()
	svc := func(name string) string {
		return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name + "\n  namespace: shop\nspec:\n  selector: {app: " + name + "}\n  ports:\n    - port: 80\n"
	}
	os.WriteFile(filepath.Join(dir, "kept.yaml"), []byte(svc("kept")), 0o644)
	os.WriteFile(filepath.Join(dir, "gone.yaml"), []byte(svc("gone")), 0o644)
	commitAll(t, dir)
	os.Remove(filepath.Join(dir, "gone.yaml"))
	_, out, errOut := klint(t, "", "-o", "json", "--base", "HEAD", dir)
	if strings.Contains(out, `"rule": "object-renamed"`) || !strings.Contains(out, `"findings"`) {
		t.Errorf("a deletion reported as a rename:\n%s%s", out, errOut)
	}
}
