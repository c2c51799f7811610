package admission

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	jsonpatchapply "github.com/evanphx/json-patch/v5"
	"github.com/klint-dev/klint/pkg/engine"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

const latestDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app.kubernetes.io/name: web}
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: web}
  template:
    metadata:
      labels: {app.kubernetes.io/name: web}
    spec:
      containers:
        - name: web
          image: nginx:latest
`

const cleanDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app.kubernetes.io/name: web}
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: web, tier: frontend}
  template:
    metadata:
      labels: {app.kubernetes.io/name: web}
    spec:
      containers:
        - name: web
          image: nginx:1.27
          readinessProbe: {httpGet: {path: /, port: 80}}
`

type server struct {
	*httptest.Server
	metrics *Metrics
}

func newServer(t *testing.T, cfg Config) *server {
	t.Helper()
	// These tests are about admission's mechanics; the Pod Security rules
	// (on by default) have their own test below.
	e, err := engine.New(context.Background(), engine.Options{SingleObject: true, MaxFindingsPerRule: MaxListed, Disable: []string{"pod-security-baseline", "pod-security-restricted"}})
	if err != nil {
		t.Fatal(err)
	}
	rv, err := NewReviewer(e, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return newServerWith(t, rv)
}

func newServerWith(t *testing.T, rv *Reviewer) *server {
	m := NewMetrics(prometheus.NewRegistry())
	mux := http.NewServeMux()
	mux.Handle("/validate", Endpoint("validate", DeciderFunc(rv.Validate), Options{Metrics: m}))
	mux.Handle("/mutate", Endpoint("mutate", DeciderFunc(rv.Mutate), Options{Metrics: m}))
	s := httptest.NewTLSServer(mux)
	t.Cleanup(s.Close)
	return &server{s, m}
}

func review(t *testing.T, op admissionv1.Operation, ns, manifest string) []byte {
	t.Helper()
	raw, err := yaml.YAMLToJSON([]byte(manifest))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		APIVersion string
		Kind       string
		Metadata   struct{ Name string }
	}
	_ = json.Unmarshal(raw, &meta)
	group, _, _ := strings.Cut(meta.APIVersion, "/")
	if !strings.Contains(meta.APIVersion, "/") {
		group = ""
	}
	rv := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID: types.UID("uid-" + string(op) + "-" + ns), Operation: op, Namespace: ns, Name: meta.Metadata.Name,
			Kind:   metav1.GroupVersionKind{Group: group, Kind: meta.Kind},
			Object: runtime.RawExtension{Raw: raw},
		},
	}
	b, _ := json.Marshal(rv)
	return b
}

func (s *server) post(t *testing.T, path, contentType string, body []byte) (int, *admissionv1.AdmissionResponse) {
	t.Helper()
	resp, err := s.Client().Post(s.URL+path, contentType, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var out admissionv1.AdmissionReview
	if err := json.Unmarshal(data, &out); err != nil {
		return resp.StatusCode, nil
	}
	if out.APIVersion != "admission.k8s.io/v1" || out.Kind != "AdmissionReview" {
		t.Errorf("response type %s %s", out.APIVersion, out.Kind)
	}
	return resp.StatusCode, out.Response
}

func TestValidateOverHTTPS(t *testing.T) {
	s := newServer(t, Config{})
	code, r := s.post(t, "/validate", "application/json", review(t, admissionv1.Create, "shop", latestDeployment))
	if code != 200 || r.Allowed || r.UID != "uid-CREATE-shop" || r.Result.Code != 403 ||
		!strings.Contains(r.Result.Message, `klint denied Deployment shop/web: [image-latest-tag] container "web" uses image "nginx:latest"`) {
		t.Fatalf("latest: %d %+v", code, r)
	}
	// Findings below error are warnings, each short enough for kubectl:
	// two probes, three resources, the writable root file system.
	if len(r.Warnings) != 6 || !strings.HasPrefix(r.Warnings[0], "[missing-liveness-probe]") || !strings.HasPrefix(r.Warnings[5], "[writable-root-filesystem]") {
		t.Errorf("warnings = %q", r.Warnings)
	}

	_, r = s.post(t, "/validate", "application/json", review(t, admissionv1.Update, "shop", strings.ReplaceAll(latestDeployment, "nginx:latest", "nginx:1.27")))
	if !r.Allowed || r.UID != "uid-UPDATE-shop" || len(r.Warnings) != 6 {
		t.Errorf("pinned: %+v", r)
	}
	for _, w := range r.Warnings {
		if len([]rune(w)) >= 120 {
			t.Errorf("warning of %d characters: %q", len([]rune(w)), w)
		}
	}
	_, r = s.post(t, "/validate", "application/json", review(t, admissionv1.Delete, "shop", latestDeployment))
	if !r.Allowed || len(r.Warnings) != 0 {
		t.Errorf("delete: %+v", r)
	}
	_, r = s.post(t, "/validate", "application/json", review(t, admissionv1.Create, "kube-system", latestDeployment))
	if !r.Allowed || len(r.Warnings) != 0 {
		t.Errorf("excluded namespace: %+v", r)
	}
	if n := testutil.ToFloat64(s.metrics.Requests.WithLabelValues("validate", "CREATE", "Deployment", "denied")); n != 1 {
		t.Errorf("denied counter = %v", n)
	}
}

func TestActionsAndDryRun(t *testing.T) {
	s := newServer(t, Config{Actions: map[string]string{"image-latest-tag": "warn", "missing-liveness-probe": "deny", "missing-readiness-probe": "off"}})
	_, r := s.post(t, "/validate", "application/json", review(t, admissionv1.Create, "shop", latestDeployment))
	if r.Allowed || !strings.Contains(r.Result.Message, "[missing-liveness-probe]") || strings.Contains(r.Result.Message, "image-latest-tag") ||
		len(r.Warnings) != 5 || !strings.HasPrefix(r.Warnings[4], "[image-latest-tag]") || strings.Contains(strings.Join(r.Warnings, "\n"), "readiness") {
		t.Errorf("actions: %+v", r)
	}
	audit := newServer(t, Config{DryRun: true})
	_, r = audit.post(t, "/validate", "application/json", review(t, admissionv1.Create, "shop", latestDeployment))
	if !r.Allowed || len(r.Warnings) != 7 {
		t.Errorf("audit mode: %+v", r)
	}
}

func TestMutateIsIdempotent(t *testing.T) {
	s := newServer(t, Config{Mutate: []string{"workload-selector-mismatch"}})
	body := review(t, admissionv1.Create, "shop", cleanDeployment)
	_, r := s.post(t, "/mutate", "application/json", body)
	if !r.Allowed || r.PatchType == nil || *r.PatchType != admissionv1.PatchTypeJSONPatch {
		t.Fatalf("mutate: %+v", r)
	}
	if string(r.Patch) != `[{"op":"add","path":"/spec/template/metadata/labels/tier","value":"frontend"}]` {
		t.Errorf("patch = %s", r.Patch)
	}
	// Apply the patch as the API server would, and mutate again: nothing
	// is left to change.
	again := patchedReview(t, body, r.Patch)
	_, r = s.post(t, "/mutate", "application/json", again)
	if !r.Allowed || r.Patch != nil {
		t.Errorf("second mutation: %s", r.Patch)
	}
	// The validating webhook now accepts what it would have denied.
	_, v := s.post(t, "/validate", "application/json", again)
	if !v.Allowed {
		t.Errorf("validate after mutate: %+v", v.Result)
	}
	_, v = s.post(t, "/validate", "application/json", body)
	if v.Allowed {
		t.Error("validate before mutate allowed a selector mismatch")
	}
}

func TestMalformedRequests(t *testing.T) {
	s := newServer(t, Config{})
	code, r := s.post(t, "/validate", "text/plain", review(t, admissionv1.Create, "shop", latestDeployment))
	if code != http.StatusUnsupportedMediaType || r == nil || r.Allowed || !strings.Contains(r.Result.Message, "application/json") {
		t.Errorf("content type: %d %+v", code, r)
	}
	code, r = s.post(t, "/validate", "application/json", []byte("{not json"))
	if code != http.StatusBadRequest || r == nil || r.Result.Code != 400 {
		t.Errorf("garbage: %d %+v", code, r)
	}
	code, r = s.post(t, "/validate", "application/json", []byte(`{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview","request":{"uid":"old"}}`))
	if code != http.StatusBadRequest || r == nil || r.UID != "old" || !strings.Contains(r.Result.Message, "admission.k8s.io/v1") {
		t.Errorf("v1beta1: %d %+v", code, r)
	}
	big := append([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"big","object":"`), bytes.Repeat([]byte("x"), DefaultMaxBody)...)
	code, _ = s.post(t, "/validate", "application/json", append(big, []byte(`"}}`)...))
	if code != http.StatusRequestEntityTooLarge {
		t.Errorf("too large: %d", code)
	}
	bad := []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u1","operation":"CREATE","kind":{"kind":"Pod"},"object":[1,2]}}`)
	code, r = s.post(t, "/validate", "application/json", bad)
	if code != 200 || r.UID != "u1" || r.Allowed || r.Result.Code != 400 || !strings.Contains(r.Result.Message, "not a Kubernetes object") {
		t.Errorf("undecodable object: %d %+v", code, r)
	}
	resp, err := s.Client().Get(s.URL + "/validate")
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %v %v", err, resp.StatusCode)
	}
}

// A panic while judging is an error response for that request, with its
// uid; the server keeps serving.
func TestPanicBecomesErrorResponse(t *testing.T) {
	s := newServerWith(t, &Reviewer{excluded: map[string]bool{}}) // no engine: judging panics
	code, r := s.post(t, "/validate", "application/json", review(t, admissionv1.Create, "shop", latestDeployment))
	if code != 200 || r.Allowed || r.UID != "uid-CREATE-shop" || r.Result.Code != 500 {
		t.Fatalf("panic: %d %+v", code, r)
	}
	if n := testutil.ToFloat64(s.metrics.Panics); n != 1 {
		t.Errorf("panics = %v", n)
	}
	_, r = s.post(t, "/validate", "application/json", review(t, admissionv1.Delete, "shop", latestDeployment))
	if r == nil || !r.Allowed {
		t.Errorf("after panic: %+v", r)
	}
}

func TestSecretsNeverInResponses(t *testing.T) {
	s := newServer(t, Config{})
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: hunter2-very-secret}\n"
	_, r := s.post(t, "/validate", "application/json", review(t, admissionv1.Create, "shop", secret))
	out, _ := json.Marshal(r)
	if r.Allowed || strings.Contains(string(out), "hunter2") || !strings.Contains(r.Result.Message, "[plaintext-secret]") {
		t.Errorf("secret: %s", out)
	}
}

func TestTruncate(t *testing.T) {
	s := strings.Repeat("é", 100)
	got := truncate(s, MaxWarningLength)
	if len(got) > MaxWarningLength+2 || !strings.HasSuffix(got, "…") || !utf8Valid(got) {
		t.Errorf("truncate = %q", got)
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

// manyContainers is a Deployment with n containers on :latest and no
// probes: three findings each.
func manyContainers(n int) string {
	var b strings.Builder
	b.WriteString("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: big}\nspec:\n  selector: {matchLabels: {app: big}}\n  template:\n    metadata: {labels: {app: big}}\n    spec:\n      containers:\n")
	for i := range n {
		fmt.Fprintf(&b, "        - {name: c%d, image: nginx}\n", i)
	}
	return b.String()
}

// A request the engine cannot finish in time gets an error response with
// its uid, not a late verdict or a hung connection: the budget, and the
// timeout the API server sends with the request, both bound the work.
func TestOverBudgetRequestIsAnsweredWithAnError(t *testing.T) {
	e, err := engine.New(context.Background(), engine.Options{SingleObject: true, MaxFindingsPerRule: MaxListed})
	if err != nil {
		t.Fatal(err)
	}
	rv, _ := NewReviewer(e, Config{Mutate: []string{"workload-selector-mismatch"}})
	rv.Budget = time.Nanosecond
	s := newServerWith(t, rv)
	code, r := s.post(t, "/validate", "application/json", review(t, admissionv1.Create, "shop", manyContainers(50)))
	if code != 200 || r == nil || r.Allowed || r.UID != "uid-CREATE-shop" || r.Result.Code != http.StatusGatewayTimeout ||
		!strings.Contains(r.Result.Message, "not judged: checking it takes longer than the time allowed (at most 1ns") {
		t.Fatalf("over budget: %d %+v", code, r)
	}
	if n := testutil.ToFloat64(s.metrics.Requests.WithLabelValues("validate", "CREATE", "Deployment", "error")); n != 1 {
		t.Errorf("error counter = %v", n)
	}
	_, r = s.post(t, "/mutate", "application/json", review(t, admissionv1.Create, "shop", manyContainers(50)))
	if r == nil || r.Allowed || r.Result.Code != http.StatusGatewayTimeout {
		t.Errorf("mutate over budget: %+v", r)
	}

	// No budget of its own, but the API server's timeout has passed.
	rv.Budget = 0
	resp, err := s.Client().Post(s.URL+"/validate?timeout=1ns", "application/json", bytes.NewReader(review(t, admissionv1.Create, "shop", manyContainers(50))))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Response.Result == nil || out.Response.Result.Code != http.StatusGatewayTimeout ||
		!strings.Contains(out.Response.Result.Message, "longer than the API server's timeout") {
		t.Errorf("API server timeout: %v %+v", err, out.Response)
	}
	// A generous timeout judges as usual.
	resp2, err := s.Client().Post(s.URL+"/validate?timeout=30s", "application/json", bytes.NewReader(review(t, admissionv1.Create, "shop", latestDeployment)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	if err := json.NewDecoder(resp2.Body).Decode(&out); err != nil || out.Response.Result == nil || out.Response.Result.Code != http.StatusForbidden {
		t.Errorf("30s timeout: %v %+v", err, out.Response)
	}
}

// However many findings an object has, the response names at most
// MaxListed of them and counts the rest (200 probe warnings, 400 about
// resources and root file systems, and the recommended-labels one).
func TestResponseListsAtMostMaxListedFindings(t *testing.T) {
	s := newServer(t, Config{})
	_, r := s.post(t, "/validate", "application/json", review(t, admissionv1.Create, "shop", manyContainers(100)))
	if r == nil || r.Allowed {
		t.Fatalf("response %+v", r)
	}
	if got := strings.Count(r.Result.Message, "[image-latest-tag]"); got != MaxListed || !strings.HasSuffix(r.Result.Message, "; and 80 more") {
		t.Errorf("denial names %d findings: ...%s", got, r.Result.Message[max(0, len(r.Result.Message)-80):])
	}
	if len(r.Warnings) != MaxListed+1 || r.Warnings[MaxListed] != "[klint] 581 more warnings not shown" {
		t.Errorf("%d warnings, last %q", len(r.Warnings), r.Warnings[len(r.Warnings)-1])
	}
}

// rawRequest opens a TLS connection to s and writes a POST to path that
// announces length bytes and sends only body; the caller decides what
// happens next.
func rawRequest(t *testing.T, s *httptest.Server, path string, length int, body string) (*tls.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := tls.Dial("tcp", s.Listener.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: klint\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", path, length, body)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	return conn, bufio.NewReader(conn)
}

// handlerServer serves the validating endpoint with o (its Metrics set
// here), whatever the path.
func handlerServer(t *testing.T, o *Options) *httptest.Server {
	t.Helper()
	e, err := engine.New(context.Background(), engine.Options{SingleObject: true, MaxFindingsPerRule: MaxListed})
	if err != nil {
		t.Fatal(err)
	}
	rv, _ := NewReviewer(e, Config{})
	o.Metrics = NewMetrics(prometheus.NewRegistry())
	s := httptest.NewTLSServer(Endpoint("validate", DeciderFunc(rv.Validate), *o))
	t.Cleanup(s.Close)
	return s
}

// A body announced over the limit is refused from its Content-Length,
// before any of it is read: the client gets 413 while still sending.
func TestOversizedBodyIsRefusedBeforeItIsRead(t *testing.T) {
	s := handlerServer(t, &Options{Limits: Limits{MaxBody: 1 << 10}})
	_, rd := rawRequest(t, s, "/validate", 10<<20, `{"apiVersion":`)
	resp, err := http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatalf("no answer while the body is unsent: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), "request body of 10485760 bytes is over the limit of 1024") {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
}

// Requests that do not fit in the in-flight bound are answered 429 at
// once; a stalled upload holds the chunk it is reading until it ends, and
// then the bound is free again.
func TestInFlightBoundAnswers429(t *testing.T) {
	h := &Options{Limits: Limits{MaxBody: 100 << 10, InFlight: NewInFlight(100 << 10)}}
	s := handlerServer(t, h)
	small := review(t, admissionv1.Create, "shop", latestDeployment)
	post := func(body []byte) (int, *admissionv1.AdmissionResponse) {
		resp, err := s.Client().Post(s.URL+"/validate", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") != "1" {
			t.Errorf("429 without Retry-After")
		}
		var out admissionv1.AdmissionReview
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out.Response
	}
	if code, _ := post(small); code != 200 {
		t.Fatalf("first request: %d", code)
	}
	stalled, _ := rawRequest(t, s, "/validate", 90<<10, `{"apiVersion":`)
	// Wait for the stalled upload's claim (its headers read).
	deadline := time.Now().Add(10 * time.Second)
	for h.InFlight.sem.TryAcquire(h.InFlight.max - chunk + 1) {
		h.InFlight.sem.Release(h.InFlight.max - chunk + 1)
		if time.Now().After(deadline) {
			t.Fatal("the stalled upload claimed nothing")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if code, r := post(small); code != http.StatusTooManyRequests || r == nil || !strings.Contains(r.Result.Message, "too many requests in flight") {
		t.Fatalf("a request beyond the in-flight bound: %d %+v", code, r)
	}
	stalled.Close()
	for code, _ := post(small); code != 200; code, _ = post(small) {
		if time.Now().After(deadline) {
			t.Fatal("the stalled upload's claim was not released")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// An object whose judging could never fit in the bound (about 1 KiB
	// per field) gets an error response with its uid, not a 429 to retry.
	code, r := post(review(t, admissionv1.Create, "shop", manyContainers(1000)))
	if code != 200 || r == nil || r.Allowed || r.UID != "uid-CREATE-shop" || r.Result.Code != http.StatusRequestEntityTooLarge ||
		!strings.Contains(r.Result.Message, "judging it would take more memory than the webhook allows") {
		t.Errorf("huge object: %d %+v", code, r)
	}
}

// The request counter's labels take known values only: a client sending
// 300 made-up kinds and operations adds one series, not 300.
func TestMetricLabelsAreBounded(t *testing.T) {
	h := &Options{}
	s := handlerServer(t, h)
	for i := range 300 {
		body := fmt.Sprintf(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u%d","operation":"OP%d","namespace":"shop",
"kind":{"group":"example.com","version":"v1","kind":"Kind%d"},"object":{"apiVersion":"example.com/v1","kind":"Kind%d","metadata":{"name":"x"}}}}`, i, i%7, i, i)
		resp, err := s.Client().Post(s.URL+"/validate", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	resp, err := s.Client().Post(s.URL+"/validate", "application/json", bytes.NewReader(review(t, admissionv1.Create, "shop", latestDeployment)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := testutil.CollectAndCount(h.Metrics.Requests); n != 2 {
		t.Errorf("%d series", n)
	}
	if n := testutil.ToFloat64(h.Metrics.Requests.WithLabelValues("validate", "other", "other", "warned")); n != 300 {
		t.Errorf("other/other = %v", n)
	}
	if n := testutil.ToFloat64(h.Metrics.Requests.WithLabelValues("validate", "CREATE", "Deployment", "denied")); n != 1 {
		t.Errorf("Deployment = %v", n)
	}
}

// A CREATE names the object only in the object itself (request.name is
// empty until the object exists): the denial names it from there.
func TestDenialNamesTheObjectFromItsMetadata(t *testing.T) {
	s := newServer(t, Config{})
	body := review(t, admissionv1.Create, "shop", latestDeployment)
	var rv admissionv1.AdmissionReview
	_ = json.Unmarshal(body, &rv)
	rv.Request.Name = ""
	body, _ = json.Marshal(rv)
	_, r := s.post(t, "/validate", "application/json", body)
	if r == nil || r.Result == nil || !strings.HasPrefix(r.Result.Message, "klint denied Deployment shop/web:") {
		t.Errorf("response %+v", r)
	}
	gen := strings.Replace(latestDeployment, "  name: web\n", "  generateName: web-\n", 1)
	_, r = s.post(t, "/validate", "application/json", review(t, admissionv1.Create, "shop", gen))
	if r == nil || r.Result == nil || !strings.HasPrefix(r.Result.Message, "klint denied Deployment shop/web-<generated>:") {
		t.Errorf("generateName: %+v", r)
	}
}

// The decision code says what it decided as a typed outcome; the
// response is only its serialisation.
func TestDecisionOutcomes(t *testing.T) {
	e, err := engine.New(context.Background(), engine.Options{SingleObject: true, MaxFindingsPerRule: MaxListed})
	if err != nil {
		t.Fatal(err)
	}
	rv, err := NewReviewer(e, Config{Mutate: []string{"workload-selector-mismatch"}})
	if err != nil {
		t.Fatal(err)
	}
	req := func(ns, manifest string) *admissionv1.AdmissionRequest {
		var r admissionv1.AdmissionReview
		if err := json.Unmarshal(review(t, admissionv1.Create, ns, manifest), &r); err != nil {
			t.Fatal(err)
		}
		return r.Request
	}
	ctx := context.Background()
	noProbe := strings.Replace(cleanDeployment, "          readinessProbe: {httpGet: {path: /, port: 80}}\n", "", 1)
	for _, tc := range []struct {
		name    string
		d       Decision
		outcome Outcome
		allowed bool
		code    int32
		frag    string // in the message, or the warnings
	}{
		{"clean", rv.Validate(ctx, req("shop", strings.Replace(cleanDeployment, ", tier: frontend", "", 1))), Warned, true, 0, "[missing-liveness-probe]"},
		{"excluded namespace", rv.Validate(ctx, req("kube-system", latestDeployment)), Allowed, true, 0, ""},
		{"latest image", rv.Validate(ctx, req("shop", latestDeployment)), Denied, false, http.StatusForbidden, "[image-latest-tag]"},
		{"warnings only", rv.Validate(ctx, req("shop", strings.Replace(noProbe, ", tier: frontend", "", 1))), Warned, true, 0, "no readinessProbe"},
		{"not an object", rv.Validate(ctx, &admissionv1.AdmissionRequest{UID: "u", Operation: admissionv1.Create, Namespace: "shop"}), Error, false, http.StatusBadRequest, "request has no object"},
		{"mutate", rv.Mutate(ctx, req("shop", cleanDeployment)), Patched, true, 0, ""},
		{"mutate, nothing to fix", rv.Mutate(ctx, req("shop", latestDeployment)), Allowed, true, 0, ""},
	} {
		resp := tc.d.Response()
		msg := ""
		if resp.Result != nil {
			msg = resp.Result.Message
		} else {
			msg = strings.Join(resp.Warnings, "\n")
		}
		code := int32(0)
		if resp.Result != nil {
			code = resp.Result.Code
		}
		if tc.d.Outcome != tc.outcome || resp.Allowed != tc.allowed || code != tc.code || !strings.Contains(msg, tc.frag) ||
			(tc.outcome == Patched) != (resp.PatchType != nil && len(resp.Patch) > 0) || resp.UID != tc.d.UID {
			t.Errorf("%s: outcome %s, response %+v", tc.name, tc.d.Outcome, resp)
		}
	}
}

// With pod-security-restricted on and in admission.mutate, the mutating
// webhook sets the restricted profile's safe defaults the object lacks,
// once: mutating the result changes nothing, and the result meets the
// profile.
func TestMutateSetsPodSecurityDefaults(t *testing.T) {
	e, err := engine.New(context.Background(), engine.Options{SingleObject: true, MaxFindingsPerRule: MaxListed, Enable: []string{"pod-security-restricted"}})
	if err != nil {
		t.Fatal(err)
	}
	rv, err := NewReviewer(e, Config{Mutate: []string{"pod-security-restricted"}})
	if err != nil {
		t.Fatal(err)
	}
	s := newServerWith(t, rv)
	body := review(t, admissionv1.Create, "shop", cleanDeployment)
	_, r := s.post(t, "/mutate", "application/json", body)
	want := `[{"op":"add","path":"/spec/template/spec/containers/0/securityContext","value":{"allowPrivilegeEscalation":false,"capabilities":{"drop":["ALL"]}}},` +
		`{"op":"add","path":"/spec/template/spec/securityContext","value":{"runAsNonRoot":true,"seccompProfile":{"type":"RuntimeDefault"}}}]`
	if !r.Allowed || string(r.Patch) != want {
		t.Fatalf("patch = %s, want %s", r.Patch, want)
	}
	again := patchedReview(t, body, r.Patch)
	if _, r := s.post(t, "/mutate", "application/json", again); !r.Allowed || r.Patch != nil {
		t.Errorf("second mutation: %s", r.Patch)
	}
	if _, v := s.post(t, "/validate", "application/json", again); strings.Contains(strings.Join(v.Warnings, "\n"), "pod-security-restricted") {
		t.Errorf("the mutated object still breaks the restricted profile: %v", v.Warnings)
	}
	if _, v := s.post(t, "/validate", "application/json", body); !strings.Contains(strings.Join(v.Warnings, "\n"), "[pod-security-restricted]") {
		t.Errorf("the original object meets the restricted profile? %v", v.Warnings)
	}
}

// patchedReview is the review body with its object patched, as the API
// server would patch it before calling the next webhook.
func patchedReview(t *testing.T, body, patch []byte) []byte {
	t.Helper()
	var rv admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &rv); err != nil {
		t.Fatal(err)
	}
	p, err := jsonpatchapply.DecodePatch(patch)
	if err != nil {
		t.Fatal(err)
	}
	patched, err := p.Apply(rv.Request.Object.Raw)
	if err != nil {
		t.Fatal(err)
	}
	rv.Request.Object.Raw = patched
	again, _ := json.Marshal(rv)
	return again
}
