package admission

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klint-dev/klint/pkg/engine"
	admissionv1 "k8s.io/api/admission/v1"
)

// stallServer is the webhook's handler with the server's own defaults
// (7 MiB bodies, 128 MiB in flight), over TLS with HTTP/2 on.
func stallServer(t *testing.T, bodyTimeout time.Duration) (*httptest.Server, Limits) {
	t.Helper()
	e, err := engine.New(context.Background(), engine.Options{SingleObject: true, MaxFindingsPerRule: MaxListed})
	if err != nil {
		t.Fatal(err)
	}
	h := Limits{MaxBody: DefaultMaxBody, InFlight: NewInFlight(128 << 20), BodyTimeout: bodyTimeout}
	rv, _ := NewReviewer(e, Config{})
	s := httptest.NewUnstartedServer(Endpoint("validate", DeciderFunc(rv.Validate), Options{Limits: h}))
	s.EnableHTTP2 = true
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	t.Cleanup(s.Close)
	return s, h
}

// from is a client whose connections come from the loopback address ip.
func from(ip string, h2 bool) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: d.DialContext, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, ForceAttemptHTTP2: h2}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// stall starts n uploads from c that announce size bytes, send sent of
// them and wait (until the test ends, or the server gives up on them).
func stall(t *testing.T, c *http.Client, url string, n int, size, sent int64) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for range n {
		pr, pw := io.Pipe()
		go func() {
			pw.Write(bytes.Repeat([]byte(" "), int(sent)))
			<-ctx.Done()
			pw.CloseWithError(ctx.Err())
		}()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/validate", pr)
		req.ContentLength = size
		req.Header.Set("Content-Type", "application/json")
		go func() {
			if resp, err := c.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
	}
}

// Uploads that stall cannot switch the webhook off: 18 announcing 7 MiB
// and 2 announcing 1 MiB, each stalled before its last byte, over
// HTTP/1.1 (20 connections) or HTTP/2 (one connection, 20 streams), from
// one client; then 40 ordinary reviews from another (the API server) are
// each judged: denied for their :latest image, none answered 429. The
// stalled uploads hold only what they sent, one client at most a quarter
// of the bound, and with a body deadline they are cut off.
func TestStalledUploadsDoNotStarveReviews(t *testing.T) {
	body := review(t, admissionv1.Create, "shop", latestDeployment)
	for _, c := range []struct {
		name        string
		h2          bool
		bodyTimeout time.Duration
	}{{"http1", false, 0}, {"http2", true, 0}, {"http1 with a body deadline", false, 500 * time.Millisecond}} {
		t.Run(c.name, func(t *testing.T) {
			s, h := stallServer(t, c.bodyTimeout)
			attacker := from("127.0.0.2", c.h2)
			stall(t, attacker, s.URL, 18, 7<<20, 7<<20-1)
			stall(t, attacker, s.URL, 2, 1<<20, 1<<20-1)
			time.Sleep(time.Second) // the uploads are sent, and held
			apiServer := from("127.0.0.1", c.h2)
			var wg sync.WaitGroup
			var mu sync.Mutex
			answers := map[string]int{}
			for range 40 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					resp, err := apiServer.Post(s.URL+"/validate", "application/json", bytes.NewReader(body))
					answer := ""
					if err != nil {
						answer = err.Error()
					} else {
						var out admissionv1.AdmissionReview
						json.NewDecoder(resp.Body).Decode(&out)
						resp.Body.Close()
						answer = fmt.Sprint(resp.StatusCode)
						if out.Response != nil && !out.Response.Allowed && strings.Contains(out.Response.Result.Message, "image-latest-tag") {
							answer += " denied"
						}
					}
					mu.Lock()
					answers[answer]++
					mu.Unlock()
				}()
			}
			wg.Wait()
			if answers["200 denied"] != 40 {
				t.Errorf("answers %v, want 40 × 200 denied", answers)
			}
			held := func() int64 {
				h.InFlight.mu.Lock()
				defer h.InFlight.mu.Unlock()
				return h.InFlight.held["127.0.0.2"]
			}
			if c.bodyTimeout > 0 { // every stalled body is cut off, soon after its deadline
				for deadline := time.Now().Add(10 * time.Second); held() != 0 && time.Now().Before(deadline); {
					time.Sleep(50 * time.Millisecond)
				}
			}
			switch held := held(); {
			case held > h.InFlight.PerClient:
				t.Errorf("the stalling client holds %d bytes, over its share of %d", held, h.InFlight.PerClient)
			case c.bodyTimeout > 0 && held != 0:
				t.Errorf("the stalling client still holds %d bytes after the body deadline", held)
			case c.bodyTimeout == 0 && held == 0:
				t.Errorf("the stalled uploads hold nothing: the test stalled nothing")
			}
		})
	}
}
