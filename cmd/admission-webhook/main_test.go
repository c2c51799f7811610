package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/klint-dev/klint/internal/linkcheck"
)

func writeCerts(t *testing.T, dir string) []byte {
	t.Helper()
	var out bytes.Buffer
	cmd := newRootCmd(&out, io.Discard, nil)
	cmd.SetArgs([]string{"certs", "--service", "klint-webhook", "--namespace", "klint-system", "--host", "127.0.0.1", "--out-dir", dir})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	ca, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if bundle, err := base64.StdEncoding.DecodeString(strings.TrimSpace(out.String())); err != nil || !bytes.Equal(bundle, ca) {
		t.Fatalf("printed caBundle is not ca.crt: %q", out.String())
	}
	return ca
}

type running struct {
	webhook, metrics string
	cancel           context.CancelFunc
	done             chan error
	logs             *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func start(t *testing.T, dir string, extra ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1), logs: &syncBuffer{}}
	addrs := make(chan [2]string, 1)
	cmd := newRootCmd(io.Discard, r.logs, func(w, m net.Addr) { addrs <- [2]string{w.String(), m.String()} })
	cmd.SetArgs(append([]string{"--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0",
		"--tls-cert-file", filepath.Join(dir, "tls.crt"), "--tls-private-key-file", filepath.Join(dir, "tls.key")}, extra...))
	go func() { r.done <- cmd.ExecuteContext(ctx) }()
	select {
	case a := <-addrs:
		r.webhook, r.metrics = a[0], a[1]
	case err := <-r.done:
		t.Fatalf("server exited: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() { cancel() })
	return r
}

func client(ca []byte) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}}
}

const reviewJSON = `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1","operation":"CREATE","namespace":"shop","name":"p",
"kind":{"group":"","version":"v1","kind":"Pod"},"userInfo":{"username":"alice"},
"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"c","image":"nginx:latest"}]}}}}`

func TestServeValidateMetricsAndShutdown(t *testing.T) {
	dir := t.TempDir()
	ca := writeCerts(t, dir)
	r := start(t, dir, "--drain-delay", "300ms")
	c := client(ca)
	resp, err := c.Post("https://"+r.webhook+"/validate", "application/json", strings.NewReader(reviewJSON))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Response struct {
			UID     string
			Allowed bool
			Status  struct{ Code int } `json:"status"`
		}
	}
	json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if out.Response.UID != "u-1" || out.Response.Allowed || out.Response.Status.Code != 403 {
		t.Fatalf("response %+v", out.Response)
	}
	// TLS below 1.2 is refused.
	old := &tls.Config{MaxVersion: tls.VersionTLS11, InsecureSkipVerify: true}
	if conn, err := tls.Dial("tcp", r.webhook, old); err == nil {
		conn.Close()
		t.Error("TLS 1.1 accepted")
	}
	m, err := http.Get("http://" + r.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(m.Body)
	m.Body.Close()
	for _, want := range []string{
		`klint_admission_requests_total{decision="denied",endpoint="validate",kind="Pod",operation="CREATE"} 1`,
		"klint_admission_request_duration_seconds_bucket", "klint_admission_certificate_expiry_timestamp_seconds", "klint_admission_in_flight_requests 0",
		`klint_admission_rule_duration_seconds_count{rule="image-latest-tag"} 1`, `klint_admission_rule_duration_seconds_count{rule="rego"} 1`,
		`klint_admission_rule_duration_seconds_count{rule="schema"} 1`, "klint_admission_certificate_reload_errors_total 0",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if !strings.Contains(r.logs.String(), `"uid":"u-1"`) || !strings.Contains(r.logs.String(), `"decision":"denied"`) || !strings.Contains(r.logs.String(), `"user":"alice"`) {
		t.Errorf("log: %s", r.logs.String())
	}
	if ready, _ := c.Get("https://" + r.webhook + "/readyz"); ready == nil || ready.StatusCode != 200 {
		t.Fatal("not ready")
	}
	r.cancel()
	time.Sleep(100 * time.Millisecond)
	if ready, err := c.Get("https://" + r.webhook + "/readyz"); err != nil || ready.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("readyz during drain: %v %v", err, ready)
	}
	// During the drain, answers close their connection, so clients open
	// the next one to another replica.
	resp, err = c.Post("https://"+r.webhook+"/validate", "application/json", strings.NewReader(reviewJSON))
	if err != nil || resp.StatusCode != 200 || !resp.Close {
		t.Errorf("request during drain: %v %+v", err, resp)
	}
	if resp != nil {
		resp.Body.Close()
	}
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("did not shut down")
	}
}

// Replacing the certificate files switches the served certificate with no
// restart, and no request fails during the swap.
func TestCertificateRotation(t *testing.T) {
	dir := t.TempDir()
	writeCerts(t, dir)
	r := start(t, dir)
	insecure := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true}}
	serial := func() string {
		resp, err := insecure.Get("https://" + r.webhook + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.TLS.PeerCertificates[0].SerialNumber.String()
	}
	first := serial()
	var failures atomic.Int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			resp, err := insecure.Post("https://"+r.webhook+"/validate", "application/json", strings.NewReader(reviewJSON))
			if err != nil || resp.StatusCode != 200 {
				failures.Add(1)
			}
			if resp != nil {
				resp.Body.Close()
			}
		}
	}()
	// Write the new pair the way a Secret volume update does: new files
	// moved into place.
	next := t.TempDir()
	writeCerts(t, next)
	time.Sleep(1100 * time.Millisecond) // let the mtime differ on coarse clocks
	for _, f := range []string{"tls.key", "tls.crt"} {
		data, _ := os.ReadFile(filepath.Join(next, f))
		tmp := filepath.Join(dir, "."+f)
		os.WriteFile(tmp, data, 0o600)
		if err := os.Rename(tmp, filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for serial() == first {
		if time.Now().After(deadline) {
			t.Fatal("certificate not reloaded")
		}
		time.Sleep(200 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Errorf("%d requests failed during rotation", n)
	}
}

func TestMissingCertificateIsAClearError(t *testing.T) {
	cmd := newRootCmd(io.Discard, io.Discard, nil)
	cmd.SetArgs([]string{"--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", "--tls-cert-file", "/nonexistent/tls.crt", "--tls-private-key-file", "/nonexistent/tls.key"})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/tls.crt") {
		t.Errorf("err = %v", err)
	}
}

// TestMain lets a test run this binary's main as a child process (to send
// it signals) without building it.
func TestMain(m *testing.M) {
	if args := os.Getenv("KLINT_WEBHOOK_CHILD_ARGS"); args != "" {
		os.Args = append([]string{"admission-webhook"}, strings.Fields(args)...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// The first SIGTERM starts the drain; a second one exits at once.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	dir := t.TempDir()
	writeCerts(t, dir)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "KLINT_WEBHOOK_CHILD_ARGS=--listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0 --drain-delay 60s"+
		" --tls-cert-file "+filepath.Join(dir, "tls.crt")+" --tls-private-key-file "+filepath.Join(dir, "tls.key"))
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitFor := func(s string) {
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(logs.String(), s) {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("no %q in %s", s, logs.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor(`"msg":"serving"`)
	cmd.Process.Signal(syscall.SIGTERM)
	waitFor(`"msg":"shutting down"`)
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(logs.String(), "second signal, exiting without draining") {
			t.Errorf("exit %v, logs %s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("still draining after the second signal")
	}
}

// The metrics listener has timeouts, so slow or idle clients cannot hold
// its connections.
func TestMetricsServerHasTimeouts(t *testing.T) {
	s := metricsServer(http.NewServeMux())
	if s.ReadHeaderTimeout <= 0 || s.ReadTimeout <= 0 || s.WriteTimeout <= 0 || s.IdleTimeout <= 0 {
		t.Errorf("timeouts: header %v, read %v, write %v, idle %v", s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout)
	}
}

// The webhook sits in the API server's request path: it links none of
// what only the CLI needs (Helm, kustomize, the API server's registry
// from k8s.io/kubernetes), nor the admission policy plugins, whose
// informers and fake clientsets cost every request's process memory; it
// judges CEL rules with the API server's CEL evaluator alone.
func TestLinksOnlyWhatItServes(t *testing.T) {
	linkcheck.Check(t, "the webhook",
		[]string{"helm.sh/helm/", "sigs.k8s.io/kustomize/", "k8s.io/kubernetes/", "k8s.io/apiserver/pkg/admission/plugin/policy/", "k8s.io/client-go/kubernetes/fake", "github.com/klint-dev/klint/pkg/admissionpolicy"},
		// pkg/celrule is how it judges CEL rules.
		[]string{"github.com/klint-dev/klint/pkg/celrule"})
}
