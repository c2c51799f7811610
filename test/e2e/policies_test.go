package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// admissionPolicies compares klint's offline judgement by a cluster's
// ValidatingAdmissionPolicies with the API server's: the fixture's
// policies, bindings, params and Namespaces are created, then each object
// is created with server-side dry run. An object the server denies must be
// an admission-policy error of klint's, one it warns about a warning, and
// one it lets through clean (Audit is not the client's to see).
func admissionPolicies(t *testing.T, c *cluster, bin string) {
	dir := filepath.Join(repoRoot, "testdata/admission-policies")
	var warnings []string
	cfg := rest.CopyConfig(c.config)
	cfg.WarningHandler = warningFunc(func(msg string) { warnings = append(warnings, msg) })
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(c.client.Discovery()))
	ctx := context.Background()
	create := func(obj *unstructured.Unstructured, dryRun bool) error {
		gvk := obj.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return err
		}
		opts := metav1.CreateOptions{}
		if dryRun {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			_, err = dyn.Resource(m.Resource).Namespace(obj.GetNamespace()).Create(ctx, obj, opts)
		} else {
			_, err = dyn.Resource(m.Resource).Create(ctx, obj, opts)
		}
		return err
	}
	for _, obj := range readObjects(filepath.Join(dir, "policies.yaml")) {
		if err := create(obj, false); err != nil {
			t.Fatalf("creating %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}
	objects := readObjects(filepath.Join(dir, "objects.yaml"))
	// The API server enforces a policy once its informers have it: the
	// first object (denied) is asked for until it is.
	waitFor(t, "the policies enforced", func() bool { return create(objects[0], true) != nil })
	server := map[string]string{}
	for _, obj := range objects {
		warnings = nil
		err := create(obj, true)
		switch {
		case err != nil:
			server[obj.GetName()] = "error"
		case len(warnings) > 0:
			server[obj.GetName()] = "warning"
		default:
			server[obj.GetName()] = ""
		}
	}
	cmd := exec.Command(filepath.Join(bin, "klint"), "-o", "json", "--kube-version", "1.37", dir)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, io.Discard
	_ = cmd.Run()
	var r struct {
		Findings []struct {
			Rule, Severity string
			Object         struct{ Name string }
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("klint: %v\n%s", err, stdout.String())
	}
	klint := map[string]string{}
	for _, f := range r.Findings {
		if f.Rule == "admission-policy" && f.Severity != "info" && klint[f.Object.Name] != "error" {
			klint[f.Object.Name] = f.Severity
		}
	}
	denied, warned := 0, 0
	for name, verdict := range server {
		if klint[name] != verdict {
			t.Errorf("Deployment %s: the API server says %q, klint %q", name, verdict, klint[name])
		}
		denied += strings.Count(verdict, "error")
		warned += strings.Count(verdict, "warning")
	}
	if denied == 0 || warned == 0 {
		t.Errorf("the fixtures no longer exercise a denial and a warning: %v", server)
	}
	t.Logf("admission policies: %d objects; the API server denies %d and warns about %d; klint the same on each unless an error above says otherwise", len(server), denied, warned)
}
