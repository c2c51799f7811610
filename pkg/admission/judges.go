package admission

import (
	"runtime"
	"sync"
)

// judges are long-lived goroutines that decode, decide and encode the
// requests whose body is read. net/http serves each request on a new
// goroutine, whose stack starts at a few kilobytes; judging recurses
// deeply (OPA's evaluation of the policies above all, JSON decoding),
// and the runtime grows a stack by doubling it, copying the whole deep
// stack at each step: at 1,000 requests/s that copying was 14 % of the
// webhook's CPU. A judge's stack stays grown from one request to the
// next. When every judge is busy the request is judged on its own
// goroutine, as before: the pool never makes a request wait.
type judges struct{ work chan judgment }

type judgment struct {
	decide func()
	// done receives what decide panicked with, or nil.
	done chan any
}

// judgesPerCore sizes the pool: enough that requests arriving together
// still find an idle judge (one that does not runs on its own goroutine,
// and grows its stack). 2 and 4 per core measure alike on one request at
// a time (docs/performance.md).
const judgesPerCore = 4

var pool = sync.OnceValue(func() *judges {
	p := &judges{work: make(chan judgment)}
	for range judgesPerCore * runtime.GOMAXPROCS(0) {
		go p.serve()
	}
	return p
})

func (p *judges) serve() {
	for j := range p.work {
		judge(j)
	}
}

// judge runs one judgment and always answers it, from a deferred call:
// with what decide panicked with, or nil (also when decide ends the
// goroutine, which then leaves the pool, rather than leave its caller
// waiting).
func judge(j judgment) {
	defer func() { j.done <- recover() }()
	j.decide()
}

// do runs decide on an idle judge and waits for it, or on the calling
// goroutine when none is idle. A panic in decide is raised again on the
// calling goroutine, where the endpoint's observer answers it.
func (p *judges) do(decide func()) {
	j := judgment{decide: decide, done: make(chan any, 1)}
	select {
	case p.work <- j:
		if v := <-j.done; v != nil {
			panic(v)
		}
	default:
		decide()
	}
}
