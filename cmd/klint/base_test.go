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
	cases, _ := filepath.Glob("../../testdata/manifests/update/*")
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
