// Package render checks that klint renders exactly what helm template and
// kustomize build render, with the real binaries built from their modules.
package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/klint-dev/klint/pkg/boundary"
	"github.com/klint-dev/klint/pkg/helm"
	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/kustomize"
	"github.com/klint-dev/klint/pkg/manifest"
	"sigs.k8s.io/yaml"
)

func tool(t *testing.T, env string) string {
	t.Helper()
	p := os.Getenv(env)
	if p == "" {
		t.Fatalf("%s is not set: run `make render-check`, which builds the reference binaries first", env)
	}
	return p
}

// objectsOf splits a rendered stream into objects, as canonical JSON.
func objectsOf(t *testing.T, out []byte) []string {
	var objs []string
	for _, doc := range regexp.MustCompile(`(?m)^---[ \t]*$`).Split(string(out), -1) {
		var v map[string]any
		if err := yaml.Unmarshal([]byte(doc), &v); err != nil {
			t.Fatalf("reference output does not parse: %v\n%s", err, doc)
		}
		if len(v) == 0 {
			continue
		}
		if v["kind"] == "List" {
			for _, it := range v["items"].([]any) {
				objs = append(objs, canonical(t, it))
			}
			continue
		}
		objs = append(objs, canonical(t, v))
	}
	sort.Strings(objs)
	return objs
}

func canonical(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	// Through JSON and back: numbers and booleans compare alike.
	var back any
	json.Unmarshal(b, &back)
	b, _ = json.Marshal(back)
	return string(b)
}

func klintObjects(t *testing.T, objs []*manifest.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, canonical(t, o.Value))
	}
	sort.Strings(out)
	return out
}

func compare(t *testing.T, what string, want, got []string) bool {
	t.Helper()
	if strings.Join(want, "\n") == strings.Join(got, "\n") {
		return true
	}
	t.Errorf("%s: klint rendered %d objects, the reference %d; first difference:", what, len(got), len(want))
	for i := 0; i < len(want) || i < len(got); i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			at := 0
			for at < len(w) && at < len(g) && w[at] == g[at] {
				at++
			}
			from := max(0, at-300)
			t.Errorf("reference: …%.500s\nklint:     …%.500s", w[min(from, len(w)):], g[min(from, len(g)):])
			break
		}
	}
	return false
}

func identities(t *testing.T, out []byte) []string {
	var ids []string
	for _, o := range objectsOf(t, out) {
		var v map[string]any
		json.Unmarshal([]byte(o), &v)
		md, _ := v["metadata"].(map[string]any)
		ids = append(ids, fmt.Sprint(v["apiVersion"], " ", v["kind"], " ", md["namespace"], " ", md["name"]))
	}
	sort.Strings(ids)
	return ids
}

func klintIdentities(objs []*manifest.Object) []string {
	var ids []string
	for _, o := range objs {
		md, _ := o.Value["metadata"].(map[string]any)
		ids = append(ids, fmt.Sprint(o.Value["apiVersion"], " ", o.Value["kind"], " ", md["namespace"], " ", md["name"]))
	}
	sort.Strings(ids)
	return ids
}

// charts lists every fixture chart and, when CORPUS_HELM names a
// directory, every chart in it.
func charts(t *testing.T) []string {
	var out []string
	if os.Getenv("CORPUS_HELM") == "" {
		t.Log("the chart corpus is not compared: CORPUS_HELM names no directory (make render-check sets it when ../shared/corpus-helm exists)")
	}
	for _, dir := range []string{"../../testdata/charts", os.Getenv("CORPUS_HELM")} {
		if dir == "" {
			continue
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if inputs.IsChart(filepath.Join(dir, e.Name())) {
				out = append(out, filepath.Join(dir, e.Name()))
			}
		}
	}
	return out
}

// For every chart and values set (defaults, and each ci/*-values.yaml),
// klint's objects are exactly helm template's (which leaves crds/ out). Where helm
// refuses the chart (dependencies not vendored, a required value), klint
// must report a render finding.
func TestHelmTemplateAgrees(t *testing.T) {
	bin := tool(t, "HELM")
	compared, refused, optional, random := 0, 0, 0, 0
	for _, dir := range charts(t) {
		sets := []string{""}
		ci, _ := filepath.Glob(filepath.Join(dir, helm.DefaultValuesSets))
		sets = append(sets, ci...)
		for _, set := range sets {
			args := []string{"template", dir, "--kube-version", "1.37.0"}
			opts := helm.Options{KubeVersion: "1.37", DefaultsOnly: true}
			what := dir
			if set != "" {
				args = append(args, "-f", set)
				opts.ValueFiles = []string{set}
				what += " with " + filepath.Base(set)
			}
			var stderr bytes.Buffer
			cmd := exec.Command(bin, args...)
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			objs, probs := helm.Render(dir, opts)
			if err != nil && strings.Contains(stderr.String(), "library charts are not installable") && len(objs)+len(probs) == 0 {
				refused++ // a library chart: nothing to render, for either
				continue
			}
			if err != nil {
				// helm template refuses a chart whose dependencies are not
				// all vendored, even those its values turn off; klint
				// renders without those, as the issue asks.
				if strings.Contains(stderr.String(), "missing in charts/ directory") && len(probs) == 0 {
					optional++
					continue
				}
				refused++
				if len(probs) == 0 {
					t.Errorf("%s: helm refuses it (%s) but klint reports nothing", what, strings.TrimSpace(stderr.String()))
				}
				continue
			}
			for _, p := range probs {
				t.Errorf("%s: helm renders it, klint reports %v", what, p)
			}
			want := objectsOf(t, out)
			// A chart that hashes with a random salt (htpasswd) or makes
			// certificates renders differently every time, helm included:
			// there, the same objects by identity is all that can agree.
			if again, err := exec.Command(bin, args...).Output(); err == nil && !bytes.Equal(again, out) {
				random++
				compare(t, what+" (identities)", identities(t, out), klintIdentities(objs))
				continue
			}
			if compare(t, what, want, klintObjects(t, objs)) {
				compared++
			}
		}
	}
	t.Logf("helm template: %d renders identical; %d random (same objects); %d refused by helm and reported by klint; %d refused by helm for dependencies the values turn off", compared, random, refused, optional)
	if os.Getenv("CORPUS_HELM") != "" {
		readmeQuotes(t, fmt.Sprintf("(%s chart renders and", thousands(compared)))
	} else {
		t.Log("README's count of identical chart renders is not checked: it counts the chart corpus's too")
	}
	if compared == 0 {
		t.Error("no render compared")
	}
}

// For every fixture overlay and, when CORPUS names a directory, every
// kustomization in it that kustomize builds, klint's objects are exactly
// kustomize build's.
func TestKustomizeBuildAgrees(t *testing.T) {
	bin := tool(t, "KUSTOMIZE")
	dirs, _ := filepath.Glob("../../testdata/kustomize/overlays/*")
	dirs = append(dirs, "../../testdata/kustomize/base") // a list of files, read without kustomize
	if os.Getenv("CORPUS") == "" {
		t.Log("the corpus's kustomizations are not compared: CORPUS names no directory (make render-check sets it when ../shared/corpus exists)")
	}
	if c := os.Getenv("CORPUS"); c != "" {
		filepath.WalkDir(c, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() && inputs.KustomizationFile(p) != "" {
				if k, err := inputs.ReadKustomization(p); err == nil && !k.IsComponent() {
					dirs = append(dirs, p)
				}
			}
			return nil
		})
	}
	compared, refused := 0, 0
	for _, dir := range dirs {
		out, err := exec.Command(bin, "build", dir).Output()
		// A corpus kustomization builds on bases beside it: the
		// corpus is the repository it is read from.
		var b *boundary.Boundary
		if c := os.Getenv("CORPUS"); c != "" && strings.HasPrefix(dir, c) {
			b = boundary.New(c)
		}
		objs, probs := kustomize.Render(dir, b)
		if err != nil {
			refused++
			if len(probs) == 0 {
				t.Errorf("%s: kustomize refuses it but klint reports nothing", dir)
			}
			continue
		}
		for _, p := range probs {
			if p.Kind == manifest.DeprecatedField {
				continue // kustomize builds it, and warns too
			}
			t.Errorf("%s: kustomize builds it, klint reports %v", dir, p)
		}
		if compare(t, dir, objectsOf(t, out), klintObjects(t, objs)) {
			compared++
		}
	}
	t.Logf("kustomize build: %d identical, %d refused by kustomize (and reported by klint)", compared, refused)
	if os.Getenv("CORPUS") != "" {
		readmeQuotes(t, fmt.Sprintf("and %s kustomization builds identical)", thousands(compared)))
	} else {
		t.Log("README's count of identical kustomization builds is not checked: it counts the corpus's too")
	}
	if compared == 0 {
		t.Error("no kustomization compared")
	}
}
