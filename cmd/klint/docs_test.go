package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// pastedRun is an output pasted into README or docs/ from a real run:
// `Output of ` + "`bin/klint ARGS`" + ` (exit code N):`, a blank line and
// a code block.
var pastedRun = regexp.MustCompile("(?s)Output of `bin/klint ([^`]*)` \\(exit code (\\d)\\):\n\n```[a-z]*\n(.*?)```")

// README's and docs/'s pasted outputs are what klint prints today, byte
// for byte, with the exit code they say.
func TestPastedOutputsAreTrue(t *testing.T) {
	t.Chdir("../..")
	files, _ := filepath.Glob("docs/*.md")
	files = append(files, "README.md")
	n := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range pastedRun.FindAllStringSubmatch(string(data), -1) {
			n++
			want, _ := strconv.Atoi(m[2])
			code, out, errOut := klint(t, "", strings.Fields(m[1])...)
			if code != want || out != m[3] {
				t.Errorf("%s: bin/klint %s: exit %d (pasted: %d)\n%s%s\npasted:\n%s", file, m[1], code, want, out, errOut, m[3])
			}
		}
	}
	if n < 3 {
		t.Errorf("%d pasted outputs found, want the demo's, the charts' and the CRDs'", n)
	}
}
