// Package parallel runs a loop's iterations on all cores.
package parallel

import (
	"runtime"
	"sync"
)

// Do runs f(0..n-1) on all cores. A panic in f is re-raised in the
// caller's goroutine, where the caller (the webhook's handler) can recover
// it; a panic in a goroutine of its own would end the process.
func Do(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var wg sync.WaitGroup
	var next int
	var mu sync.Mutex
	var panicked any
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if v := recover(); v != nil {
					mu.Lock()
					panicked = v
					next = n // stop the other workers
					mu.Unlock()
				}
			}()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
}
