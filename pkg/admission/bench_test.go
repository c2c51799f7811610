package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/manifest"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// benchReviews are make bench-webhook's request mix: an AdmissionReview
// for each object of the fixtures that load cleanly.
func benchReviews(b *testing.B) [][]byte {
	var bodies [][]byte
	for _, f := range inputs.Expand([]string{"../../testdata/manifests"}) {
		data, err := os.ReadFile(f.Path)
		if err != nil {
			b.Fatal(err)
		}
		objs, probs := manifest.Parse(f.Path, data)
		if len(probs) > 0 {
			continue
		}
		for _, o := range objs {
			raw, _ := json.Marshal(o.Value)
			group, version, found := strings.Cut(o.APIVersion, "/")
			if !found {
				group, version = "", o.APIVersion
			}
			rv := admissionv1.AdmissionReview{
				TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
				Request: &admissionv1.AdmissionRequest{UID: types.UID(fmt.Sprint(len(bodies))), Operation: admissionv1.Create,
					Namespace: "bench", Name: o.Name, Kind: metav1.GroupVersionKind{Group: group, Version: version, Kind: o.Kind}, Object: runtime.RawExtension{Raw: raw}},
			}
			body, _ := json.Marshal(rv)
			bodies = append(bodies, body)
		}
	}
	return bodies
}

// BenchmarkValidateEndpoint is the webhook's cost per request without
// TLS and the network: the /validate endpoint (limits, decoding, the
// engine, encoding) on the request mix of make bench-webhook, one request
// at a time; BenchmarkNoopEndpoint is the same endpoint deciding nothing.
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
	bodies := benchReviews(b)
	h := Endpoint("validate", d, Options{Limits: Limits{InFlight: NewInFlight(128 << 20)}})
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(bodies[i%len(bodies)]))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
		i++
	}
	b.ReportMetric(float64(len(bodies)), "objects")
}
