package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// rejecting are klint's rules for what the API server refuses to create.
var rejecting = map[string]bool{"schema": true, "removed-api": true, "unreleased-api": true}

// objectKey names one object of one file.
type objectKey struct{ file, apiVersion, kind, namespace, name string }

// klintVerdicts runs klint on files (with flags) and returns, for each
// object a rejecting rule flags, the first such message; and, for each
// object, the API server's warnings klint says it would give (api-warning
// messages, and duplicate-env for the warning it covers), as
// warningTexts.
func klintVerdicts(t *testing.T, bin string, files []string, flags ...string) (map[objectKey]string, map[objectKey][]string) {
	t.Helper()
	out, warned := map[objectKey]string{}, map[objectKey][]string{}
	for len(files) > 0 {
		n := min(len(files), 400)
		args := append(append([]string{"--kube-version", "1.37"}, flags...), files[:n]...)
		files = files[n:]
		findings := lintJSON(t, bin, "", args...)
		for _, f := range findings {
			k := objectKey{f.File, f.Object.APIVersion, f.Object.Kind, f.Object.Namespace, f.Object.Name}
			switch {
			case f.Rule == "api-warning":
				warned[k] = append(warned[k], strings.TrimPrefix(f.Message, "the API server warns: "))
			case f.Rule == "duplicate-env":
				warned[k] = append(warned[k], "hides previous definition")
			}
			if !rejecting[f.Rule] {
				continue
			}
			if _, seen := out[k]; !seen {
				out[k] = f.Rule + ": " + f.Message
			}
		}
	}
	return out, warned
}

// warningTexts are the warnings of the API server's own strategies among
// those a create returned, without their field paths (klint says the
// path by the finding's position), sorted; the warnings of other parts
// of the server (deprecated API versions, Pod Security admission) are
// other rules' business.
func warningTexts(warnings []string) []string {
	var out []string
	for _, w := range warnings {
		if strings.Contains(w, " is deprecated in v") || strings.Contains(w, "would violate PodSecurity") || strings.HasPrefix(w, "unknown field") {
			continue
		}
		if path, text, ok := strings.Cut(w, ": "); ok && !strings.ContainsAny(path, " \t") {
			w = text
		}
		if strings.Contains(w, "hides previous definition") {
			w = "hides previous definition"
		}
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

// serverVerdict creates obj with server-side dry run and strict field
// validation: "" when the API server accepts it, its error when it
// rejects it, and custom true for a kind it does not serve that is not
// built in (a custom resource without its CRD).
func serverVerdict(c *cluster, dyn dynamic.Interface, mapper *restmapper.DeferredDiscoveryRESTMapper, served map[string]bool, obj *unstructured.Unstructured, ensureNS func(string)) (rejected string, custom bool) {
	gvk := obj.GroupVersionKind()
	m, err := mapper.RESTMapping(schema.GroupKind{Group: gvk.Group, Kind: gvk.Kind}, gvk.Version)
	if err != nil {
		if meta.IsNoMatchError(err) && !served[gvk.Group] && !removedGroups[gvk.Group] {
			return "", true
		}
		return err.Error(), false
	}
	opts := metav1.CreateOptions{FieldValidation: "Strict", DryRun: []string{metav1.DryRunAll}}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ns := obj.GetNamespace()
		if ns == "" {
			ns = "ci"
		}
		ensureNS(ns)
		_, err = dyn.Resource(m.Resource).Namespace(ns).Create(context.Background(), obj, opts)
	} else {
		_, err = dyn.Resource(m.Resource).Create(context.Background(), obj, opts)
	}
	if err == nil || apierrors.IsAlreadyExists(err) { // validated, then refused for its name (a default ClusterRole)
		return "", false
	}
	if sa, ok := missingServiceAccount(err); ok {
		// Admission refused it for the cluster's state: its ServiceAccount
		// does not exist here. Make it, as the manifest's repository
		// would, and ask again; a name no ServiceAccount can have is the
		// object's fault.
		ns, name, _ := strings.Cut(sa, "/")
		_, saErr := c.client.CoreV1().ServiceAccounts(ns).Create(context.Background(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		if saErr != nil && !apierrors.IsAlreadyExists(saErr) {
			return err.Error(), false
		}
		return serverVerdict(c, dyn, mapper, served, obj, ensureNS)
	}
	return err.Error(), false
}

var lookupSA = regexp.MustCompile(`error looking up service account ([^/: ]+/[^: ]+):`)

// missingServiceAccount is the namespace/name of the ServiceAccount that
// the ServiceAccount admission plugin did not find.
func missingServiceAccount(err error) (string, bool) {
	if !apierrors.IsForbidden(err) {
		return "", false
	}
	m := lookupSA.FindStringSubmatch(err.Error())
	if m == nil {
		return "", false
	}
	return m[1], true
}

// removedGroups are built-in API groups the server no longer serves at
// all: an object in one is a built-in the server rejects, not a custom
// resource.
var removedGroups = map[string]bool{"extensions": true, "settings.k8s.io": true, "auditregistration.k8s.io": true}

// servedGroups are the API groups the server serves (any version).
func servedGroups(t *testing.T, c *cluster) map[string]bool {
	groups, err := c.client.Discovery().ServerGroups()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{"": true}
	for _, g := range groups.Groups {
		out[g.Name] = true
	}
	return out
}

// agreementResult is what agreement found: counts, and the differences.
type agreementResult struct {
	rejected, caught, accepted, wronglyFlagged, custom int
	missed, flagged                                    []string
	cr                                                 *agreementResult
	// Of the objects the server accepts: how many it warns about, how
	// many of those klint's warnings match exactly, and the others.
	warned, warnedAlike int
	warningDiffs        []string
}

// agreement compares klint's verdict (klint run with flags) with the API
// server's on every object of files. It returns the differences, and
// counts. Objects of the groups in crGroups (those of CRDs registered on
// the server) are counted apart, in cr.
func agreement(t *testing.T, c *cluster, bin string, files []string, crGroups map[string]bool, flags ...string) agreementResult {
	t.Helper()
	dyn, mapper, warned := clients(t, c)
	namespaces := map[string]bool{}
	ensureNS := func(ns string) {
		if namespaces[ns] {
			return
		}
		namespaces[ns] = true
		_ = c.createNamespace(context.Background(), ns)
	}
	served := servedGroups(t, c)
	klint, klintWarned := klintVerdicts(t, bin, files, flags...)
	r := agreementResult{cr: &agreementResult{}}
	for _, f := range files {
		for _, obj := range readObjects(f) {
			if obj.GetAPIVersion() == "" || obj.GetKind() == "" || strings.HasSuffix(obj.GetKind(), "List") {
				continue
			}
			*warned = nil
			server, custom := serverVerdict(c, dyn, mapper, served, obj, ensureNS)
			if custom {
				r.custom++
				continue
			}
			k := objectKey{f, obj.GetAPIVersion(), obj.GetKind(), obj.GetNamespace(), obj.GetName()}
			name := f + " " + obj.GetKind() + " " + obj.GetName()
			ours, flagged := klint[k]
			into := &r
			if crGroups[obj.GroupVersionKind().Group] {
				into = r.cr
			}
			switch {
			case server != "":
				into.rejected++
				if flagged {
					into.caught++
				} else {
					into.missed = append(into.missed, name+": "+firstLine(server))
				}
			default:
				into.accepted++
				if flagged {
					into.wronglyFlagged++
					into.flagged = append(into.flagged, name+": "+ours)
				}
				theirs, mine := warningTexts(*warned), slices.Sorted(slices.Values(klintWarned[k]))
				if len(theirs) > 0 {
					into.warned++
				}
				switch {
				case slices.Equal(theirs, mine):
					if len(theirs) > 0 {
						into.warnedAlike++
					}
				default:
					into.warningDiffs = append(into.warningDiffs, fmt.Sprintf("%s: the server warns %q, klint %q", name, theirs, mine))
				}
			}
		}
	}
	for _, x := range []*agreementResult{&r, r.cr} {
		sort.Strings(x.missed)
		sort.Strings(x.flagged)
		sort.Strings(x.warningDiffs)
	}
	return r
}

// readObjects reads the YAML documents of a file as objects; a document
// that does not parse is left out (klint reports it as yaml-syntax).
func readObjects(path string) []*unstructured.Unstructured {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			break
		}
		if m == nil {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
	return out
}

// plainManifests lists the YAML files under root that klint reads as plain
// manifests: none under a chart or a kustomization, which klint renders.
func plainManifests(root string) []string {
	var out []string
	rendered := func(dir string) bool {
		for d := dir; strings.HasPrefix(d, root); d = filepath.Dir(d) {
			for _, n := range []string{"Chart.yaml", "kustomization.yaml", "kustomization.yml", "Kustomization"} {
				if _, err := os.Stat(filepath.Join(d, n)); err == nil {
					return true
				}
			}
			if d == root {
				break
			}
		}
		return false
	}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if ext := filepath.Ext(p); ext != ".yaml" && ext != ".yml" {
			return nil
		}
		if !rendered(filepath.Dir(p)) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// clients are a dynamic client whose warnings are kept in *warned (set it
// to nil before a request), and a RESTMapper from the server's discovery.
func clients(t *testing.T, c *cluster) (dynamic.Interface, *restmapper.DeferredDiscoveryRESTMapper, *[]string) {
	t.Helper()
	warned := new([]string)
	cfg := rest.CopyConfig(c.config)
	cfg.WarningHandler = warningFunc(func(msg string) { *warned = append(*warned, msg) })
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return dyn, restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(c.client.Discovery())), warned
}

// finding is what the e2e tests read of a klint JSON finding.
type finding struct {
	Rule, Severity, Message, File string
	Object                        struct{ APIVersion, Kind, Namespace, Name string }
}

// lintJSON runs klint -o json with args in dir ("" for the test's) and
// returns its findings; exit 1 (findings) is not a failure.
func lintJSON(t *testing.T, bin, dir string, args ...string) []finding {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "klint"), append([]string{"-o", "json"}, args...)...)
	cmd.Dir = dir
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, io.Discard
	_ = cmd.Run()
	var r struct{ Findings []finding }
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("klint %v: %v\n%s", args, err, stdout.String())
	}
	return r.Findings
}
