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
	if _, created, groups := registerCRDs(t, c, files); created != len(files) || !groups["example.klint.dev"] {
		t.Fatalf("%d of %d fixture CRDs registered, groups %v", created, len(files), groups)
	}
	for _, kind := range []string{"invalid", "valid"} {
		files, _ := filepath.Glob(filepath.Join(repoRoot, "testdata/manifests/crd", kind, "*.yaml"))
		r := *agreement(t, c, bin, files, map[string]bool{"example.klint.dev": true}, "--crd", crds).cr
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

// registerCRDs creates the CRDs of files (apiextensions.k8s.io/v1) on the
// API server, the first of each name, and waits for them to be served.
// It returns the files that hold them, how many it created and the
// groups they define.
func registerCRDs(t *testing.T, c *cluster, files []string) (crdFiles []string, created int, groups map[string]bool) {
	t.Helper()
	dyn, err := dynamic.NewForConfig(c.config)
	if err != nil {
		t.Fatal(err)
	}
	groups = map[string]bool{}
	var groupVersions []string
	for _, f := range files {
		holds := false
		for _, obj := range readObjects(f) {
			if obj.GetAPIVersion() != "apiextensions.k8s.io/v1" || obj.GetKind() != "CustomResourceDefinition" {
				continue
			}
			holds = true
			if _, err := dyn.Resource(crdResource).Create(context.Background(), obj, metav1.CreateOptions{FieldValidation: "Strict"}); err != nil {
				continue // a second CRD of one name, or one the server rejects (klint's schema fixtures compare those)
			}
			created++
			waitEstablished(t, dyn, obj.GetName())
			group, _, _ := unstructured.NestedString(obj.Object, "spec", "group")
			groups[group] = true
			versions, _, _ := unstructured.NestedSlice(obj.Object, "spec", "versions")
			for _, v := range versions {
				if m, ok := v.(map[string]any); ok && m["served"] == true {
					groupVersions = append(groupVersions, fmt.Sprintf("%s/%s", group, m["name"]))
				}
			}
		}
		if holds {
			crdFiles = append(crdFiles, f)
		}
	}
	for _, gv := range groupVersions {
		waitDiscovered(t, c, gv)
	}
	return crdFiles, created, groups
}

// waitEstablished waits until the CRD is established.
func waitEstablished(t *testing.T, dyn dynamic.Interface, name string) {
	t.Helper()
	waitFor(t, "CRD "+name+" established", func() bool {
		got, err := dyn.Resource(crdResource).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false
		}
		conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
		for _, cnd := range conds {
			if m, ok := cnd.(map[string]any); ok && m["type"] == "Established" && m["status"] == "True" {
				return true
			}
		}
		return false
	})
}

// waitDiscovered waits until discovery serves the group version.
func waitDiscovered(t *testing.T, c *cluster, groupVersion string) {
	t.Helper()
	waitFor(t, groupVersion+" in discovery", func() bool {
		_, err := c.client.Discovery().ServerResourcesForGroupVersion(groupVersion)
		return err == nil
	})
}

// waitFor polls done for up to 30 seconds, failing the test after.
func waitFor(t *testing.T, what string, done func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if done() {
			return
		}
	}
	t.Fatalf("%s: not after 30s", what)
}
