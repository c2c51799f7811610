package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/klint-dev/klint/pkg/admission"
	"github.com/klint-dev/klint/pkg/apivalidation"
	"github.com/klint-dev/klint/pkg/crd"
	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/schema"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// Every object of every fixture gets the same answer from the webhook
// (over HTTPS) and from `klint review`, and, for every object the API
// server accepts (it validates an object before webhooks see it), the
// webhook denies exactly when `klint --fail-on error` fails on that object
// alone.
func TestReviewAgreesWithWebhookAndLint(t *testing.T) {
	e, err := engine.New(context.Background(), engine.Options{SingleObject: true})
	if err != nil {
		t.Fatal(err)
	}
	apiServer, err := schema.New("")
	if err != nil {
		t.Fatal(err)
	}
	apiServer.WithAPIValidator(apivalidation.New()).WithCRDs(crd.NewCatalog())
	rejectedByAPIServer := 0
	rv, err := admission.NewReviewer(e, admission.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(admission.Endpoint("validate", admission.DeciderFunc(rv.Validate), admission.Options{}))
	defer srv.Close()

	var files []string
	filepath.WalkDir(testdata, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".yaml" {
			files = append(files, p)
		}
		return nil
	})
	dir := t.TempDir()
	checked, denied := 0, 0
	for _, f := range files {
		data, _ := os.ReadFile(f)
		objs, probs := manifest.Parse(f, data)
		if len(probs) > 0 {
			continue // broken inputs are the loader's tests
		}
		for i, o := range objs {
			name := fmt.Sprintf("%s#%d", f, i)
			raw, _ := json.Marshal(o.Value)
			ns := o.Namespace
			if ns == "" {
				ns = "ci"
			}
			review := admissionv1.AdmissionReview{
				TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
				Request: &admissionv1.AdmissionRequest{UID: types.UID(fmt.Sprintf("uid-%d", checked)), Operation: admissionv1.Create,
					Namespace: ns, Name: o.Name, Kind: metav1.GroupVersionKind{Kind: o.Kind}, Object: runtime.RawExtension{Raw: raw}},
			}
			body, _ := json.Marshal(review)
			resp, err := srv.Client().Post(srv.URL, "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			fromWebhook, _ := io.ReadAll(resp.Body)
			resp.Body.Close()

			reviewFile := filepath.Join(dir, "review.json")
			os.WriteFile(reviewFile, body, 0o644)
			code, fromCLI, stderr := klint(t, "", "review", reviewFile)
			var a, b admissionv1.AdmissionReview
			if err := json.Unmarshal(fromWebhook, &a); err != nil {
				t.Fatalf("%s: webhook: %v", name, err)
			}
			if err := json.Unmarshal([]byte(fromCLI), &b); err != nil {
				t.Fatalf("%s: klint review: %v %s", name, err, stderr)
			}
			aj, _ := json.Marshal(a.Response)
			bj, _ := json.Marshal(b.Response)
			if !bytes.Equal(aj, bj) {
				t.Errorf("%s: webhook and klint review differ:\n%s\n%s", name, aj, bj)
			}
			if (code == 1) != !a.Response.Allowed {
				t.Errorf("%s: klint review exit %d, allowed %v", name, code, a.Response.Allowed)
			}

			// The object alone, linted by the CLI, in the namespace the
			// webhook saw.
			md, ok := o.Value["metadata"].(map[string]any)
			if !ok {
				md = map[string]any{}
				o.Value["metadata"] = md
			}
			md["namespace"] = ns
			if rejectedBy(apiServer.Check(o)) {
				rejectedByAPIServer++
				checked++
				if !a.Response.Allowed {
					denied++
				}
				continue
			}
			objJSON, _ := json.Marshal(o.Value)
			objFile := filepath.Join(dir, "object.json")
			os.WriteFile(objFile, objJSON, 0o644)
			lintCode, lintOut, _ := klint(t, "", "--fail-on", "error", objFile)
			if (lintCode == 1) != !a.Response.Allowed {
				t.Errorf("%s: lint exit %d but webhook allowed=%v\n%s\n%s", name, lintCode, a.Response.Allowed, lintOut, aj)
			}
			checked++
			if !a.Response.Allowed {
				denied++
			}
		}
	}
	if checked < 60 || denied < 15 {
		t.Errorf("only %d objects checked, %d denied", checked, denied)
	}
	if rejectedByAPIServer < 20 {
		t.Errorf("only %d objects the API server rejects", rejectedByAPIServer)
	}
	t.Logf("%d objects, %d denied, same verdict from webhook and klint review; from klint on the %d the API server accepts", checked, denied, checked-rejectedByAPIServer)
}

// rejectedBy says whether the schema stage, with the API server's
// validation, finds what the API server refuses.
func rejectedBy(r schema.Result) bool {
	for _, is := range r.Issues {
		if is.Rule == schema.RuleSchema || is.Rule == schema.RuleRemovedAPI || is.Rule == schema.RuleUnreleased {
			return true
		}
	}
	return false
}

func TestReviewErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"apiVersion":"v1","kind":"Pod"}`), 0o644)
	if code, _, stderr := klint(t, "", "review", bad); code != 2 || !bytes.Contains([]byte(stderr), []byte("bad.json")) {
		t.Errorf("exit %d: %s", code, stderr)
	}
	if code, _, _ := klint(t, "", "review", filepath.Join(dir, "missing.json")); code != 2 {
		t.Errorf("missing file: exit %d", code)
	}
}
