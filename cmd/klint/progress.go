package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progressAfter is how long a run goes before it shows progress, and
// progressEvery how often it updates it (on a terminal; lines written to
// a log come at most once a second).
var progressAfter, progressEvery = time.Second, 100 * time.Millisecond

// progressMeter shows on stderr how far a run has got: on a terminal
// (outside CI) for runs that take more than progressAfter, as one line
// rewritten in place and cleared at the end; with --progress also in a
// log, as a line a second. Never on stdout.
type progressMeter struct {
	w           io.Writer
	tty         bool
	start, last time.Time
	mu          sync.Mutex
	shown       bool
}

// newProgress returns the meter for this run, or nil when it shows
// nothing.
func newProgress(forced bool, stderr io.Writer) *progressMeter {
	tty := isTerminal(stderr) && os.Getenv("CI") == ""
	if !forced && !tty {
		return nil
	}
	return &progressMeter{w: stderr, tty: tty, start: time.Now()}
}

// update is the engine's Progress callback.
func (p *progressMeter) update(done, total, objects int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	every := progressEvery
	if !p.tty {
		every = time.Second
	}
	if now.Sub(p.start) < progressAfter || (p.shown && now.Sub(p.last) < every && done < total) {
		return
	}
	p.last, p.shown = now, true
	msg := fmt.Sprintf("klint: %d/%d inputs read, %d objects checked (%.1f s)", done, total, objects, now.Sub(p.start).Seconds())
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K"+msg)
	} else {
		fmt.Fprintln(p.w, msg)
	}
}

// finish clears the line the meter drew on a terminal.
func (p *progressMeter) finish() {
	if p != nil && p.tty && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// callback is update as the engine takes it: nil when there is no meter.
func (p *progressMeter) callback() func(done, total, objects int) {
	if p == nil {
		return nil
	}
	return p.update
}
