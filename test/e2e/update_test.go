package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"
)

// updateKey names an object across its two versions (the fixtures'
// objects are all in the default namespace, or cluster-scoped).
type updateKey struct{ kind, name string }

// updates compares klint --base with the API server on the update
// fixtures (testdata/update/<case>/{old,new}.yaml): the old
// objects are applied (server-side apply, one field manager, as a
// pipeline applies each revision), then the new ones with server-side
// dry run. klint runs on a git repository whose commit holds the old
// manifests and whose working tree the new ones, with --base HEAD: it must
// reject (schema, immutable-field) exactly the objects the server
// rejects.
func updates(t *testing.T, c *cluster, bin string) {
	cases, _ := filepath.Glob(filepath.Join(repoRoot, "testdata/update/*"))
	dyn, err := dynamic.NewForConfig(c.config)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(c.client.Discovery()))
	ctx := context.Background()
	apply := func(obj *unstructured.Unstructured, dryRun bool) (updateKey, error) {
		gvk := obj.GroupVersionKind()
		m, err := mapper.RESTMapping(schema.GroupKind{Group: gvk.Group, Kind: gvk.Kind}, gvk.Version)
		if err != nil {
			return updateKey{}, err
		}
		opts := metav1.ApplyOptions{FieldManager: "klint-e2e", Force: true}
		if dryRun {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		k := updateKey{gvk.Kind, obj.GetName()}
		res := dyn.Resource(m.Resource)
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			_, err = res.Namespace("default").Apply(ctx, obj.GetName(), obj, opts)
		} else {
			_, err = res.Apply(ctx, obj.GetName(), obj, opts)
		}
		return k, err
	}
	// No controller manager runs: the default ServiceAccount a Pod is
	// given is made here, as a cluster has it.
	if _, err := c.client.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	repo := t.TempDir()
	for _, cs := range cases {
		data, _ := os.ReadFile(filepath.Join(cs, "old.yaml"))
		os.WriteFile(filepath.Join(repo, filepath.Base(cs)+".yaml"), data, 0o644)
		for _, obj := range readObjects(filepath.Join(cs, "old.yaml")) {
			if _, err := apply(obj, false); err != nil {
				t.Fatalf("%s: creating the old version: %v", cs, err)
			}
			if obj.GetKind() == "CustomResourceDefinition" {
				waitEstablished(t, dyn, obj.GetName())
				mapper.Reset()
			}
		}
	}
	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-qm", "old")
	git("gc", "-q") // klint reads packed objects, as in a clone
	server := map[updateKey]string{}
	for _, cs := range cases {
		data, _ := os.ReadFile(filepath.Join(cs, "new.yaml"))
		os.WriteFile(filepath.Join(repo, filepath.Base(cs)+".yaml"), data, 0o644)
		for _, obj := range readObjects(filepath.Join(cs, "new.yaml")) {
			k, err := apply(obj, true)
			server[k] = ""
			if err != nil {
				server[k] = err.Error()
			}
		}
	}
	findings := lintJSON(t, bin, repo, "--base", "HEAD", "--kube-version", "1.37", ".")
	klint := map[updateKey]string{}
	for _, f := range findings {
		if f.Rule != "schema" && f.Rule != "immutable-field" {
			continue
		}
		k := updateKey{f.Object.Kind, f.Object.Name}
		if _, seen := klint[k]; !seen {
			klint[k] = f.Rule + ": " + f.Message
		}
	}
	rejected := 0
	for k, verdict := range server {
		ours, flagged := klint[k]
		switch {
		case verdict != "" && !flagged:
			t.Errorf("%v: the API server rejects the update, klint --base accepts it: %s", k, firstLine(verdict))
		case verdict == "" && flagged:
			t.Errorf("%v: the API server accepts the update, klint --base rejects it: %s", k, ours)
		}
		if verdict != "" {
			rejected++
		}
	}
	if rejected < 8 {
		t.Errorf("the API server rejected %d updates of the fixtures; they hold more", rejected)
	}
	t.Logf("update fixtures: %d objects applied over their old version, %d rejected by the API server; klint --base gives the same verdict on each unless an error above says otherwise", len(server), rejected)
	readmeQuotes(t, fmt.Sprintf("applies %d update fixtures over their old versions", len(server)))
	readmeQuotes(t, fmt.Sprintf("klint agrees on all (%d rejected)", rejected))
}
