// Package gcpace paces the garbage collector of a short-lived process:
// off while the packages it links initialise, then collecting no sooner
// than a floor of heap, and at GOGC's pace above it.
//
// klint links about 1,950 packages whose initialisation allocates about
// 11 MB (schemes, feature gates, Helm's JSON-schema meta-schemas) on a
// heap the runtime first collects at 4 MB: three or four collections
// before main, of a heap nearly all in use. Then a run's live heap is
// small at first and grows: at GOGC's pace (twice the live heap) the
// corpus's run collected 27 times, most of them while less than half of
// its peak was live, marking the same objects again each time. A floor
// below the heap the run reaches anyway lets it grow to that before a
// collection, for no more memory at the peak.
//
// Where it is imported does not matter: packages initialise in
// dependency order, ties broken by import path, so this one, which needs
// only the runtime's, runs among the first, before the libraries'. Only a
// main package imports it: libraries and their tests keep the runtime's
// own pace.
package gcpace

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// percent is the pace GOGC set (100 unless set), before initialisation
// turned the collector off.
var percent = debug.SetGCPercent(-1)

// Start gives the collector back GOGC's pace, except that no collection
// comes before the heap reaches floor bytes: after each collection the
// pace is set so that the next comes when the heap reaches floor, or at
// GOGC's pace when that comes later. A floor of 0, or GOGC=off, leaves
// GOGC's pace alone. Call it once, as main starts.
func Start(floor int64) {
	if floor <= 0 || percent < 0 {
		debug.SetGCPercent(percent)
		return
	}
	p := &pacer{floor: floor, limit: debug.SetMemoryLimit(-1)}
	// Until a collection has measured the live heap, the soft memory
	// limit brings the first one when the heap reaches the floor.
	debug.SetMemoryLimit(min(p.limit, floor))
	p.arm()
}

type pacer struct {
	floor    int64
	limit    int64 // the memory limit GOMEMLIMIT set, given back after the first collection
	measured bool  // a collection has measured the live heap
}

// arm asks to be told of the next collection: an object only a cleanup
// refers to is collected by it.
func (p *pacer) arm() {
	runtime.AddCleanup(new(sentinel), func(p *pacer) { p.collected() }, p)
}

type sentinel struct{ _ [32]byte } // too large for the tiny allocator, which shares blocks

// collected sets the pace after a collection. Cleanups run one at a time
// per pacer: each arms the next only when it is done.
func (p *pacer) collected() {
	if !p.measured {
		p.measured = true
		debug.SetMemoryLimit(p.limit)
	}
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	debug.SetGCPercent(pace(int64(s[0].Value.Uint64()), p.floor, percent))
	p.arm()
}

// pace is the GOGC that brings the next collection when a heap whose
// live part is live bytes reaches floor bytes, or gogc when that comes
// later.
func pace(live, floor int64, gogc int) int {
	live = max(live, 1)
	if g := (floor - live) * 100 / live; g > int64(gogc) {
		return int(min(g, 1<<30))
	}
	return gogc
}
