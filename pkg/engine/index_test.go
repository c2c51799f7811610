package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/rules"
)

// configMapsIndex is a test rule's own index: the ConfigMaps of a world by
// namespace and name, first seen first.
var configMapsIndex = &rules.IndexSpec{Name: "test-configmaps", New: func() rules.Index { return configMaps{} }}

type configMaps map[string][]string // namespace/name → file:line of each

func (ix configMaps) Add(o *rules.Object) {
	if o.Kind == "ConfigMap" {
		k := o.Namespace + "/" + o.Name
		ix[k] = append(ix[k], fmt.Sprintf("%s:%d", o.File, o.Start().Line))
	}
}

func (ix configMaps) Merge(later rules.Index) { rules.MergeLists(ix, later.(configMaps)) }

// A cross-object rule brings its own index, and the engine builds it per
// world, merges it across files in input order and hands it to the rule,
// without knowing what it holds: a ConfigMap defined in two files is
// reported on the later one, in plain files streamed one by one and in
// one render, and a render does not see the plain files' ConfigMaps.
func TestRuleBringsItsOwnIndex(t *testing.T) {
	rule := &rules.Rule{ID: "test-configmap-twice", Severity: rules.Warning, Source: rules.SourceGo, CrossObject: true, Kinds: []string{"ConfigMap"},
		Indexes: []*rules.IndexSpec{configMapsIndex}, Description: "test",
		Check: func(o *rules.Object, run *rules.Run, _ rules.Params) []rules.Report {
			at := rules.IndexOf[configMaps](run, configMapsIndex)[o.Namespace+"/"+o.Name]
			if len(at) > 1 && at[0] != fmt.Sprintf("%s:%d", o.File, o.Start().Line) {
				return []rules.Report{{Path: "metadata.name", Message: "ConfigMap also defined at " + at[0]}}
			}
			return nil
		}}
	rules.Register(rule)
	t.Cleanup(func() { rules.Unregister(rule.ID) })

	dir := t.TempDir()
	cm := func(name string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\ndata: {a: b}\n"
	}
	files := map[string]string{"a.yaml": cm("x") + "---\n" + cm("y"), "b.yaml": cm("z") + "---\n" + cm("x"), "c.yaml": cm("y")}
	var paths []string
	for _, n := range []string{"a.yaml", "b.yaml", "c.yaml"} {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, []byte(files[n]), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	e := newEngine(t, Options{})
	res := e.RunInputs(context.Background(), Inputs{Inputs: named(paths...)})
	got := map[string]string{}
	for _, f := range only(res, rule.ID) {
		got[fmt.Sprintf("%s:%d:%d", filepath.Base(f.File), f.Line, f.Column)] = f.Message
	}
	want := map[string]string{
		"b.yaml:10:3": "ConfigMap also defined at " + paths[0] + ":1",
		"c.yaml:4:3":  "ConfigMap also defined at " + paths[0] + ":7",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("findings %v, want %v", got, want)
	}
	// One render holding x twice: its own world.
	render := func(in inputs.Input) ([]*manifest.Object, []manifest.Problem) {
		objs, probs := manifest.Parse(paths[0], []byte(cm("x")+"---\n"+cm("x")))
		for _, o := range objs {
			o.InRender("chart")
		}
		return objs, probs
	}
	res = e.RunInputs(context.Background(), Inputs{Inputs: append(named(paths[1]), inputs.Input{Path: "chart", Kind: inputs.ChartInput}), Render: render})
	if fs := only(res, rule.ID); len(fs) != 1 || fs[0].Line != 10 || fs[0].Message != "ConfigMap also defined at "+paths[0]+":1" {
		t.Errorf("render: %+v", fs)
	}
}

// A render's Pod Security findings are settled with the render's own
// Namespaces, when the render is checked: a pod in a render whose
// Namespace warns at baseline gets a warning, while a plain file's pod in
// a namespace of the same name (which no plain file defines) keeps the
// rule's severity.
func TestRenderPodSecuritySettlesWithItsNamespaces(t *testing.T) {
	pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: system\nspec:\n  hostNetwork: true\n  containers:\n    - name: c\n      image: registry.example.com/c:1.0.0\n"
	ns := "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: system\n  labels:\n    pod-security.kubernetes.io/enforce: privileged\n    pod-security.kubernetes.io/warn: baseline\n---\n"
	dir := t.TempDir()
	plain := filepath.Join(dir, "pod.yaml")
	if err := os.WriteFile(plain, []byte(pod), 0o644); err != nil {
		t.Fatal(err)
	}
	render := func(in inputs.Input) ([]*manifest.Object, []manifest.Problem) {
		objs, probs := manifest.Parse(filepath.Join(dir, "chart.yaml"), []byte(ns+pod))
		for _, o := range objs {
			o.InRender("chart")
		}
		return objs, probs
	}
	e := newEngine(t, Options{Disable: []string{"recommended-labels", "missing-liveness-probe", "missing-readiness-probe"}})
	res := e.RunInputs(context.Background(), Inputs{Inputs: append(named(plain), inputs.Input{Path: "chart", Kind: inputs.ChartInput}), Render: render})
	got := map[string]string{}
	for _, f := range only(res, "pod-security-baseline") {
		got[filepath.Base(f.File)] = fmt.Sprintf("%s %d %v", f.Severity, f.Line, strings.HasSuffix(f.Message, "(namespace system asks for warn: baseline)"))
	}
	if want := map[string]string{"chart.yaml": "warning 15 true", "pod.yaml": "error 7 false"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("findings %v, want %v", got, want)
	}
}
