package crd_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klint-dev/klint/pkg/crd"
	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/rules"
)

// A custom resource is checked against the CRD of its own input (a file,
// a chart, a kustomization) first, then against the first of the run.
func TestOwnCRDFirst(t *testing.T) {
	definition := func(max int) string {
		return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.klint.dev
spec:
  group: example.klint.dev
  scope: Namespaced
  names: {kind: Gadget, plural: gadgets}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: {type: integer, maximum: ` + fmt.Sprint(max) + `}
`
	}
	cr := func(name string) string {
		return "apiVersion: example.klint.dev/v1\nkind: Gadget\nmetadata:\n  name: " + name + "\nspec:\n  size: 50\n"
	}
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml"), filepath.Join(dir, "c.yaml")
	os.WriteFile(a, []byte(definition(10)+"---\n"+cr("in-a")), 0o644)
	os.WriteFile(b, []byte(definition(100)+"---\n"+cr("in-b")), 0o644)
	os.WriteFile(c, []byte(cr("in-c")), 0o644)
	cat, err := crd.LoadCatalog(nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(context.Background(), engine.Options{CRDs: cat})
	if err != nil {
		t.Fatal(err)
	}
	res := e.RunInputs(context.Background(), engine.Inputs{Inputs: []inputs.Input{{Path: a}, {Path: b}, {Path: c}}})
	var got []string
	for _, f := range res.Findings {
		if f.Severity == rules.Error {
			got = append(got, fmt.Sprintf("%s:%d:%d: %s: %s", f.File, f.Line, f.Column, f.Rule, f.Message))
		}
	}
	want := []string{
		a + ":27:3: schema: spec.size: Invalid value: 50: spec.size in body should be less than or equal to 10",
		// Two definitions of one CRD in one run.
		b + ":4:3: duplicate-object: CustomResourceDefinition \"gadgets.example.klint.dev\" is defined again: the first is at " + a + ":4, and applying both keeps only one",
		c + ":6:3: schema: spec.size: Invalid value: 50: spec.size in body should be less than or equal to 10",
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
