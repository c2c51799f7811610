package parallel

import (
	"sync/atomic"
	"testing"
)

// Every index is run exactly once.
func TestDoRunsEachIndexOnce(t *testing.T) {
	counts := make([]atomic.Int32, 1000)
	Do(len(counts), func(i int) { counts[i].Add(1) })
	for i := range counts {
		if n := counts[i].Load(); n != 1 {
			t.Fatalf("index %d ran %d times", i, n)
		}
	}
}

// A panic in f reaches the caller, where it can be recovered (the
// webhook's handler does), instead of ending the process.
func TestDoReraisesAPanicInTheCaller(t *testing.T) {
	defer func() {
		if v := recover(); v != "boom at 7" {
			t.Errorf("recovered %v", v)
		}
	}()
	Do(100, func(i int) {
		if i == 7 {
			panic("boom at 7")
		}
	})
	t.Error("Do returned after a panic")
}
