package main

import (
	"regexp"
	"strings"
	"testing"
)

// Progress goes to stderr, only when asked (stderr is not a terminal
// here), and leaves stdout exactly as without it.
func TestProgress(t *testing.T) {
	after, every := progressAfter, progressEvery
	progressAfter, progressEvery = 0, 0
	defer func() { progressAfter, progressEvery = after, every }()
	dir := testdata + "/nodeport-range"
	code, plain, errPlain := klint(t, "", dir)
	if errPlain != "" {
		t.Errorf("progress without --progress on a non-terminal: %q", errPlain)
	}
	code2, out, errOut := klint(t, "", "--progress", dir)
	if code2 != code || out != plain {
		t.Errorf("--progress changed stdout or the exit code (%d, %d):\n%s\n%s", code, code2, plain, out)
	}
	lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	last := regexp.MustCompile(`^klint: 2/2 inputs read, 5 objects checked \(\d+\.\d s\)$`)
	if len(lines) == 0 || !last.MatchString(lines[len(lines)-1]) || strings.Contains(errOut, "\r") {
		t.Errorf("progress lines: %q", errOut)
	}
}
