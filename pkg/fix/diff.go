package fix

import (
	"fmt"
	"io"
	"strings"
)

// Diff writes a unified diff of a file changed only by added lines (what
// Apply does), with three lines of context. A line that holds a secret
// value (see secretLines) is shown with "(value not shown)" for it.
func Diff(w io.Writer, name string, before, after []byte) error {
	secret := secretLines(after)
	a := strings.SplitAfter(string(before), "\n")
	b := strings.SplitAfter(string(after), "\n")
	// added[j] marks the lines of after that before does not have.
	added := make([]bool, len(b))
	i := 0
	for j := range b {
		if i < len(a) && a[i] == b[j] {
			i++
			continue
		}
		added[j] = true
	}
	if _, err := fmt.Fprintf(w, "--- %s\n+++ %s\n", name, name); err != nil {
		return err
	}
	const ctx = 3
	for j := 0; j < len(b); {
		if !added[j] {
			j++
			continue
		}
		// A hunk: from ctx lines before the first addition to ctx lines
		// after the last one that is within 2*ctx of the next.
		start := max(0, j-ctx)
		end := j
		for k := j; k < len(b) && k <= end+2*ctx; k++ {
			if added[k] {
				end = k
			}
		}
		stop := min(len(b), end+ctx+1)
		oldStart, oldCount, newCount := 0, 0, stop-start
		for k := 0; k < start; k++ {
			if !added[k] {
				oldStart++
			}
		}
		for k := start; k < stop; k++ {
			if !added[k] {
				oldCount++
			}
		}
		if _, err := fmt.Fprintf(w, "@@ -%d,%d +%d,%d @@\n", oldStart+1, oldCount, start+1, newCount); err != nil {
			return err
		}
		for k := start; k < stop; k++ {
			mark := " "
			if added[k] {
				mark = "+"
			}
			line := b[k]
			if secret[k+1] {
				line = maskLine(line)
			}
			if !strings.HasSuffix(line, "\n") {
				line += "\n\\ No newline at end of file\n"
			}
			if _, err := io.WriteString(w, mark+line); err != nil {
				return err
			}
		}
		j = stop
	}
	return nil
}
