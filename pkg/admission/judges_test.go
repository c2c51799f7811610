package admission

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
)

// goroutineID is the calling goroutine's number, from its stack's header.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _, _ := strings.Cut(strings.TrimPrefix(string(buf), "goroutine "), " ")
	return id
}

func deciderServer(t *testing.T, d DeciderFunc) *httptest.Server {
	s := httptest.NewTLSServer(Endpoint("validate", d, Options{Metrics: NewMetrics(prometheus.NewRegistry())}))
	t.Cleanup(s.Close)
	return s
}

func postReview(s *httptest.Server, body []byte) (int, error) {
	resp, err := s.Client().Post(s.URL+"/validate", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Requests are judged on the pool's long-lived goroutines, whose stacks
// stay grown: 30 requests one after another are decided on about as many
// goroutines as the pool has, where net/http alone would use 30.
func TestRequestsAreJudgedOnLongLivedGoroutines(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]bool{}
	s := deciderServer(t, func(_ context.Context, req *admissionv1.AdmissionRequest) Decision {
		mu.Lock()
		seen[goroutineID()] = true
		mu.Unlock()
		return Decision{Outcome: Allowed, UID: req.UID}
	})
	body := review(t, admissionv1.Create, "shop", latestDeployment)
	post := func(n int) {
		for range n {
			if code, err := postReview(s, body); err != nil || code != http.StatusOK {
				t.Fatalf("%d %v", code, err)
			}
		}
	}
	post(3) // the pool starts with the first request: let its judges start
	mu.Lock()
	clear(seen)
	mu.Unlock()
	post(30)
	// A request finding no judge idle (one not yet started, on a loaded
	// machine) is judged on its own goroutine: two such are tolerated.
	if n, most := len(seen), judgesPerCore*runtime.GOMAXPROCS(0); n > most+2 {
		t.Errorf("30 requests were decided on %d goroutines; the pool has %d", n, most)
	}
}

// When every judge is busy, a request is judged on its own goroutine at
// once: a slow request never makes another wait for a judge.
func TestBusyJudgesHoldNoRequest(t *testing.T) {
	unblock := make(chan struct{})
	release := sync.OnceFunc(func() { close(unblock) })
	var waiting atomic.Int32
	s := deciderServer(t, func(_ context.Context, req *admissionv1.AdmissionRequest) Decision {
		if req.Namespace == "slow" {
			waiting.Add(1)
			<-unblock
		}
		return Decision{Outcome: Allowed, UID: req.UID}
	})
	t.Cleanup(release) // before the server closes, on failure too
	slow := judgesPerCore*runtime.GOMAXPROCS(0) + 2
	var wg sync.WaitGroup
	codes := make(chan int, slow)
	for range slow {
		wg.Go(func() {
			code, err := postReview(s, review(t, admissionv1.Create, "slow", latestDeployment))
			if err != nil {
				t.Error(err)
			}
			codes <- code
		})
	}
	deadline := time.Now().Add(20 * time.Second)
	for waiting.Load() < int32(slow) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d slow requests reached the decider", waiting.Load(), slow)
		}
		time.Sleep(5 * time.Millisecond)
	}
	done := make(chan int, 1)
	go func() {
		code, _ := postReview(s, review(t, admissionv1.Create, "shop", latestDeployment))
		done <- code
	}()
	select {
	case code := <-done:
		if code != http.StatusOK {
			t.Errorf("request beside busy judges: %d", code)
		}
	case <-time.After(20 * time.Second):
		t.Error("a request waited for a busy judge")
	}
	release()
	wg.Wait()
	close(codes)
	for code := range codes {
		if code != http.StatusOK {
			t.Errorf("slow request: %d", code)
		}
	}
}
