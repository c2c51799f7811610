package admission

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
)

// Decider decides the admission requests of one endpoint; the HTTP layer
// decodes, limits, counts and encodes around it. The validating and the
// mutating endpoint each have one: DeciderFunc(reviewer.Validate) and
// DeciderFunc(reviewer.Mutate).
type Decider interface {
	Decide(ctx context.Context, req *admissionv1.AdmissionRequest) Decision
}

// DeciderFunc is a function that decides, as a Decider.
type DeciderFunc func(ctx context.Context, req *admissionv1.AdmissionRequest) Decision

// Decide calls f.
func (f DeciderFunc) Decide(ctx context.Context, req *admissionv1.AdmissionRequest) Decision {
	return f(ctx, req)
}

// Options are what the endpoints of one server share.
type Options struct {
	Limits
	Log     *slog.Logger
	Metrics *Metrics // nil: counted in a registry of its own
}

// Endpoint serves one path's AdmissionReviews: observed (metrics, a log
// line, a panic answered as an error), limited (Limits), then decoded,
// decided by d and encoded. Whatever the input, it answers: a request it
// cannot read gets an error status (echoing the uid when one could be
// read). name is the endpoint label of the metrics and log.
func Endpoint(name string, d Decider, o Options) http.Handler {
	if o.Metrics == nil {
		o.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	return o.observe(name, o.limit(handler{d}))
}

// handler decodes the review the limits let through, asks the decider,
// and encodes its decision, on one of the judges (judges.go).
type handler struct{ Decider }

func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	pool().do(func() { h.serve(w, r) })
}

func (h handler) serve(w http.ResponseWriter, r *http.Request) {
	x := exchangeOf(r.Context())
	review, err := decodeReview(x.body)
	if err != nil {
		x.rec.err = err.Error()
		writeReview(w, http.StatusBadRequest, Errored(uidOf(review), http.StatusBadRequest, err))
		return
	}
	if code, refused := x.claimWork(review); refused != nil {
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "1")
		}
		writeReview(w, code, refused)
		return
	}
	req := review.Request
	x.rec.uid, x.rec.operation, x.rec.kind = string(req.UID), string(req.Operation), req.Kind.Kind
	x.rec.opLabel, x.rec.kindLabel = labels(x.rec.operation, req.Kind.Group, x.rec.kind)
	x.rec.namespace, x.rec.name, x.rec.user, x.rec.dryRun = req.Namespace, req.Name, req.UserInfo.Username, req.DryRun != nil && *req.DryRun

	// The API server says how long it waits (?timeout=10s on the webhook's
	// URL): answer before that, with an error if judging is not done, so
	// the API server gets an answer rather than a timeout.
	ctx := r.Context()
	if t, err := time.ParseDuration(r.URL.Query().Get("timeout")); err == nil && t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t-t/10)
		defer cancel()
	}
	d := h.Decide(ctx, req)
	x.rec.decision = string(d.Outcome)
	if d.Outcome == Error {
		x.rec.err = d.Message
	}
	for _, f := range append(d.Denied, d.Warned...) {
		x.rec.rules = append(x.rec.rules, f.Rule)
	}
	writeReview(w, http.StatusOK, d.Response())
}
