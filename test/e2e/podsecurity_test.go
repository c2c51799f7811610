package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// podBearing are the kinds the Pod Security admission plugin judges: a
// Pod is refused in an enforcing namespace, a workload's template gets a
// warning.
var podBearing = map[string]bool{"Pod": true, "Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true,
	"Job": true, "CronJob": true, "ReplicationController": true, "PodTemplate": true}

// podSecurity creates every pod-bearing object of the fixtures, alone, in
// a namespace that enforces baseline and in one that enforces restricted
// (server-side dry run): the API server admits a Pod (or gives a workload
// no Pod Security warning) exactly when klint, on that object alone, has
// no pod-security finding of that level or a stricter one's base.
func podSecurity(t *testing.T, c *cluster, bin string) {
	ctx := context.Background()
	for _, level := range []string{"baseline", "restricted"} {
		ns := "pss-" + level
		if err := c.createNamespace(ctx, ns); err != nil {
			t.Fatal(err)
		}
		n, err := c.client.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n.Labels = map[string]string{"pod-security.kubernetes.io/enforce": level, "pod-security.kubernetes.io/enforce-version": "latest"}
		if _, err := c.client.CoreV1().Namespaces().Update(ctx, n, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var warnings []string
	cfg := rest.CopyConfig(c.config)
	cfg.WarningHandler = warningFunc(func(msg string) { mu.Lock(); warnings = append(warnings, msg); mu.Unlock() })
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(c.client.Discovery()))

	var files []string
	_ = filepath.WalkDir(filepath.Join(repoRoot, "testdata/manifests"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".yaml" && !strings.Contains(p, "/loader/") {
			files = append(files, p)
		}
		return nil
	})
	dir := t.TempDir()
	checked, refused := 0, map[string]int{}
	for _, f := range files {
		for i, obj := range readObjects(f) {
			if !podBearing[obj.GetKind()] {
				continue
			}
			flagged := klintPodSecurity(t, bin, dir, obj)
			for _, level := range []string{"baseline", "restricted"} {
				o := obj.DeepCopy()
				o.SetNamespace("pss-" + level)
				gvk := o.GroupVersionKind()
				m, err := mapper.RESTMapping(schema.GroupKind{Group: gvk.Group, Kind: gvk.Kind}, gvk.Version)
				if err != nil {
					continue // a removed apiVersion: the schema fixtures' business
				}
				mu.Lock()
				warnings = nil
				mu.Unlock()
				_, err = dyn.Resource(m.Resource).Namespace(o.GetNamespace()).Create(ctx, o, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
				var server bool
				switch {
				case err != nil && strings.Contains(err.Error(), "violates PodSecurity"):
					server = true
				case err != nil:
					continue // refused for something else: not a Pod Security verdict
				default:
					mu.Lock()
					for _, w := range warnings {
						server = server || strings.Contains(w, "would violate PodSecurity")
					}
					mu.Unlock()
				}
				ours := flagged["pod-security-baseline"] || level == "restricted" && flagged["pod-security-restricted"]
				name := filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f) + "#" + strconv.Itoa(i) + " " + obj.GetKind() + " " + obj.GetName()
				if server != ours {
					t.Errorf("%s in a %s namespace: the API server refuses or warns: %v; klint flags: %v (%v)", name, level, server, ours, err)
				}
				checked++
				if server {
					refused[level]++
				}
			}
		}
	}
	if checked < 40 || refused["baseline"] == 0 || refused["restricted"] <= refused["baseline"] {
		t.Errorf("only %d verdicts, %v refused", checked, refused)
	}
	t.Logf("pod security: %d verdicts (objects × levels), refused or warned: %d at baseline, %d at restricted; klint agrees on every one", checked, refused["baseline"], refused["restricted"])
	readmeQuotes(t, fmt.Sprintf("at that level (%s verdicts)", thousands(checked)))
}

// klintPodSecurity lints the object alone (a Namespace of its file would
// set its level) with both Pod Security rules on, and returns the rules
// that flag it.
func klintPodSecurity(t *testing.T, bin, dir string, obj *unstructured.Unstructured) map[string]bool {
	t.Helper()
	data, _ := json.Marshal(obj.Object)
	path := filepath.Join(dir, "object.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(bin, "klint"), "-o", "json", "--enable", "pod-security-baseline,pod-security-restricted", path)
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, io.Discard
	_ = cmd.Run()
	var r struct{ Findings []struct{ Rule string } }
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("klint output: %v\n%s", err, stdout.String())
	}
	out := map[string]bool{}
	for _, f := range r.Findings {
		out[f.Rule] = true
	}
	return out
}
