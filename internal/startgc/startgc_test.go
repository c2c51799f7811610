package startgc

import (
	"os"
	"runtime/debug"
	"strconv"
	"testing"
)

// gogc is the pace the GOGC environment variable sets, as the runtime
// reads it.
func gogc(t *testing.T) int {
	switch v := os.Getenv("GOGC"); v {
	case "":
		return 100
	case "off":
		return -1
	default:
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatalf("GOGC=%q", v)
		}
		return n
	}
}

// This test binary initialised the package, as klint's does: until
// Resume the collector is off, and Resume gives it GOGC's pace.
func TestCollectorIsOffUntilResume(t *testing.T) {
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Fatalf("after initialisation the GC percent is %d, want -1 (off)", p)
	}
	Resume()
	want := gogc(t)
	if p := debug.SetGCPercent(want); p != want {
		t.Fatalf("after Resume the GC percent is %d, want GOGC's %d", p, want)
	}
	Resume() // again: the same pace
	if p := debug.SetGCPercent(want); p != want {
		t.Fatalf("after a second Resume the GC percent is %d, want %d", p, want)
	}
}
