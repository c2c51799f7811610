// Package linkcheck holds a command to what it links, in its tests: the
// packages `go list -deps` gives for the package in the working directory
// (a test runs in its package's directory).
package linkcheck

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// Check reports each linked package under one of the forbidden prefixes,
// and each needed package that is not linked; name is the command, as the
// errors say it.
func Check(t testing.TB, name string, forbidden, needed []string) {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	deps := strings.Fields(string(out))
	for _, dep := range deps {
		for _, prefix := range forbidden {
			if strings.HasPrefix(dep, prefix) {
				t.Errorf("%s links %s", name, dep)
			}
		}
	}
	for _, pkg := range needed {
		if !slices.Contains(deps, pkg) {
			t.Errorf("%s does not link %s", name, pkg)
		}
	}
}
