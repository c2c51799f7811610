package crd

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/schema"
	k8sschema "k8s.io/apimachinery/pkg/runtime/schema"
)

const fixtures = "../../testdata/manifests/crd"

// checker is the CLI's schema stage with the fixture CRDs as a catalog.
func checker(t *testing.T, catalog ...string) (*schema.Checker, schema.CustomResources) {
	t.Helper()
	c, err := schema.New("")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := LoadCatalog(catalog)
	if err != nil {
		t.Fatal(err)
	}
	c.WithCRDs(cat)
	return c, cat.WithRun(nil)
}

func parse(t *testing.T, file string) []*manifest.Object {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	objs, probs := manifest.Parse(file, data)
	if len(probs) > 0 {
		t.Fatalf("%s: %v", file, probs)
	}
	return objs
}

type want struct {
	path      string
	line, col int
	frag      string
}

// Each invalid custom resource gets the one error the API server gives
// it (test/e2e checks the server's verdicts), at its field.
func TestInvalidCustomResources(t *testing.T) {
	c, crs := checker(t, filepath.Join(fixtures, "crds"))
	cases := map[string]want{
		"bad-name.yaml":           {"metadata.name", 4, 3, `metadata.name: Invalid value: "Widget_One": a lowercase RFC 1123 subdomain`},
		"cel-rule.yaml":           {"spec.minReplicas", 8, 3, "spec.minReplicas: Invalid value: minReplicas must not exceed replicas"},
		"cel-rule-default.yaml":   {"spec.minReplicas", 8, 3, "minReplicas must not exceed replicas"},
		"enum.yaml":               {"spec.size", 7, 3, `spec.size: Unsupported value: "huge": supported values: "small", "medium", "large"`},
		"format.yaml":             {"spec.contact", 7, 3, "must be of type email"},
		"list-map-duplicate.yaml": {"spec.ports[1]", 10, 7, "spec.ports[1]: Duplicate value"},
		"maximum.yaml":            {"spec.replicas", 7, 3, "should be less than or equal to 10"},
		"metadata-unknown.yaml":   {"metadata.lables", 5, 3, `unknown field "metadata.lables"`},
		"pattern.yaml":            {"spec.image", 6, 3, "spec.image in body should match"},
		"required.yaml":           {"spec.image", 5, 1, "spec.image: Required value"},
		"unknown-field.yaml":      {"spec.replica", 7, 3, `unknown field "spec.replica": the CustomResourceDefinition widgets.example.klint.dev (../../testdata/manifests/crd/crds/widget.yaml:1) does not declare it`},
		"version-not-served.yaml": {"apiVersion", 1, 1, `apiVersion: Unsupported value: "example.klint.dev/v1alpha1": supported values: "example.klint.dev/v1"`},
		"wrong-type.yaml":         {"spec.replicas", 7, 3, "spec.replicas in body must be of type integer"},
	}
	files, _ := filepath.Glob(filepath.Join(fixtures, "invalid", "*.yaml"))
	if len(files) != len(cases) {
		t.Errorf("%d invalid fixtures, %d cases", len(files), len(cases))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			w, ok := cases[filepath.Base(f)]
			if !ok {
				t.Fatal("no expectation")
			}
			o := parse(t, f)[0]
			if r := c.Check(o); !r.Custom || len(r.Issues) > 0 {
				t.Fatalf("Check: custom %v, issues %v; want it left for CheckCustomResource", r.Custom, r.Issues)
			}
			got := c.CheckCustomResource(crs, o)
			if len(got) != 1 {
				t.Fatalf("issues %v, want 1", got)
			}
			pos, _ := o.Pos(got[0].Path)
			if got[0].Rule != "schema" || got[0].Path != w.path || pos.Line != w.line || pos.Column != w.col || !strings.Contains(got[0].Message, w.frag) {
				t.Errorf("got %s %s at %d:%d %q; want schema %s at %d:%d containing %q", got[0].Rule, got[0].Path, pos.Line, pos.Column, got[0].Message, w.path, w.line, w.col, w.frag)
			}
		})
	}
}

func TestValidCustomResources(t *testing.T) {
	c, crs := checker(t, filepath.Join(fixtures, "crds"))
	for _, o := range parse(t, filepath.Join(fixtures, "valid", "widgets.yaml")) {
		if got := c.CheckCustomResource(crs, o); len(got) > 0 {
			t.Errorf("%s: %v", o.Name, got)
		}
	}
}

// Without a CRD for its kind, a custom resource stays unknown-kind.
func TestNoCRDIsUnknownKind(t *testing.T) {
	c, crs := checker(t)
	o := parse(t, filepath.Join(fixtures, "valid", "widgets.yaml"))[0]
	got := c.CheckCustomResource(crs, o)
	if len(got) != 1 || got[0].Rule != "unknown-kind" || got[0].Path != "kind" || !strings.Contains(got[0].Message, "no CustomResourceDefinition in the run or the --crd catalog defines it") {
		t.Errorf("got %v", got)
	}
}

// A CRD of the run goes before the catalog's of the same kind, and the
// first of the run before a later one.
func TestRunCRDsGoFirst(t *testing.T) {
	c, err := LoadCatalog([]string{filepath.Join(fixtures, "crds")})
	if err != nil {
		t.Fatal(err)
	}
	strict := `{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"widgets.example.klint.dev"},
"spec":{"group":"example.klint.dev","scope":"Namespaced","names":{"kind":"Widget","plural":"widgets"},
"versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{"spec":{"type":"object","properties":{"image":{"type":"string","maxLength":3}}}}}}}]}}`
	loose := strings.Replace(strict, `"maxLength":3`, `"maxLength":300`, 1)
	cr := []byte(`{"apiVersion":"example.klint.dev/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"image":"nginx:1.27"}}`)
	gvk := k8sschema.GroupVersionKind{Group: "example.klint.dev", Version: "v1", Kind: "Widget"}

	gk := gvk.GroupKind()
	def := func(data, where string) schema.Definition {
		return schema.Definition{Data: []byte(data), Key: sha256.Sum256([]byte(data)), GK: gk, Name: "widgets.example.klint.dev", Where: where}
	}
	run := c.WithRun([]schema.Definition{def(strict, "first.yaml:1"), def(loose, "second.yaml:1")})
	res, ok := run.ValidateCustomResource(gvk, cr)
	if !ok || len(res.Errs) != 1 || res.Errs[0].Field != "spec.image" || res.CRD != "widgets.example.klint.dev (first.yaml:1)" {
		t.Errorf("run's first CRD: ok %v, %v, %s", ok, res.Errs, res.CRD)
	}
	// The catalog's CRD requires nothing of that image.
	res, ok = c.WithRun(nil).ValidateCustomResource(gvk, cr)
	if !ok || len(res.Errs) != 0 || !strings.HasSuffix(res.CRD, "crds/widget.yaml:1)") {
		t.Errorf("catalog: ok %v, %v, %s", ok, res.Errs, res.CRD)
	}
}

// The CRD strategy's errors are said at the field of the v1 manifest,
// though the API server names the internal version's hoisted schema.
func TestInvalidDefinitions(t *testing.T) {
	c, _ := checker(t)
	cases := map[string]want{
		"crd-rule-does-not-compile.yaml": {"spec.versions[0].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule", 22, 19, "undefined field 'minimum'"},
		"crd-schema-not-structural.yaml": {"spec.versions[0].schema.openAPIV3Schema.properties[spec].type", 19, 13, "Required value: must not be empty for specified object fields"},
	}
	for file, w := range cases {
		o := parse(t, filepath.Join("../../testdata/manifests/schema/invalid", file))[0]
		r := c.Check(o)
		if len(r.Issues) != 1 || r.Definition == nil {
			t.Fatalf("%s: issues %v, definition kept %v", file, r.Issues, r.Definition != nil)
		}
		is := r.Issues[0]
		pos, _ := o.Pos(is.Path)
		if is.Path != w.path || pos.Line != w.line || pos.Column != w.col || !strings.Contains(is.Message, w.frag) {
			t.Errorf("%s: %s at %d:%d %q; want %s at %d:%d containing %q", file, is.Path, pos.Line, pos.Column, is.Message, w.path, w.line, w.col, w.frag)
		}
	}
	o := parse(t, "../../testdata/manifests/schema/valid/crd.yaml")[0]
	if r := c.Check(o); len(r.Issues) > 0 {
		t.Errorf("valid CRD: %v", r.Issues)
	}
}

func TestCatalogErrors(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(broken, []byte("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: x\n spec: {}\n"), 0o644)
	if _, err := LoadCatalog([]string{dir}); err == nil || !strings.Contains(err.Error(), "broken.yaml:5") {
		t.Errorf("broken file: %v", err)
	}
	if _, err := LoadCatalog([]string{filepath.Join(dir, "absent")}); err == nil || !strings.Contains(err.Error(), "absent") {
		t.Errorf("absent path: %v", err)
	}
	nokind := filepath.Join(dir, "nokind.yaml")
	os.Remove(broken)
	os.WriteFile(nokind, []byte("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: x.example.com\nspec:\n  group: example.com\n"), 0o644)
	if _, err := LoadCatalog([]string{dir}); err == nil || !strings.Contains(err.Error(), "nokind.yaml:1") || !strings.Contains(err.Error(), "names no kind") {
		t.Errorf("CRD without kind: %v", err)
	}
	os.Remove(nokind)
	os.WriteFile(filepath.Join(dir, "other.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"), 0o644)
	c, err := LoadCatalog([]string{dir, filepath.Join(fixtures, "crds", "widget.yaml")})
	if err != nil || c.Len() != 1 {
		t.Errorf("a ConfigMap and a CRD: %v, %d CRDs", err, c.Len())
	}
}
