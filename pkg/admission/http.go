package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/klint-dev/klint/pkg/schema"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/types"
)

// DefaultMaxBody is the largest AdmissionReview accepted: the API server's
// own request limit is 3 MiB, and a review carries the object up to twice
// (object and oldObject).
const DefaultMaxBody = 7 << 20

// Metrics are the webhook's Prometheus metrics.
type Metrics struct {
	Requests *prometheus.CounterVec
	Duration *prometheus.HistogramVec
	InFlight prometheus.Gauge
	Panics   prometheus.Counter
	Rules    *prometheus.HistogramVec
}

// ObserveRule records one rule's evaluation time; pass it to the engine as
// rules.Options.ObserveRule.
func (m *Metrics) ObserveRule(rule string, d time.Duration) {
	m.Rules.WithLabelValues(rule).Observe(d.Seconds())
}

// NewMetrics registers the metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "klint_admission_requests_total", Help: "Admission requests by endpoint, operation, kind (built-in kinds; other for custom resources and anything else) and decision (allowed, denied, warned, patched, error).",
		}, []string{"endpoint", "operation", "kind", "decision"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "klint_admission_request_duration_seconds", Help: "Time to answer an admission request, from body read to response written.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1},
		}, []string{"endpoint"}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "klint_admission_in_flight_requests", Help: "Admission requests being answered."}),
		Panics:   prometheus.NewCounter(prometheus.CounterOpts{Name: "klint_admission_panics_total", Help: "Requests whose handling panicked (answered with an error)."}),
		Rules: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "klint_admission_rule_duration_seconds", Help: "Time to evaluate one rule on one object: Go rules by ID, the schema stage as schema, all Rego policies together as rego.",
			Buckets: []float64{.00001, .00005, .0001, .00025, .0005, .001, .0025, .005, .01},
		}, []string{"rule"}),
	}
	reg.MustRegister(m.Requests, m.Duration, m.InFlight, m.Panics, m.Rules)
	return m
}

// Handler serves one admission endpoint over HTTP.
type Handler struct {
	Decider  Decider
	Mutating bool
	Log      *slog.Logger
	Metrics  *Metrics
	MaxBody  int64
	// InFlight, when set, bounds the bytes of the requests being read and
	// judged at once (shared by the endpoints of one server).
	InFlight *InFlight
	// BodyTimeout, when set, is how long a request's body may take to
	// arrive once its headers have: the API server sends it at once.
	BodyTimeout time.Duration
}

// InFlight bounds the memory the requests being read and judged may take
// at once, in estimated bytes. A request claims its body as it arrives,
// one 64 KiB chunk at a time before the chunk is allocated (not what its
// Content-Length announces: a stalled upload holds only what it has
// sent), then TokenCost bytes per JSON token of the body (what parsing,
// the position index and findings cost for each field) before it is
// judged; it gives both back when answered. One client (one remote
// address, however many connections or HTTP/2 streams it opens) may hold
// at most PerClient bytes of bodies being read, so a few clients that
// stall their uploads cannot take the budget from the API server. A
// request that does not fit is answered 429, and the API server's
// failurePolicy decides; one that could never fit gets an error
// response. Peak memory is then the process's baseline plus about the
// bound, however many clients connect, send large bodies, stall, or send
// objects of 40,000 containers.
type InFlight struct {
	sem *semaphore.Weighted
	max int64
	// PerClient is the most body bytes one client may hold at once
	// (NewInFlight sets a quarter of the bound).
	PerClient int64

	mu   sync.Mutex
	held map[string]int64 // body bytes held, by client
}

// ticket is one request's claims on an InFlight.
type ticket struct {
	f            *InFlight
	client       string
	body, shared int64
}

// takeBody claims n more bytes of body for the request's client.
func (t *ticket) takeBody(n int64) bool {
	if t.f == nil {
		return true
	}
	f := t.f
	f.mu.Lock()
	if f.held[t.client]+n > f.PerClient {
		f.mu.Unlock()
		return false
	}
	f.held[t.client] += n
	f.mu.Unlock()
	if !f.sem.TryAcquire(n) {
		f.mu.Lock()
		f.unhold(t.client, n)
		f.mu.Unlock()
		return false
	}
	t.body += n
	return true
}

// returnBody gives back n bytes of body claimed and not used.
func (t *ticket) returnBody(n int64) {
	if t.f == nil || n <= 0 {
		return
	}
	t.f.mu.Lock()
	t.f.unhold(t.client, n)
	t.f.mu.Unlock()
	t.f.sem.Release(n)
	t.body -= n
}

// take claims n bytes of judging work.
func (t *ticket) take(n int64) bool {
	if t.f == nil {
		return true
	}
	if !t.f.sem.TryAcquire(n) {
		return false
	}
	t.shared += n
	return true
}

// release gives back everything the request claimed.
func (t *ticket) release() {
	if t.f == nil {
		return
	}
	t.f.mu.Lock()
	t.f.unhold(t.client, t.body)
	t.f.mu.Unlock()
	if n := t.body + t.shared; n > 0 {
		t.f.sem.Release(n)
	}
	t.body, t.shared = 0, 0
}

func (f *InFlight) unhold(client string, n int64) {
	if f.held[client] -= n; f.held[client] <= 0 {
		delete(f.held, client)
	}
}

// TokenCost is the memory judging takes per JSON token ({ [ : ,) of an
// object, measured on Deployments of 40,000 containers (about 850 bytes
// per token, findings included), rounded up.
const TokenCost = 1 << 10

// tokens counts the JSON structural characters outside strings: about
// one per field and item.
func tokens(body []byte) int64 {
	var n int64
	inString, escaped := false, false
	for _, c := range body {
		switch {
		case escaped:
			escaped = false
		case inString:
			if c == '\\' {
				escaped = true
			} else if c == '"' {
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[' || c == ':' || c == ',':
			n++
		}
	}
	return n
}

// NewInFlight returns a bound of max bytes, a quarter of it (but room
// for a body of DefaultMaxBody) for one client's bodies.
func NewInFlight(bound int64) *InFlight {
	return &InFlight{sem: semaphore.NewWeighted(bound), max: bound, PerClient: max(bound/4, min(bound, DefaultMaxBody+chunk)), held: map[string]int64{}}
}

// operations are the values the operation label takes; anything else a
// request claims is counted as "other".
var operations = map[string]bool{"CREATE": true, "UPDATE": true, "DELETE": true, "CONNECT": true}

// labels bounds the operation and kind labels of the request counter to
// known values: a client choosing kinds must not choose the number of
// series.
func (h *Handler) labels(operation, group, kind string) (string, string) {
	if !operations[operation] {
		operation = "other"
	}
	if kind != "" && !schema.BuiltIn(group, kind) {
		kind = "other"
	}
	return operation, kind
}

func (h *Handler) endpoint() string {
	if h.Mutating {
		return "mutate"
	}
	return "validate"
}

// ServeHTTP answers an AdmissionReview. Whatever the input, it answers: a
// request it cannot read gets an error status (echoing the uid when one
// could be read), and a panic while judging becomes an error response for
// that request only.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	h.Metrics.InFlight.Inc()
	defer h.Metrics.InFlight.Dec()
	review := &admissionv1.AdmissionReview{}
	rec := record{endpoint: h.endpoint(), decision: "error"}
	defer func() {
		if v := recover(); v != nil {
			h.Metrics.Panics.Inc()
			rec.err = fmt.Sprintf("panic: %v", v)
			h.write(w, http.StatusOK, Errored(uidOf(review), http.StatusInternalServerError, fmt.Errorf("internal error while judging the request")))
		}
		d := time.Since(start)
		h.Metrics.Duration.WithLabelValues(rec.endpoint).Observe(d.Seconds())
		h.Metrics.Requests.WithLabelValues(rec.endpoint, rec.opLabel, rec.kindLabel, rec.decision).Inc()
		h.log(rec, d)
	}()

	if r.Method != http.MethodPost {
		rec.err = "method " + r.Method
		http.Error(w, "use POST with an admission.k8s.io/v1 AdmissionReview", http.StatusMethodNotAllowed)
		return
	}
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/json" {
		rec.err = "content type " + r.Header.Get("Content-Type")
		h.write(w, http.StatusUnsupportedMediaType, Errored("", http.StatusUnsupportedMediaType, fmt.Errorf("content type %q: want application/json", r.Header.Get("Content-Type"))))
		return
	}
	max := h.MaxBody
	if max == 0 {
		max = DefaultMaxBody
	}
	// Refuse what is announced too large before reading any of it.
	if r.ContentLength > max {
		rec.err = fmt.Sprintf("body of %d bytes", r.ContentLength)
		w.Header().Set("Connection", "close")
		h.write(w, http.StatusRequestEntityTooLarge, Errored("", http.StatusRequestEntityTooLarge, fmt.Errorf("request body of %d bytes is over the limit of %d", r.ContentLength, max)))
		return
	}
	if h.BodyTimeout > 0 {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(h.BodyTimeout))
	}
	t := &ticket{f: h.InFlight, client: clientOf(r)}
	defer t.release()
	body, err := readBody(http.MaxBytesReader(w, r.Body, max), t)
	if errors.Is(err, errOverBudget) {
		rec.err = "too many requests in flight"
		w.Header().Set("Retry-After", "1")
		w.Header().Set("Connection", "close")
		h.write(w, http.StatusTooManyRequests, Errored("", http.StatusTooManyRequests, fmt.Errorf("too many requests in flight (more than %d bytes); try again", h.InFlight.max)))
		return
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		code := http.StatusBadRequest
		if errors.As(err, &tooBig) {
			code = http.StatusRequestEntityTooLarge
		}
		rec.err = err.Error()
		h.write(w, code, Errored("", int32(code), fmt.Errorf("reading the request: %w", err)))
		return
	}
	if review, err = decodeReview(body); err != nil {
		rec.err = err.Error()
		h.write(w, http.StatusBadRequest, Errored(uidOf(review), http.StatusBadRequest, err))
		return
	}
	if h.InFlight != nil {
		work := tokens(body) * TokenCost
		if work > h.InFlight.max {
			rec.err = "object too large to judge"
			h.write(w, http.StatusOK, Errored(uidOf(review), http.StatusRequestEntityTooLarge,
				fmt.Errorf("the object has about %d fields; judging it would take more memory than the webhook allows (--max-in-flight-bytes %d)", work/TokenCost, h.InFlight.max)))
			return
		}
		if !t.take(work) {
			rec.err = "too many requests in flight"
			w.Header().Set("Retry-After", "1")
			h.write(w, http.StatusTooManyRequests, Errored(uidOf(review), http.StatusTooManyRequests, fmt.Errorf("too many requests in flight; try again")))
			return
		}
	}
	req := review.Request
	rec.uid, rec.operation, rec.kind = string(req.UID), string(req.Operation), req.Kind.Kind
	rec.opLabel, rec.kindLabel = h.labels(rec.operation, req.Kind.Group, rec.kind)
	rec.namespace, rec.name, rec.user, rec.dryRun = req.Namespace, req.Name, req.UserInfo.Username, req.DryRun != nil && *req.DryRun

	// The API server says how long it waits (?timeout=10s on the webhook's
	// URL): answer before that, with an error if judging is not done, so
	// the API server gets an answer rather than a timeout.
	ctx := r.Context()
	if t, err := time.ParseDuration(r.URL.Query().Get("timeout")); err == nil && t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t-t/10)
		defer cancel()
	}
	var d Decision
	if h.Mutating {
		d = h.Decider.Mutate(ctx, req)
	} else {
		d = h.Decider.Validate(ctx, req)
	}
	rec.decision = string(d.Outcome)
	if d.Outcome == Error {
		rec.err = d.Message
	}
	for _, f := range append(d.Denied, d.Warned...) {
		rec.rules = append(rec.rules, f.Rule)
	}
	resp := d.Response()
	h.write(w, http.StatusOK, resp)
}

// RequireClientCertificate answers 403 to a request whose TLS connection
// did not present a client certificate that verified against the
// server's client CAs (tls.VerifyClientCertIfGiven lets one without a
// certificate connect, for the kubelet's probes).
func RequireClientCertificate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			http.Error(w, "a client certificate signed by the webhook's --client-ca is required", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// errOverBudget: a body chunk did not fit in the in-flight bound.
var errOverBudget = errors.New("over the in-flight bound")

// chunk is the unit a body is read and claimed in.
const chunk = 64 << 10

// readBody reads a request body in chunks of 64 KiB, each claimed from t
// before it is allocated, and joins them once at the end: a stalled
// upload holds only what it has sent, and reading 7 MiB leaves 7 MiB of
// garbage rather than the ~35 MiB that growing one buffer by a quarter at
// a time would.
func readBody(r io.Reader, t *ticket) ([]byte, error) {
	var chunks [][]byte
	total := 0
	for {
		if !t.takeBody(chunk) {
			return nil, errOverBudget
		}
		c := make([]byte, chunk)
		n, err := io.ReadFull(r, c)
		if n > 0 {
			chunks = append(chunks, c[:n])
			total += n
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			// The last chunk is kept at its size, and only that claimed.
			if n > 0 {
				chunks[len(chunks)-1] = bytes.Clone(c[:n])
			}
			t.returnBody(int64(chunk - n))
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	body := make([]byte, 0, total)
	for _, c := range chunks {
		body = append(body, c...)
	}
	return body, nil
}

// clientOf is who sent a request, for the in-flight share: its remote
// address without the port.
func clientOf(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// uidOf reads the uid of a review that may be only partly decoded.
func uidOf(rv *admissionv1.AdmissionReview) types.UID {
	if rv.Request == nil {
		return ""
	}
	return rv.Request.UID
}

func (h *Handler) write(w http.ResponseWriter, code int, resp *admissionv1.AdmissionResponse) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(reviewOf(resp))
}

// record is what the request log line says.
type record struct {
	endpoint, uid, operation, kind, namespace, name, user, decision, err string
	opLabel, kindLabel                                                   string
	dryRun                                                               bool
	rules                                                                []string
}

func (h *Handler) log(rec record, d time.Duration) {
	if h.Log == nil {
		return
	}
	attrs := []any{
		slog.String("endpoint", rec.endpoint), slog.String("uid", rec.uid), slog.String("operation", rec.operation),
		slog.String("kind", rec.kind), slog.String("namespace", rec.namespace), slog.String("name", rec.name),
		slog.String("user", rec.user), slog.Bool("dryRun", rec.dryRun), slog.String("decision", rec.decision),
		slog.String("rules", strings.Join(rec.rules, ",")), slog.Float64("durationMs", float64(d.Microseconds())/1000),
	}
	if rec.err != "" {
		h.Log.Warn("admission request", append(attrs, slog.String("error", rec.err))...)
		return
	}
	h.Log.Info("admission request", attrs...)
}
