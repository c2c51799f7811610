package admission

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/test/reviewmix"
	admissionv1 "k8s.io/api/admission/v1"
)

// BenchmarkValidateEndpoint is the webhook's cost per request without
// TLS and the network: the /validate endpoint (limits, decoding, the
// engine, encoding) on the request mix of make bench-webhook, one request
// at a time, each on a goroutine of its own as net/http serves it;
// BenchmarkNoopEndpoint is the same endpoint deciding nothing.
func BenchmarkValidateEndpoint(b *testing.B) {
	e, err := engine.New(context.Background(), engine.Options{SingleObject: true, MaxFindingsPerRule: MaxListed})
	if err != nil {
		b.Fatal(err)
	}
	rv, _ := NewReviewer(e, Config{})
	benchEndpoint(b, DeciderFunc(rv.Validate))
}

func BenchmarkNoopEndpoint(b *testing.B) {
	benchEndpoint(b, DeciderFunc(func(_ context.Context, req *admissionv1.AdmissionRequest) Decision {
		return Decision{Outcome: Allowed, UID: req.UID}
	}))
}

func benchEndpoint(b *testing.B, d Decider) {
	bodies, err := reviewmix.Bodies("../../testdata/manifests")
	if err != nil {
		b.Fatal(err)
	}
	h := Endpoint("validate", d, Options{Limits: Limits{InFlight: NewInFlight(128 << 20)}})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(bodies[i%len(bodies)]))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			defer close(done)
			h.ServeHTTP(w, r)
		}()
		<-done
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
		i++
	}
	b.ReportMetric(float64(len(bodies)), "objects")
}
