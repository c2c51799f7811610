package render

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/helm"
	"github.com/klint-dev/klint/pkg/inputs"
)

// A template two values sets render alike is checked once, and a finding
// only the second render keeps (its world has no LimitRange to settle
// it) still names that render's values file as where the value is set.
func TestAlikeRenderKeepsItsValuesFile(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"Chart.yaml":                "apiVersion: v2\nname: alike\nversion: 0.1.0\n",
		"values.yaml":               "limitRange: true\nimage: nginx:1.27\n",
		"ci/bare-values.yaml":       "limitRange: false\nimage: nginx:1.27\n",
		"templates/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - {name: web, image: \"{{ .Values.image }}\"}\n",
		"templates/limitrange.yaml": "{{- if .Values.limitRange }}\napiVersion: v1\nkind: LimitRange\nmetadata:\n  name: defaults\nspec:\n  limits:\n    - type: Container\n      default: {cpu: 500m, memory: 256Mi}\n      defaultRequest: {cpu: 100m, memory: 128Mi}\n{{- end }}\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	eng, err := engine.New(context.Background(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := eng.RunInputs(context.Background(), engine.Inputs{Inputs: inputs.Expand([]string{dir}), Render: Func(helm.Options{})})
	bare := dir + " with ci/bare-values.yaml"
	var seen bool
	for _, f := range res.Findings {
		if f.Rule != "missing-resource-limits" {
			continue
		}
		seen = true
		if !slices.Equal(f.Renders, []string{bare}) {
			t.Errorf("missing-resource-limits from %q, want only %q (the default render's LimitRange settles it)", f.Renders, bare)
		}
		var files []string
		for _, r := range f.Related {
			files = append(files, r.File)
		}
		if want := filepath.Join(dir, "ci/bare-values.yaml"); !slices.Contains(files, want) {
			t.Errorf("related %q, want %s, where the bare render takes the image from", files, want)
		}
	}
	if !seen {
		t.Fatalf("no missing-resource-limits: %+v", res.Findings)
	}
}
