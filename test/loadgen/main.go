// Command loadgen measures the admission webhook under a fixed request rate
// over HTTPS on loopback: it starts bin/admission-webhook (once with the
// engine, once with --benchmark-noop behind the same TLS server), sends
// AdmissionReviews for a mix of the repository's fixture objects at a
// fixed rate (open loop: requests are sent on schedule, whether or not
// earlier ones have returned), and prints latency percentiles, errors and
// the server's peak RSS.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/klint-dev/klint/test/reviewmix"
	admissionv1 "k8s.io/api/admission/v1"
)

func main() {
	bin := flag.String("webhook", "bin/admission-webhook", "admission-webhook binary")
	rate := flag.Int("rate", 1000, "requests per second")
	dur := flag.Duration("duration", 30*time.Second, "measured duration of each run")
	warmup := flag.Duration("warmup", 3*time.Second, "unmeasured warm-up at the same rate")
	fixtures := flag.String("fixtures", "testdata/manifests", "directory of manifests for the request mix")
	hostileCases := flag.Bool("hostile", false, "run the hostile cases (stalled uploads, huge objects, many kinds) beside a probe stream at -rate")
	serverFlags := flag.String("server-flags", "", "extra flags for the webhook (space-separated)")
	flag.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the webhook judging (not of the no-op handler) to this file")
	flag.Parse()

	bodies, err := reviewmix.Bodies(*fixtures)
	if err != nil {
		fail(err)
	}
	if *hostileCases {
		if err := hostile(*bin, bodies, *rate, *dur, strings.Fields(*serverFlags)); err != nil {
			fail(err)
		}
		return
	}
	fmt.Printf("request mix: %d objects from %s; %d req/s for %s after %s warm-up; 2 cores\n", len(bodies), *fixtures, *rate, *dur, *warmup)
	fmt.Printf("%-8s %8s %8s %9s %9s %9s %9s %7s %10s %11s\n", "handler", "sent", "errors", "p50_ms", "p90_ms", "p99_ms", "max_ms", "rps", "peak_rss_MB", "cpu_ms/req")
	for _, mode := range []string{"klint", "noop"} {
		r, err := runOnce(*bin, mode == "noop", bodies, *rate, *warmup, *dur)
		if err != nil {
			fail(err)
		}
		fmt.Printf("%-8s %8d %8d %9.3f %9.3f %9.3f %9.3f %7.0f %10.1f %11.3f\n", mode, r.sent, r.errors, r.p(50), r.p(90), r.p(99), r.p(100), r.achieved, r.rssMB, r.cpuMsPerRequest)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(1)
}

type result struct {
	sent, errors int64
	latencies    []time.Duration
	achieved     float64
	rssMB        float64
	// cpuMsPerRequest is the server's CPU time (user and system) over
	// the measured run, per request sent.
	cpuMsPerRequest float64
}

func (r *result) p(q float64) float64 {
	if len(r.latencies) == 0 {
		return 0
	}
	i := int(float64(len(r.latencies)-1) * q / 100)
	return float64(r.latencies[i].Microseconds()) / 1000
}

func runOnce(bin string, noop bool, bodies [][]byte, rate int, warmup, dur time.Duration) (*result, error) {
	s, err := startServer(bin, noop, nil)
	if err != nil {
		return nil, err
	}
	defer s.stop()
	shootAt(s.client, s.url, bodies, rate, warmup)
	before := cpuTime(s.cmd.Process.Pid)
	r := shootAt(s.client, s.url, bodies, rate, dur)
	if r.sent > 0 {
		r.cpuMsPerRequest = float64((cpuTime(s.cmd.Process.Pid) - before).Microseconds()) / 1000 / float64(r.sent)
	}
	r.rssMB = peakRSS(s.cmd.Process.Pid)
	return r, nil
}

func post(c *http.Client, url string, body []byte) bool {
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var out admissionv1.AdmissionReview
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&out) != nil || out.Response == nil {
		return false
	}
	// A judged request either is allowed or denied with 403; anything else
	// (400, 500) is an error of the webhook.
	return out.Response.Allowed || (out.Response.Result != nil && out.Response.Result.Code == 403)
}

// peakRSS reads VmHWM, the process's peak resident set, in MB.
func peakRSS(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:")), "%f", &kb)
			return kb / 1024
		}
	}
	return 0
}

// cpuTime is the CPU time (user and system) the process has used, from
// /proc/<pid>/stat (in clock ticks of 1/100 s, as Linux reports them to
// user space).
func cpuTime(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// the fields after it start at the last ')'.
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	var utime, stime int64
	fmt.Sscan(fields[11], &utime)
	fmt.Sscan(fields[12], &stime)
	return time.Duration(utime+stime) * time.Second / 100
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fail(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
