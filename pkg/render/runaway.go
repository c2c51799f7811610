package render

import (
	"fmt"
	"runtime/metrics"
	"time"
)

// A render cannot be stopped from outside (Go stops neither a template
// loop that calls no function nor a kustomize build): one over its time
// budget is left behind, and most end soon after, at a template function
// that sees the budget spent. One writing a loop's output into memory
// does not, and takes gigabytes within its time budget. watch keeps an
// eye on the heap while a render runs, and if the heap grows past Ceiling
// (or twice what it was when the render started) calls onRunaway: the
// CLI then stops, with exit 2, rather than let one chart take the
// runner's memory.

// Ceiling is the least heap at which a render left behind stops the run.
var Ceiling uint64 = 1 << 30

func heapBytes() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// watch calls onRunaway with a message naming what if the heap passes
// the ceiling before done is closed.
func watch(what string, done <-chan struct{}, onRunaway func(string)) {
	if onRunaway == nil {
		return
	}
	limit := max(Ceiling, 2*heapBytes())
	go func() {
		tick := time.NewTicker(25 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if h := heapBytes(); h > limit {
					onRunaway(fmt.Sprintf("%s was rendering when klint's heap passed %d MiB (%d MiB); stopped before it takes the machine's memory: nothing is reported (fix the chart, or --exclude it)", what, limit>>20, h>>20))
					return
				}
			}
		}
	}()
}
