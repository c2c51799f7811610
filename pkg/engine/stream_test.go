package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/rules"
)

// Streaming changes nothing but memory: RunInputs on every fixture gives
// byte for byte the result of loading everything and running it, on one
// core and on several.
func TestRunInputsIsTheRunOfEverythingLoaded(t *testing.T) {
	e := newEngine(t, Options{})
	files := inputs.Expand([]string{testdata})
	whole, err := json.Marshal(runLoaded(t, e, files, false))
	if err != nil {
		t.Fatal(err)
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 4} {
		runtime.GOMAXPROCS(procs)
		got, _ := json.Marshal(e.RunInputs(context.Background(), Inputs{Inputs: files}))
		if string(got) != string(whole) {
			t.Errorf("GOMAXPROCS=%d: streamed result differs from the loaded one:\n%s\n%s", procs, got, whole)
		}
	}
	if !strings.Contains(string(whole), "is already used by Service first") {
		t.Error("the fixtures no longer exercise a rule reading the run")
	}
}

// Rules that read the run see every plain file of it, whichever worker
// read which file: a Service finds its pods in another file, and a
// duplicate nodePort is reported on the later file, naming the earlier.
// Context inputs feed the index and are not reported or counted.
func TestRunInputsAcrossFiles(t *testing.T) {
	dir := t.TempDir()
	svc := func(name string) string {
		return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name + "\nspec:\n  type: NodePort\n  selector: {app: web}\n  ports:\n  - {port: 80, nodePort: 30080}\n"
	}
	deploy := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n"
	a, b, d := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml"), filepath.Join(dir, "d.yaml")
	for f, body := range map[string]string{a: svc("a"), b: svc("b"), d: deploy} {
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e := newEngine(t, Options{})
	check := func(inputs []inputs.Input, wantFiles int, quiet ...string) {
		t.Helper()
		res := e.RunInputs(context.Background(), Inputs{Inputs: inputs})
		var dup []rules.Finding
		for _, f := range res.Findings {
			if f.Rule == "service-selects-nothing" || (f.Rule == "nodeport-range" && f.File != b) || slices.Contains(quiet, f.File) {
				t.Errorf("unexpected finding %s:%d: %s %s", f.File, f.Line, f.Rule, f.Message)
			}
			if f.Rule == "nodeport-range" {
				dup = append(dup, f)
			}
		}
		if len(dup) != 1 || dup[0].File != b || dup[0].Line != 9 || dup[0].Column != 16 || !strings.Contains(dup[0].Message, "already used by Service a ("+a+":9)") {
			t.Errorf("duplicate nodePort findings: %+v", dup)
		}
		if res.Summary.Files != wantFiles {
			t.Errorf("summary counts %d files, want %d", res.Summary.Files, wantFiles)
		}
	}
	check(named(a, b, d), 3)
	ctxA, ctxD := inputs.Input{Path: a, Context: true}, inputs.Input{Path: d, Context: true}
	check([]inputs.Input{ctxA, ctxD, {Path: b}}, 1, a, d)
}

// A kustomization that only lists files is read as those files, in
// parallel and never whole, and is still one render: its files' objects
// see each other and not the plain files', findings name it, it counts as
// one kustomization, and two objects of one build identity (which
// kustomize refuses to build) are reported.
func TestListedKustomizationIsItsOwnWorld(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, "list")
	svc := "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - {port: 80}\n"
	deploy := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n"
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"
	files := map[string]string{
		filepath.Join(list, "kustomization.yaml"): "resources: [svc.yaml, deploy.yaml, cm.yaml, cm-again.yaml]\n",
		filepath.Join(list, "svc.yaml"):           svc,
		filepath.Join(list, "deploy.yaml"):        deploy,
		filepath.Join(list, "cm.yaml"):            cm,
		filepath.Join(list, "cm-again.yaml"):      "# the same object again\n" + strings.Replace(cm, "name: settings", "name: settings\n  namespace: default", 1),
		filepath.Join(dir, "plain-svc.yaml"):      svc,
	}
	if err := os.MkdirAll(list, 0o755); err != nil {
		t.Fatal(err)
	}
	for f, body := range files {
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	inputs := inputs.Expand([]string{dir})
	var listed []string
	for _, in := range inputs {
		if in.Render == list {
			listed = append(listed, filepath.Base(in.Path))
		}
	}
	if strings.Join(listed, ",") != "svc.yaml,deploy.yaml,cm.yaml,cm-again.yaml" {
		t.Fatalf("inputs %+v", inputs)
	}
	res := newEngine(t, Options{}).RunInputs(context.Background(), Inputs{Inputs: inputs})
	var selectsNothing, dups []rules.Finding
	for _, f := range res.Findings {
		switch f.Rule {
		case "service-selects-nothing":
			selectsNothing = append(selectsNothing, f)
		case "render":
			dups = append(dups, f)
		}
		if strings.HasPrefix(f.File, list) && !slices.Equal(f.Renders, []string{list}) {
			t.Errorf("finding on a listed file without its render: %+v", f)
		}
	}
	if len(selectsNothing) != 1 || selectsNothing[0].File != filepath.Join(dir, "plain-svc.yaml") {
		t.Errorf("service-selects-nothing: %+v", selectsNothing)
	}
	want := "kustomization does not build: ConfigMap default/settings (v1) is also at " + filepath.Join(list, "cm.yaml") + ":1"
	if len(dups) != 1 || dups[0].File != filepath.Join(list, "cm-again.yaml") || dups[0].Line != 2 || dups[0].Column != 1 || !strings.HasPrefix(dups[0].Message, want) {
		t.Errorf("duplicate identity: %+v", dups)
	}
	if res.Summary.Kustomizations != 1 || res.Summary.Files != 1 {
		t.Errorf("summary: %+v", res.Summary)
	}
}

// The scheduler never has more than its bound of input bytes in flight,
// unless one input alone is larger, and hands out every input once.
func TestSchedulerBoundsBytesInFlight(t *testing.T) {
	sizes := []int64{6, 6, 9, 1, 1, 1, 2, 1, 6, 1}
	order := []int{2, 0, 1, 8, 3, 4, 5, 6, 7, 9}
	s := newScheduler(order, sizes, 8)
	var mu sync.Mutex
	var inFlight, worst int64
	seen := make([]int, len(sizes))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	s.run(func(i int) {
		mu.Lock()
		inFlight += sizes[i]
		if inFlight > worst && inFlight != sizes[i] {
			worst = inFlight
		}
		seen[i]++
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		inFlight -= sizes[i]
		mu.Unlock()
	})
	if worst > 8 {
		t.Errorf("%d bytes in flight, bound 8", worst)
	}
	for i, n := range seen {
		if n != 1 {
			t.Errorf("input %d checked %d times", i, n)
		}
	}
}

// A Namespace of the run with pod-security.kubernetes.io labels holds the
// pods in it to them, wherever in the run it is: a violation of the
// enforced level is an error, of the warn level a warning, and of a level
// it does not ask for nothing; other namespaces get the rules' defaults.
func TestPodSecurityFollowsNamespaceLabels(t *testing.T) {
	dir := t.TempDir()
	pod := func(ns string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: " + ns + "\nspec:\n  hostNetwork: true\n  containers:\n    - name: c\n      image: registry.example.com/c:1.0.0\n"
	}
	files := map[string]string{
		"namespaces.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: locked\n  labels:\n    pod-security.kubernetes.io/enforce: restricted\n---\n" +
			"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: system\n  labels:\n    pod-security.kubernetes.io/enforce: privileged\n    pod-security.kubernetes.io/warn: baseline\n---\n" +
			"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: plain\n",
		"locked.yaml": pod("locked"),
		"system.yaml": pod("system"),
		"plain.yaml":  pod("plain"),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e := newEngine(t, Options{Enable: []string{"pod-security-baseline", "pod-security-restricted"}, Disable: []string{"recommended-labels", "missing-liveness-probe", "missing-readiness-probe", "writable-root-filesystem", "missing-resource-requests", "missing-resource-limits"}})
	res := e.RunInputs(context.Background(), Inputs{Inputs: inputs.Expand([]string{dir})})
	got := map[string][]string{}
	for _, f := range res.Findings {
		if strings.HasPrefix(f.Rule, "pod-security") {
			got[filepath.Base(f.File)] = append(got[filepath.Base(f.File)], fmt.Sprintf("%s %s %d", f.Rule, f.Severity, f.Line))
		}
	}
	want := map[string][]string{
		// enforce: restricted: everything is an error.
		"locked.yaml": {"pod-security-baseline error 7", "pod-security-restricted error 9", "pod-security-restricted error 9", "pod-security-restricted error 9", "pod-security-restricted error 9"},
		// warn: baseline: the baseline violation warns, restricted is not asked for.
		"system.yaml": {"pod-security-baseline warning 7"},
		// no labels: the rules' severities.
		"plain.yaml": {"pod-security-baseline error 7", "pod-security-restricted warning 9", "pod-security-restricted warning 9", "pod-security-restricted warning 9", "pod-security-restricted warning 9"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("findings:\n%v\nwant:\n%v", got, want)
	}
	for _, f := range res.Findings {
		if f.Rule == "pod-security-baseline" && filepath.Base(f.File) == "system.yaml" && !strings.HasSuffix(f.Message, "(namespace system asks for warn: baseline)") {
			t.Errorf("message: %s", f.Message)
		}
	}
	if res.Summary.Errors != 6 || res.Summary.Warnings != 5 {
		t.Errorf("summary: %+v", res.Summary)
	}
}

// Only the Pod Security rules wait for the Namespaces: a policy whose ID
// merely starts like theirs is reported as any other, whatever the
// namespace's labels.
func TestOnlyPodSecurityRulesFollowNamespaceLabels(t *testing.T) {
	policies := t.TempDir()
	writeFile(t, policies, "p.rego", `# METADATA
# title: Pods are flagged
# description: Every Pod is flagged.
# custom:
#   id: pod-security-custom
#   severity: warning
package klint.pod_security_custom

deny contains {"msg": "flagged", "path": "metadata.name"} if {
	input.kind == "Pod"
}
`)
	dir := t.TempDir()
	writeFile(t, dir, "ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: open\n  labels:\n    pod-security.kubernetes.io/enforce: privileged\n")
	writeFile(t, dir, "pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: open\nspec:\n  containers:\n    - name: c\n      image: registry.example.com/c:1.0.0\n")
	e := newEngine(t, Options{PolicyDirs: []string{policies}})
	res := e.RunInputs(context.Background(), Inputs{Inputs: inputs.Expand([]string{dir})})
	if got := only(res, "pod-security-custom"); len(got) != 1 || got[0].Severity != rules.Warning || got[0].Line != 4 {
		t.Errorf("findings: %+v", got)
	}
}

// A conflict between a reported input and a context input is reported
// on the reported one, in whichever order the inputs come: context
// inputs are read first, and a cross-object rule reports the later of
// two objects.
func TestContextConflictIsReportedOnTheChangedSide(t *testing.T) {
	dir := t.TempDir()
	svc := func(name string) string {
		return "apiVersion: v1\nkind: Service\nmetadata: {name: " + name + "}\nspec:\n  type: NodePort\n  selector: {app: x}\n  ports: [{port: 80, nodePort: 30080}]\n"
	}
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	for f, body := range map[string]string{a: svc("a"), b: svc("b")} {
		if err := os.WriteFile(f, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e := newEngine(t, Options{})
	for _, c := range []struct {
		in      []inputs.Input
		changed string
	}{
		{[]inputs.Input{{Path: a}, {Path: b, Context: true}}, a},
		{[]inputs.Input{{Path: b, Context: true}, {Path: a}}, a},
		{[]inputs.Input{{Path: b}, {Path: a, Context: true}}, b},
	} {
		res := e.RunInputs(context.Background(), Inputs{Inputs: c.in})
		dup := only(res, "nodeport-range")
		if len(dup) != 1 || dup[0].File != c.changed || dup[0].Line != 7 || dup[0].Column != 22 || !strings.Contains(dup[0].Message, "nodePort 30080 is already used by Service") {
			t.Errorf("%s changed: %+v", c.changed, dup)
		}
	}
}
