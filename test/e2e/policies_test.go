package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// admissionPolicies compares klint's offline judgement by a cluster's
// ValidatingAdmissionPolicies with the API server's: the fixture's
// policies, bindings, params and Namespaces are created, then each object
// is created with server-side dry run. An object the server denies must be
// an admission-policy error of klint's, one it warns about a warning, and
// one it lets through clean (Audit is not the client's to see). With
// remove, the fixture's policies and bindings are deleted at the end.
func admissionPolicies(t *testing.T, c *cluster, bin, fixture string, remove bool) {
	dir := filepath.Join(repoRoot, fixture)
	dyn, mapper, warns := clients(t, c)
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
	installed := readObjects(filepath.Join(dir, "policies.yaml"))
	for _, obj := range installed {
		if err := create(obj, false); err != nil {
			t.Fatalf("creating %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
	}
	if remove {
		defer func() {
			for _, obj := range installed {
				if strings.HasSuffix(obj.GetKind(), "AdmissionPolicy") || strings.HasSuffix(obj.GetKind(), "AdmissionPolicyBinding") {
					gvk := obj.GroupVersionKind()
					if m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version); err == nil {
						_ = dyn.Resource(m.Resource).Delete(ctx, obj.GetName(), metav1.DeleteOptions{})
					}
				}
			}
		}()
	}
	objects := readObjects(filepath.Join(dir, "objects.yaml"))
	// The API server enforces a policy once its informers have it: the
	// objects are asked for until one is denied.
	waitFor(t, "the policies enforced", func() bool {
		return slices.ContainsFunc(objects, func(o *unstructured.Unstructured) bool { return create(o, true) != nil })
	})
	verdicts := func() map[string]string {
		server := map[string]string{}
		for _, obj := range objects {
			*warns = nil
			err := create(obj, true)
			switch {
			case err != nil:
				server[obj.GetName()] = "error"
			case len(*warns) > 0:
				server[obj.GetName()] = "warning"
			default:
				server[obj.GetName()] = ""
			}
		}
		return server
	}
	// Each policy takes effect when the server's informers have it: the
	// verdicts are read until two passes a second apart agree.
	server := untilStable(verdicts, nil)
	findings := lintJSON(t, bin, "", "--kube-version", "1.37", dir)
	klint := map[string]string{}
	for _, f := range findings {
		if f.Rule == "admission-policy" && f.Severity != "info" && klint[f.Object.Name] != "error" {
			klint[f.Object.Name] = f.Severity
		}
	}
	denied, warned := 0, 0
	for name, verdict := range server {
		if klint[name] != verdict {
			t.Errorf("%s: the API server says %q, klint %q", name, verdict, klint[name])
		}
		denied += strings.Count(verdict, "error")
		warned += strings.Count(verdict, "warning")
	}
	if denied == 0 || warned == 0 {
		t.Errorf("the fixtures no longer exercise a denial and a warning: %v", server)
	}
	t.Logf("admission policies of %s: %d objects; the API server denies %d and warns about %d; klint the same on each unless an error above says otherwise", fixture, len(server), denied, warned)
}

// compiledPolicies installs what klint admission-policies writes on the
// API server and creates every fixture object the server accepts without
// them again, with server-side dry run: the server denies exactly the
// objects the CLI gives an error finding of a compiled rule, and warns
// with the policy's name about exactly those it gives a warning of one;
// then the policies are removed.
func compiledPolicies(t *testing.T, c *cluster, bin string) {
	// The rules said in CEL that are off by default are turned on, for
	// the policies and for the CLI alike.
	config, generated := writePolicies(t, bin, "rules:\n  image-pull-policy: {enabled: true}\n  privileged-port: {enabled: true}\n  writable-host-mount: {enabled: true}\n  default-service-account: {enabled: true}\n  run-as-high-uid: {enabled: true}\n  dnsconfig-ndots: {enabled: true}\n  service-type: {enabled: true}\n")
	rulesOf := map[string]bool{}
	for _, obj := range readObjects(generated) {
		if obj.GetKind() == "ValidatingAdmissionPolicy" {
			rulesOf[strings.TrimPrefix(obj.GetName(), "klint-")] = true
		}
	}
	dyn, mapper, warns := clients(t, c)
	namespaces := map[string]bool{}
	ensureNS := func(ns string) {
		if !namespaces[ns] {
			namespaces[ns] = true
			_ = c.createNamespace(context.Background(), ns)
		}
	}
	served := servedGroups(t, c)
	files := plainManifests(filepath.Join(repoRoot, "testdata/manifests"))
	type candidate struct {
		obj  *unstructured.Unstructured
		file string
	}
	var accepted []candidate
	for _, f := range files {
		for _, obj := range readObjects(f) {
			if obj.GetKind() == "" || obj.GetNamespace() == "kube-system" {
				continue
			}
			if rejected, custom := serverVerdict(c, dyn, mapper, served, obj, ensureNS); rejected == "" && !custom {
				accepted = append(accepted, candidate{obj, f})
			}
		}
	}
	ctx := context.Background()
	probe := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Pod",
		"metadata": map[string]any{"name": "probe", "namespace": "ci"},
		"spec":     map[string]any{"containers": []any{map[string]any{"name": "c", "image": "nginx:latest"}}}}}
	var created []*unstructured.Unstructured
	for _, obj := range readObjects(generated) {
		gvr := schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicies"}
		if obj.GetKind() == "ValidatingAdmissionPolicyBinding" {
			gvr.Resource = "validatingadmissionpolicybindings"
		}
		if _, err := dyn.Resource(gvr).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			t.Fatalf("the API server refuses klint's %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
		created = append(created, obj)
	}
	defer func() {
		for _, obj := range created {
			gvr := schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingadmissionpolicies"}
			if obj.GetKind() == "ValidatingAdmissionPolicyBinding" {
				gvr.Resource = "validatingadmissionpolicybindings"
			}
			_ = dyn.Resource(gvr).Delete(ctx, obj.GetName(), metav1.DeleteOptions{})
		}
		// The tests after this one expect the webhook's verdicts alone.
		waitFor(t, "klint's policies removed", func() bool {
			rejected, _ := serverVerdict(c, dyn, mapper, served, probe, ensureNS)
			return !strings.Contains(rejected, "klint-image-latest-tag")
		})
	}()
	// Enforced once the server's informers have them: a Pod on latest
	// is asked for until it is denied.
	// Enforced once the server's informers have them: a Pod on latest
	// is asked for until it is denied.
	waitFor(t, "klint's policies enforced", func() bool {
		rejected, _ := serverVerdict(c, dyn, mapper, served, probe, ensureNS)
		return strings.Contains(rejected, "klint-image-latest-tag")
	})
	// klint's verdicts, with each file linted alone (as the server sees
	// each object alone).
	cli := map[string]map[string]string{} // file → "Kind ns/name" → rule → severity, flattened
	verdictOf := func(file string) map[string]string {
		if v, ok := cli[file]; ok {
			return v
		}
		findings := lintJSON(t, bin, "", "--kube-version", "1.37", "--config", config, file)
		v := map[string]string{}
		for _, f := range findings {
			if rulesOf[f.Rule] {
				// The webhook, and so the policies' bindings, deny at
				// error and warn below it.
				action := "warning"
				if f.Severity == "error" {
					action = "error"
				}
				v[f.Object.Kind+" "+f.Object.Namespace+"/"+f.Object.Name+" "+f.Rule] = action
			}
		}
		cli[file] = v
		return v
	}
	// The server's verdict on each object and compiled rule; read until
	// two passes a second apart agree (each policy takes effect when the
	// server's informers have it).
	pass := func() map[string]string {
		v := map[string]string{}
		for i, cand := range accepted {
			*warns = nil
			rejected, _ := serverVerdict(c, dyn, mapper, served, cand.obj, ensureNS)
			for rule := range rulesOf {
				switch {
				case strings.Contains(rejected, "'klint-"+rule+"'"):
					v[fmt.Sprint(i)+" "+rule] = "error"
				case slices.ContainsFunc(*warns, func(w string) bool { return strings.Contains(w, "'klint-"+rule+"'") }):
					v[fmt.Sprint(i)+" "+rule] = "warning"
				}
			}
		}
		return v
	}
	serverSays := untilStable(pass, nil)
	compared, denied, warned := 0, 0, 0
	for i, cand := range accepted {
		ours := verdictOf(cand.file)
		for rule := range rulesOf {
			server := serverSays[fmt.Sprint(i)+" "+rule]
			switch server {
			case "error":
				denied++
			case "warning":
				warned++
			}
			if got := ours[cand.obj.GetKind()+" "+cand.obj.GetNamespace()+"/"+cand.obj.GetName()+" "+rule]; got != server {
				t.Errorf("%s %s %s, rule %s: the API server with klint's policies says %q, klint %q", cand.file, cand.obj.GetKind(), cand.obj.GetName(), rule, server, got)
			}
			compared++
		}
	}
	if denied == 0 || warned == 0 {
		t.Errorf("no denial (%d) or no warning (%d) from klint's policies", denied, warned)
	}
	t.Logf("klint's %d compiled policies on the real API server: %d fixture objects it accepts without them, %d verdicts compared, %d denials and %d warnings, each the CLI's", len(rulesOf), len(accepted), compared, denied, warned)
	readmeQuotes(t, fmt.Sprintf("%s verdicts, each the CLI's", thousands(compared)))
}

var tokenVolume = regexp.MustCompile(`kube-api-access-[a-z0-9]{5}`)

// compiledFixes installs the MutatingAdmissionPolicies klint
// admission-policies writes for the fixes of admission.mutate, and
// creates every object of those rules' fixtures with server-side dry
// run: what the API server stores is what it stores for the object as
// the mutating webhook (klint review --mutate) patches it, without the
// policies.
func compiledFixes(t *testing.T, c *cluster, bin string) {
	config, generated := writePolicies(t, bin, "admission:\n  mutate: [image-pull-policy, workload-selector-mismatch]\nrules:\n  image-pull-policy: {enabled: true}\n")
	dir := filepath.Dir(config)
	dyn, mapper, _ := clients(t, c)
	ctx := context.Background()
	// stored is what the server would store for obj (dry run), without
	// the fields that differ from one create to the next.
	stored := func(obj *unstructured.Unstructured) (string, error) {
		gvk := obj.GroupVersionKind()
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return "", err
		}
		var got *unstructured.Unstructured
		opts := metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			got, err = dyn.Resource(m.Resource).Namespace("ci").Create(ctx, obj, opts)
		} else {
			got, err = dyn.Resource(m.Resource).Create(ctx, obj, opts)
		}
		if err != nil {
			return "", err
		}
		uid := string(got.GetUID())
		for _, f := range [][]string{{"metadata", "uid"}, {"metadata", "creationTimestamp"}, {"metadata", "managedFields"}, {"metadata", "generation"}, {"metadata", "resourceVersion"}, {"metadata", "namespace"}} {
			unstructured.RemoveNestedField(got.Object, f...)
		}
		data, _ := json.Marshal(got.Object)
		// A Job's generated selector and labels carry its UID; a Pod's
		// token volume has a random suffix.
		return tokenVolume.ReplaceAllString(strings.ReplaceAll(string(data), uid, "UID"), "kube-api-access-X"), nil
	}
	type pair struct {
		name string
		obj  *unstructured.Unstructured
		// webhookMade is what the server stores for the webhook's
		// patch; plain what it stores for the object as written.
		webhookMade, plain string
	}
	var pairs []pair
	for _, rule := range []string{"image-pull-policy", "workload-selector-mismatch"} {
		files, _ := filepath.Glob(filepath.Join(repoRoot, "testdata/manifests", rule, "*.yaml"))
		for _, f := range files {
			for i, obj := range readObjects(f) {
				obj.SetNamespace("")
				raw, _ := json.Marshal(obj.Object)
				gvk := obj.GroupVersionKind()
				review, _ := json.Marshal(map[string]any{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": map[string]any{
					"uid": "1", "kind": map[string]any{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind},
					"namespace": "ci", "operation": "CREATE", "object": json.RawMessage(raw)}})
				reviewFile := filepath.Join(dir, fmt.Sprintf("review-%s-%d.json", rule, i))
				os.WriteFile(reviewFile, review, 0o644)
				answer, _ := exec.Command(filepath.Join(bin, "klint"), "review", "--mutate", "--config", config, reviewFile).Output()
				var r struct{ Response struct{ Patch []byte } }
				if err := json.Unmarshal(answer, &r); err != nil {
					t.Fatalf("klint review --mutate: %v\n%s", err, answer)
				}
				mutated := raw
				if len(r.Response.Patch) > 0 {
					p, err := jsonpatch.DecodePatch(r.Response.Patch)
					if err != nil {
						t.Fatal(err)
					}
					if mutated, err = p.Apply(raw); err != nil {
						t.Fatal(err)
					}
				}
				webhookObj := &unstructured.Unstructured{}
				webhookObj.UnmarshalJSON(mutated)
				made, err := stored(webhookObj)
				if err != nil {
					continue // the API server refuses it, patched or not
				}
				plain, _ := stored(obj)
				pairs = append(pairs, pair{filepath.Base(f) + " " + obj.GetKind() + " " + obj.GetName(), obj, made, plain})
			}
		}
	}
	var created []*unstructured.Unstructured
	for _, obj := range readObjects(generated) {
		if !strings.HasPrefix(obj.GetKind(), "Mutating") {
			continue
		}
		gvr := schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: map[string]string{"MutatingAdmissionPolicy": "mutatingadmissionpolicies", "MutatingAdmissionPolicyBinding": "mutatingadmissionpolicybindings"}[obj.GetKind()]}
		if _, err := dyn.Resource(gvr).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			t.Fatalf("the API server refuses klint's %s %s: %v", obj.GetKind(), obj.GetName(), err)
		}
		created = append(created, obj)
	}
	defer func() {
		for _, obj := range created {
			gvr := schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: map[string]string{"MutatingAdmissionPolicy": "mutatingadmissionpolicies", "MutatingAdmissionPolicyBinding": "mutatingadmissionpolicybindings"}[obj.GetKind()]}
			_ = dyn.Resource(gvr).Delete(ctx, obj.GetName(), metav1.DeleteOptions{})
		}
	}()
	pass := func() map[string]string {
		got := map[string]string{}
		for _, p := range pairs {
			got[p.name], _ = stored(p.obj)
		}
		return got
	}
	// Until the policies take effect: two passes a second apart agree,
	// and an object the webhook changes is changed.
	serverMade := untilStable(pass, func(got map[string]string) bool {
		return slices.ContainsFunc(pairs, func(p pair) bool { return p.plain != p.webhookMade && got[p.name] == p.webhookMade })
	})
	changed := 0
	for _, p := range pairs {
		if serverMade[p.name] != p.webhookMade {
			t.Errorf("%s: with klint's mutating policies the API server stores\n%s\nfor the webhook's patch it stores\n%s", p.name, serverMade[p.name], p.webhookMade)
		}
		if p.plain != p.webhookMade {
			changed++
		}
	}
	if changed == 0 {
		t.Error("no fixture object is changed by a fix")
	}
	t.Logf("klint's %d mutating policies on the real API server: %d fixture objects (%d changed by a fix) stored as the webhook patches them", len(created)/2, len(pairs), changed)
}

// untilStable reads the server's verdicts (pass) until two passes a
// second apart agree and, when ready is set, it says they are ready, for
// at most a minute: a policy takes effect when the server's informers
// have it.
func untilStable(pass func() map[string]string, ready func(map[string]string) bool) map[string]string {
	got := pass()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		time.Sleep(time.Second)
		again := pass()
		if maps.Equal(again, got) && (ready == nil || ready(again)) {
			return again
		}
		got = again
	}
	return got
}

// writePolicies writes a klint config and what klint admission-policies
// writes with it, in a temporary directory.
func writePolicies(t *testing.T, bin, conf string) (config, generated string) {
	dir := t.TempDir()
	config, generated = filepath.Join(dir, "klint.yaml"), filepath.Join(dir, "policies.yaml")
	if err := os.WriteFile(config, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(bin, "klint"), "admission-policies", "--config", config).Output()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(generated, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return config, generated
}
