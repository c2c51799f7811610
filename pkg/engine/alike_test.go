package engine

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/klint-dev/klint/pkg/manifest"
)

const alikeDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: nginx:latest
`

const alikeService = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: %s
  ports:
    - port: 80
`

// rendered parses text as what render wrote for one template; alike, when
// set, marks its objects as the helm renderer marks a template two values
// sets render to the same text.
func rendered(t *testing.T, file, text, render, alike string) []*manifest.Object {
	t.Helper()
	objs, probs := manifest.Parse(file, []byte(text))
	if len(probs) > 0 {
		t.Fatal(probs[0])
	}
	for _, o := range objs {
		o.InRender(render)
		o.Alike = alike
	}
	return objs
}

// Objects alike in two renders are checked once: each render reports the
// findings as its own, and each is still in its render's world (a Service
// of the second render finds the second render's Deployment, which was
// not checked on its own).
func TestAlikeObjectsShareChecksNotWorlds(t *testing.T) {
	e := newEngine(t, Options{})
	var objs []*manifest.Object
	objs = append(objs, rendered(t, "chart/templates/deployment.yaml", alikeDeployment, "chart", "d/0")...)
	objs = append(objs, rendered(t, "chart/templates/deployment.yaml", alikeDeployment, "chart with ci/b-values.yaml", "d/0")...)
	objs = append(objs, rendered(t, "chart/templates/service.yaml", fmt.Sprintf(alikeService, "web"), "chart with ci/b-values.yaml", "")...)
	objs = append(objs, rendered(t, "chart/templates/service.yaml", fmt.Sprintf(alikeService, "api"), "chart", "")...)
	res := e.RunObjects(context.Background(), objs, nil)
	var latest, nothing []string
	for _, f := range res.Findings {
		switch f.Rule {
		case "image-latest-tag":
			if f.File != "chart/templates/deployment.yaml" || f.Line != 16 {
				t.Errorf("image-latest-tag at %s:%d, want chart/templates/deployment.yaml:16", f.File, f.Line)
			}
			latest = append(latest, f.Renders...)
		case "service-selects-nothing":
			nothing = append(nothing, f.Renders...)
		}
	}
	if want := []string{"chart", "chart with ci/b-values.yaml"}; !slices.Equal(latest, want) {
		t.Errorf("image-latest-tag renders %q, want %q (one finding, from both renders)", latest, want)
	}
	if want := []string{"chart"}; !slices.Equal(nothing, want) {
		t.Errorf("service-selects-nothing renders %q, want %q: the second render's Service selects its Deployment", nothing, want)
	}
	if res.Summary.Objects != 4 {
		t.Errorf("%d objects counted, want 4", res.Summary.Objects)
	}
}
