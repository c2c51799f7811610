package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/klint-dev/klint/pkg/engine"
	"github.com/prometheus/client_golang/prometheus"
	admissionv1 "k8s.io/api/admission/v1"
)

// FuzzHandler feeds arbitrary bytes to /validate and /mutate as an
// AdmissionReview: the handler always answers with a status it documents
// and, when it answers 200, an AdmissionReview that echoes the request's
// uid; nothing panics.
func FuzzHandler(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","namespace":"shop","kind":{"group":"apps","version":"v1","kind":"Deployment"},"object":{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"c"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}}}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"OP","kind":{"group":"example.com","version":"v1","kind":"Kind1"},"object":{"apiVersion":"example.com/v1","kind":"Kind1","metadata":{"name":"x"}}}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","object":{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"stringData":{"p":"hunter2"}}}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","object":"not an object"}}`))
	f.Add([]byte(`{"request":{"uid":"u","object":{"apiVersion":"v1","kind":"List","items":[1,2]}}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte{})
	e, err := engine.New(context.Background(), engine.Options{SingleObject: true, MaxFindingsPerRule: MaxListed})
	if err != nil {
		f.Fatal(err)
	}
	rv, _ := NewReviewer(e, Config{Mutate: []string{"workload-selector-mismatch"}})
	rv.Budget = 2 * time.Second
	m := NewMetrics(prometheus.NewRegistry())
	o := Options{Metrics: m, Limits: Limits{MaxBody: 1 << 20, InFlight: NewInFlight(64 << 20)}}
	validate := Endpoint("validate", DeciderFunc(rv.Validate), o)
	mutate := Endpoint("mutate", DeciderFunc(rv.Mutate), o)
	f.Fuzz(func(t *testing.T, body []byte) {
		var in struct {
			Request *struct{ UID string } `json:"request"`
		}
		_ = json.Unmarshal(body, &in)
		// A secret value planted once, in a Secret's stringData, must not
		// come back (elsewhere it may be a name, which answers quote).
		planted := bytes.Count(body, []byte("hunter2")) == 1 && bytes.Contains(body, []byte(`"stringData":{"p":"hunter2"}`))
		for _, h := range []http.Handler{validate, mutate} {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, "/validate", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			h.ServeHTTP(w, r)
			switch w.Code {
			case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests:
			default:
				t.Fatalf("status %d", w.Code)
			}
			var out admissionv1.AdmissionReview
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || out.Response == nil {
				t.Fatalf("answer is not an AdmissionReview: %v %q", err, w.Body.String())
			}
			if w.Code == http.StatusOK && in.Request != nil && string(out.Response.UID) != in.Request.UID {
				t.Fatalf("uid %q not echoed (got %q)", in.Request.UID, out.Response.UID)
			}
			if planted && bytes.Contains(w.Body.Bytes(), []byte("hunter2")) {
				t.Fatalf("a secret value in the answer: %s", w.Body.String())
			}
		}
	})
}
