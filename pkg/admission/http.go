package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
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
}

// InFlight bounds the memory the requests being read and judged may take
// at once, in estimated bytes. A request claims its Content-Length (the
// body limit when the length is not announced) before its body is read,
// then TokenCost bytes per JSON token of the body (what parsing, the
// position index and findings cost for each field) before it is judged;
// it gives both back when answered. A request that does not fit is
// answered 429 at once, and the API server's failurePolicy decides; one
// that could never fit gets an error response. Peak memory is then the
// process's baseline plus about the bound, however many clients connect,
// send large bodies, stall, or send objects of 40,000 containers.
type InFlight struct {
	sem *semaphore.Weighted
	max int64
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

// NewInFlight returns a bound of max bytes.
func NewInFlight(max int64) *InFlight {
	return &InFlight{sem: semaphore.NewWeighted(max), max: max}
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
	if h.InFlight != nil {
		claim := r.ContentLength
		if claim < 0 {
			claim = max
		}
		if !h.InFlight.sem.TryAcquire(claim) {
			rec.err = "too many requests in flight"
			w.Header().Set("Retry-After", "1")
			w.Header().Set("Connection", "close")
			h.write(w, http.StatusTooManyRequests, Errored("", http.StatusTooManyRequests, fmt.Errorf("too many requests in flight (more than %d bytes); try again", h.InFlight.max)))
			return
		}
		defer h.InFlight.sem.Release(claim)
	}
	body, err := readBody(http.MaxBytesReader(w, r.Body, max))
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
		if !h.InFlight.sem.TryAcquire(work) {
			rec.err = "too many requests in flight"
			w.Header().Set("Retry-After", "1")
			h.write(w, http.StatusTooManyRequests, Errored(uidOf(review), http.StatusTooManyRequests, fmt.Errorf("too many requests in flight; try again")))
			return
		}
		defer h.InFlight.sem.Release(work)
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

// readBody reads a request body in chunks of 64 KiB and joins them once
// at the end: a stalled upload holds only what it has sent, and reading
// 7 MiB leaves 7 MiB of garbage rather than the ~35 MiB that growing one
// buffer by a quarter at a time would.
func readBody(r io.Reader) ([]byte, error) {
	var chunks [][]byte
	total := 0
	for {
		c := make([]byte, 64<<10)
		n, err := io.ReadFull(r, c)
		if n > 0 {
			chunks = append(chunks, c[:n])
			total += n
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
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
