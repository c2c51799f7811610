package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// readmeQuotes fails the test unless README.md says phrase: a figure
// README quotes from this test must be what this run measured.
func readmeQuotes(t *testing.T, phrase string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), phrase) {
		t.Errorf("README.md does not say %q, which this run measured: update its figure", phrase)
	}
}

// thousands writes n as README does: 4,048.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
