package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// customResources registers the fixture CRDs on the API server, then
// creates every custom-resource fixture (server-side dry run, strict
// field validation): the server must reject each of invalid/ and accept
// each of valid/, and klint, given the same CRDs with --crd, must say the
// same of every one.
func customResources(t *testing.T, c *cluster, bin string) {
	crds := filepath.Join(repoRoot, "testdata/manifests/crd/crds")
	files, _ := filepath.Glob(filepath.Join(crds, "*.yaml"))
	if len(files) == 0 {
		t.Fatal("no fixture CRDs")
	}
	dyn, err := dynamic.NewForConfig(c.config)
	if err != nil {
		t.Fatal(err)
	}
	var groupVersions []string
	for _, f := range files {
		for _, obj := range readObjects(f) {
			if _, err := dyn.Resource(crdResource).Create(context.Background(), obj, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			group, _, _ := unstructured.NestedString(obj.Object, "spec", "group")
			versions, _, _ := unstructured.NestedSlice(obj.Object, "spec", "versions")
			for _, v := range versions {
				if m, ok := v.(map[string]any); ok && m["served"] == true {
					groupVersions = append(groupVersions, fmt.Sprintf("%s/%s", group, m["name"]))
				}
			}
			waitEstablished(t, dyn, obj.GetName())
		}
	}
	for _, gv := range groupVersions {
		waitDiscovered(t, c, gv)
	}
	for _, kind := range []string{"invalid", "valid"} {
		files, _ := filepath.Glob(filepath.Join(repoRoot, "testdata/manifests/crd", kind, "*.yaml"))
		r := agreement(t, c, bin, files, "--crd", crds)
		for _, m := range r.missed {
			t.Errorf("the API server rejects what klint accepts: %s", m)
		}
		for _, f := range r.flagged {
			t.Errorf("klint rejects what the API server accepts: %s", f)
		}
		if r.custom > 0 || kind == "invalid" && r.accepted > 0 || kind == "valid" && r.rejected > 0 {
			t.Errorf("%s: the API server rejected %d and accepted %d custom resources, and did not know %d", kind, r.rejected, r.accepted, r.custom)
		}
		t.Logf("custom-resource fixtures, %s: %d rejected by the API server (klint flags %d), %d accepted (klint flags %d)", kind, r.rejected, r.caught, r.accepted, r.wronglyFlagged)
	}
}

func waitEstablished(t *testing.T, dyn dynamic.Interface, name string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		got, err := dyn.Resource(crdResource).Get(context.Background(), name, metav1.GetOptions{})
		if err == nil {
			conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
			for _, cnd := range conds {
				if m, ok := cnd.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("CRD %s not established after 30s", name)
}

func waitDiscovered(t *testing.T, c *cluster, groupVersion string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := c.client.Discovery().ServerResourcesForGroupVersion(groupVersion); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not in discovery after 30s", groupVersion)
}
