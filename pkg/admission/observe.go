package admission

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/klint-dev/klint/pkg/schema"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"
)

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

// exchange is one request as it passes through the endpoint's layers:
// observe makes it, limit reads the body into it, the handler decodes and
// decides, and each says in rec what the log line and metrics report.
type exchange struct {
	rec    record
	body   []byte
	ticket *ticket
}

type exchangeKey struct{}

func exchangeOf(ctx context.Context) *exchange { return ctx.Value(exchangeKey{}).(*exchange) }

// observe is the outermost middleware of an endpoint: it counts and times
// the request, writes its log line, and turns a panic further in into an
// error response for that request only.
func (o Options) observe(endpoint string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		o.Metrics.InFlight.Inc()
		defer o.Metrics.InFlight.Dec()
		x := &exchange{rec: record{endpoint: endpoint, decision: "error"}}
		defer func() {
			if v := recover(); v != nil {
				o.Metrics.Panics.Inc()
				x.rec.err = fmt.Sprintf("panic: %v", v)
				writeReview(w, http.StatusOK, Errored(types.UID(x.rec.uid), http.StatusInternalServerError, fmt.Errorf("internal error while judging the request")))
			}
			d := time.Since(start)
			o.Metrics.Duration.WithLabelValues(endpoint).Observe(d.Seconds())
			o.Metrics.Requests.WithLabelValues(endpoint, x.rec.opLabel, x.rec.kindLabel, x.rec.decision).Inc()
			o.log(x.rec, d)
		}()
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), exchangeKey{}, x)))
	})
}

// operations are the values the operation label takes; anything else a
// request claims is counted as "other".
var operations = map[string]bool{"CREATE": true, "UPDATE": true, "DELETE": true, "CONNECT": true}

// labels bounds the operation and kind labels of the request counter to
// known values: a client choosing kinds must not choose the number of
// series.
func labels(operation, group, kind string) (string, string) {
	if !operations[operation] {
		operation = "other"
	}
	if kind != "" && !schema.BuiltIn(group, kind) {
		kind = "other"
	}
	return operation, kind
}

// record is what the request log line says.
type record struct {
	endpoint, uid, operation, kind, namespace, name, user, decision, err string
	opLabel, kindLabel                                                   string
	dryRun                                                               bool
	rules                                                                []string
}

func (o Options) log(rec record, d time.Duration) {
	if o.Log == nil {
		return
	}
	attrs := []any{
		slog.String("endpoint", rec.endpoint), slog.String("uid", rec.uid), slog.String("operation", rec.operation),
		slog.String("kind", rec.kind), slog.String("namespace", rec.namespace), slog.String("name", rec.name),
		slog.String("user", rec.user), slog.Bool("dryRun", rec.dryRun), slog.String("decision", rec.decision),
		slog.String("rules", strings.Join(rec.rules, ",")), slog.Float64("durationMs", float64(d.Microseconds())/1000),
	}
	if rec.err != "" {
		o.Log.Warn("admission request", append(attrs, slog.String("error", rec.err))...)
		return
	}
	o.Log.Info("admission request", attrs...)
}
