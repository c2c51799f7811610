package gcpace

import (
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"
	"time"
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

func TestPace(t *testing.T) {
	const mb = 1 << 20
	for _, c := range []struct {
		live, floor int64
		gogc, want  int
	}{
		{10 * mb, 64 * mb, 100, 540}, // the next collection at 64 MB
		{32 * mb, 64 * mb, 100, 100}, // GOGC's pace reaches the floor
		{40 * mb, 64 * mb, 100, 100}, // and passes it
		{40 * mb, 64 * mb, 400, 400},
		{0, 64 * mb, 100, 1 << 30}, // nothing live: as late as can be
	} {
		if got := pace(c.live, c.floor, c.gogc); got != c.want {
			t.Errorf("pace(%d MB live, %d MB floor, GOGC %d) = %d, want %d", c.live/mb, c.floor/mb, c.gogc, got, c.want)
		}
	}
}

// This test binary initialised the package, as klint's does: until
// Start the collector is off, and Start with no floor gives it GOGC's pace.
func TestCollectorIsOffUntilStart(t *testing.T) {
	if p := debug.SetGCPercent(-1); p != -1 {
		t.Fatalf("after initialisation the GC percent is %d, want -1 (off)", p)
	}
	Start(0)
	want := gogc(t)
	if p := debug.SetGCPercent(want); p != want {
		t.Fatalf("after Start(0) the GC percent is %d, want GOGC's %d", p, want)
	}
}

// The floor, in a process of its own (Start is once per process): no
// collection before the heap reaches it, then one, after which the
// memory limit is GOMEMLIMIT's again and the pace is set from the live
// heap.
func TestFloor(t *testing.T) {
	if os.Getenv("GCPACE_FLOOR") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFloor$", "-test.v")
		cmd.Env = append(os.Environ(), "GCPACE_FLOOR=1", "GOGC=", "GOMEMLIMIT=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return
	}
	const floor = 64 << 20
	before := gcs()
	Start(floor)
	// 16 MB of garbage, in pieces: far below the floor.
	for range 4096 {
		sink = make([]byte, 4096)
	}
	if n := gcs() - before; n != 0 {
		t.Fatalf("%d collections before the heap reached the floor", n)
	}
	// Past it: a collection, then the pace.
	for range 32 * 1024 {
		sink = make([]byte, 4096)
	}
	if gcs() == before {
		t.Fatal("no collection after 144 MB allocated with a 64 MB floor")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		limit := debug.SetMemoryLimit(-1)
		p := debug.SetGCPercent(-1)
		debug.SetGCPercent(p)
		if limit == math.MaxInt64 && p > 100 {
			return // little is live: the pace keeps the floor
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the first collection: memory limit %d, GC percent %d; want no limit and a pace above 100", limit, p)
		}
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond)
	}
}

var sink []byte

func gcs() uint32 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.NumGC
}
