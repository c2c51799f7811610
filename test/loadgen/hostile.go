package main

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// hostile runs the webhook (with the engine) through each hostile case
// while a steady probe stream of ordinary requests measures what a
// legitimate client sees: latency percentiles, failures, and the server's
// peak RSS (VmHWM) during the case.
func hostile(bin string, bodies [][]byte, probeRate int, dur time.Duration, extra []string) error {
	cases := []struct {
		name   string
		attack func(addr string, stop <-chan struct{})
	}{
		{"none (probes only)", func(string, <-chan struct{}) {}},
		{"60 uploads of 7 MiB stalled before the last byte", stalledUploads(60, 7<<20, 7<<20-1)},
		{"1.5 MB Deployments, 40,000 containers, 2 at a time", hugeObjects(2, 40000)},
		{"150 kB Deployments, 4,000 containers, 4 at a time", hugeObjects(4, 4000)},
		{"20,000 distinct kinds", distinctKinds(20000)},
	}
	fmt.Printf("probe stream: %d req/s of %d fixture objects for %s per case; 2 cores\n", probeRate, len(bodies), dur)
	var bad []string
	fmt.Printf("%-52s %7s %7s %9s %9s %9s %11s %8s\n", "case", "probes", "failed", "p50_ms", "p99_ms", "max_ms", "peak_rss_MB", "series")
	for _, c := range cases {
		s, err := startServer(bin, false, extra)
		if err != nil {
			return err
		}
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); c.attack(s.addr, stop) }()
		time.Sleep(500 * time.Millisecond) // let the attack get going
		r := shootAt(s.client, s.url, bodies, probeRate, dur)
		close(stop)
		wg.Wait()
		rss := peakRSS(s.cmd.Process.Pid)
		series := countSeries(s.metricsURL, "klint_admission_requests_total{")
		s.stop()
		fmt.Printf("%-52s %7d %7d %9.3f %9.3f %9.3f %11.1f %8d\n", c.name, r.sent, r.errors, r.p(50), r.p(99), r.p(100), rss, series)
		// What the shipped Deployment needs: every probe answered, well
		// inside the API server's timeout, within its 256 Mi limit, and
		// metrics series that clients cannot multiply.
		switch {
		case r.errors > 0:
			bad = append(bad, fmt.Sprintf("%s: %d probes failed", c.name, r.errors))
		case r.p(99) > 1000:
			bad = append(bad, fmt.Sprintf("%s: probe p99 %.0f ms", c.name, r.p(99)))
		case rss > 240:
			bad = append(bad, fmt.Sprintf("%s: peak RSS %.0f MB, over the 256 Mi limit's margin", c.name, rss))
		case series > 100:
			bad = append(bad, fmt.Sprintf("%s: %d request series", c.name, series))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("the webhook did not hold up:\n  %s", strings.Join(bad, "\n  "))
	}
	return nil
}

// stalledUploads opens n connections that each announce size bytes, send
// sent of them and then send nothing more until stopped.
func stalledUploads(n int, size, sent int) func(string, <-chan struct{}) {
	return func(addr string, stop <-chan struct{}) {
		var conns []net.Conn
		chunk := make([]byte, 1<<20)
		for i := range chunk {
			chunk[i] = ' '
		}
		for range n {
			c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
			if err != nil {
				continue
			}
			conns = append(conns, c)
			go func() {
				fmt.Fprintf(c, "POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", size)
				for w := 0; w < sent; {
					n := min(len(chunk), sent-w)
					if _, err := c.Write(chunk[:n]); err != nil {
						return
					}
					w += n
				}
			}()
		}
		<-stop
		for _, c := range conns {
			c.Close()
		}
	}
}

// hugeObjects sends Deployments of containers containers, parallel at a
// time, until stopped.
func hugeObjects(parallel, containers int) func(string, <-chan struct{}) {
	return func(addr string, stop <-chan struct{}) {
		cs := make([]map[string]any, containers)
		for i := range cs {
			cs[i] = map[string]any{"name": fmt.Sprintf("c%d", i), "image": "nginx"}
		}
		obj := map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "huge"},
			"spec": map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"app": "huge"}},
				"template": map[string]any{"metadata": map[string]any{"labels": map[string]any{"app": "huge"}}, "spec": map[string]any{"containers": cs}}}}
		raw, _ := json.Marshal(obj)
		body := review("huge", "CREATE", metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}, raw)
		client := insecureClient(30 * time.Second)
		var wg sync.WaitGroup
		for range parallel {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					resp, err := client.Post("https://"+addr+"/validate?timeout=10s", "application/json", strings.NewReader(string(body)))
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}
			}()
		}
		wg.Wait()
	}
}

// distinctKinds sends n requests, each for a kind of its own.
func distinctKinds(n int) func(string, <-chan struct{}) {
	return func(addr string, stop <-chan struct{}) {
		client := insecureClient(10 * time.Second)
		var next atomic.Int64
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > int64(n) {
						return
					}
					select {
					case <-stop:
						return
					default:
					}
					kind := fmt.Sprintf("Kind%d", i)
					raw := fmt.Sprintf(`{"apiVersion":"example.com/v1","kind":%q,"metadata":{"name":"x"}}`, kind)
					body := review("x", fmt.Sprintf("OP%d", i), metav1.GroupVersionKind{Group: "example.com", Version: "v1", Kind: kind}, []byte(raw))
					resp, err := client.Post("https://"+addr+"/validate", "application/json", strings.NewReader(string(body)))
					if err == nil {
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
				}
			}()
		}
		wg.Wait()
		<-stop
	}
}

func review(name, op string, gvk metav1.GroupVersionKind, raw []byte) []byte {
	rv := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{UID: "hostile", Operation: admissionv1.Operation(op), Namespace: "bench", Name: name,
			Kind: gvk, Object: runtime.RawExtension{Raw: raw}},
	}
	b, _ := json.Marshal(rv)
	return b
}

func insecureClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: 16}}
}

// countSeries counts the lines of /metrics that start with prefix.
func countSeries(url, prefix string) int {
	resp, err := http.Get(url)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	n := 0
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), prefix) {
			n++
		}
	}
	return n
}

// server is a running admission-webhook.
type server struct {
	cmd        *exec.Cmd
	dir        string
	addr, url  string
	metricsURL string
	client     *http.Client
}

func (s *server) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	s.cmd.Wait()
	os.RemoveAll(s.dir)
}

// cpuProfile is where the webhook judging (not the no-op handler) writes
// its CPU profile (-cpuprofile).
var cpuProfile string

func startServer(bin string, noop bool, extra []string) (*server, error) {
	dir, err := os.MkdirTemp("", "loadgen")
	if err != nil {
		return nil, err
	}
	if out, err := exec.Command(bin, "certs", "--host", "127.0.0.1", "--out-dir", dir).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("certs: %v %s", err, out)
	}
	port, mport := freePort(), freePort()
	args := append([]string{"--listen", fmt.Sprintf("127.0.0.1:%d", port), "--metrics-listen", fmt.Sprintf("127.0.0.1:%d", mport),
		"--tls-cert-file", filepath.Join(dir, "tls.crt"), "--tls-private-key-file", filepath.Join(dir, "tls.key"), "--drain-delay", "0s"}, extra...)
	if noop {
		args = append(args, "--benchmark-noop")
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = io.Discard
	if cpuProfile != "" && !noop {
		cmd.Env = append(os.Environ(), "KLINT_CPUPROFILE="+cpuProfile)
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	// The probes verify the server's certificate, as the API server does.
	ca, _ := os.ReadFile(filepath.Join(dir, "ca.crt"))
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64,
	}}
	s := &server{cmd: cmd, dir: dir, addr: fmt.Sprintf("127.0.0.1:%d", port), url: fmt.Sprintf("https://127.0.0.1:%d/validate", port),
		metricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", mport), client: client}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := s.client.Get("https://" + s.addr + "/readyz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			return s, nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("webhook not ready: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// shootAt sends bodies at rate for d (open loop) and records latencies.
func shootAt(client *http.Client, url string, bodies [][]byte, rate int, d time.Duration) *result {
	r := &result{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var sent, errs atomic.Int64
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * interval)
		if at.Sub(start) >= d {
			break
		}
		time.Sleep(time.Until(at))
		body := bodies[i%len(bodies)]
		wg.Add(1)
		sent.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			ok := post(client, url, body)
			lat := time.Since(t0)
			mu.Lock()
			if !ok {
				errs.Add(1)
			}
			r.latencies = append(r.latencies, lat)
			mu.Unlock()
		}()
	}
	wg.Wait()
	r.sent, r.errors = sent.Load(), errs.Load()
	r.achieved = float64(r.sent) / time.Since(start).Seconds()
	sort.Slice(r.latencies, func(i, j int) bool { return r.latencies[i] < r.latencies[j] })
	return r
}
