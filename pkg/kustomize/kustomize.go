// Package kustomize builds kustomizations in-process with kustomize's own
// library (krusty), with kustomize's default load restrictions, and maps
// every field of the built objects back to the file a person edits: the
// base resource that holds it, the patch that set it, or the line of the
// kustomization that asked a transformer for it. It is the only package
// that imports sigs.k8s.io/kustomize.
//
// klint works offline: kustomize fetches remote resources over HTTP and
// remote bases with git, so the first build in a process replaces the
// default HTTP transport with one that refuses every request and allows git
// only local repositories (GIT_ALLOW_PROTOCOL=file). A remote entry is a
// render finding at its line, and nothing is fetched.
//
// Each build is kustomize's own: klint only asks it to keep its origin
// annotations (which file each resource came from), reads them, and takes
// them off again, so the objects linted are those `kustomize build` prints.
package kustomize

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/klint-dev/klint/pkg/manifest"
	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	syaml "sigs.k8s.io/yaml"
)

// Render builds the kustomization in dir. Its objects carry positions in
// the files a person edits; a kustomization that does not build is one
// problem at the line of the entry kustomize names, if it names one.
func Render(dir string) ([]*manifest.Object, []manifest.Problem) {
	offline.Do(goOffline)
	dir = filepath.Clean(dir)
	kfile := manifest.KustomizationFile(dir)
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	if objs, ok := listOnly(dir); ok {
		return objs, nil
	}
	fs := originFS{FileSystem: filesys.MakeFsOnDisk(), root: abs}
	deprecated := deprecatedFields(dir, dir, map[string]bool{})
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, abs)
	if err != nil {
		msg := err.Error()
		if cwd, err := os.Getwd(); err == nil {
			msg = strings.ReplaceAll(msg, cwd+string(filepath.Separator), "")
		}
		probs := []manifest.Problem{{Kind: manifest.RenderFailed, File: kfile, Pos: entryPos(kfile, msg),
			Message: "kustomization does not build: " + msg, Render: dir}}
		objs, more := ownResources(dir)
		return objs, append(append(probs, more...), deprecated...)
	}
	idx := newSourceIndex(dir, kfile)
	var objs []*manifest.Object
	var probs []manifest.Problem
	for i, res := range m.Resources() {
		origin, _ := res.GetOrigin()
		stripBuildAnnotations(res)
		data, err := res.AsYAML()
		if err != nil {
			probs = append(probs, manifest.Problem{Kind: manifest.RenderFailed, File: kfile, Pos: manifest.Position{Line: 1, Column: 1},
				Message: "built object cannot be written as YAML: " + err.Error(), Render: dir})
			continue
		}
		name := fmt.Sprintf("%s#%d", kfile, i)
		os, ps := manifest.Parse(name, data)
		for _, o := range os {
			o.InRender(dir)
			o.Mapper = idx.mapper(o, origin)
		}
		for _, p := range ps {
			p.File, p.Pos, p.Render = kfile, manifest.Position{Line: 1, Column: 1}, dir
			probs = append(probs, p)
		}
		objs = append(objs, os...)
	}
	return objs, append(probs, deprecated...)
}

var offline sync.Once

// goOffline makes this process unable to fetch what kustomize would fetch.
func goOffline() {
	http.DefaultTransport = offlineTransport{}
	os.Setenv("GIT_ALLOW_PROTOCOL", "file")
}

type offlineTransport struct{}

func (offlineTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("klint works offline and does not fetch %s: vendor the resource into the repository", r.URL)
}

// ownResources reads the resource files of a kustomization that does not
// build as plain manifests, so that nothing it holds goes unlinted.
func ownResources(dir string) ([]*manifest.Object, []manifest.Problem) {
	k, err := manifest.ReadKustomization(dir)
	if err != nil {
		return nil, nil
	}
	var objs []*manifest.Object
	var probs []manifest.Problem
	for _, r := range append(append([]string{}, k.Resources...), k.Bases...) {
		p := filepath.Join(dir, r)
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		o, pr := manifest.Parse(filepath.Clean(p), data)
		for _, x := range o {
			x.InRender(dir)
		}
		for i := range pr {
			pr[i].Render = dir
		}
		objs = append(objs, o...)
		probs = append(probs, pr...)
	}
	return objs, probs
}

// listOnly builds a kustomization that is only a list of resource files
// (no transformer, generator, patch or base: apiVersion, kind and
// resources naming regular files under dir) without kustomize: such a
// build is its files' objects unchanged, so klint reads the files
// themselves, at their own lines, for a fraction of the cost (kustomize's
// build of kube-prometheus's 5.7 MB list takes 3 s; reading it, 0.3 s).
// Anything kustomize might judge differently is left to kustomize (ok is
// false): a file that does not parse cleanly or holds no object, an object
// without a name, two objects with one identity, a file listed twice, a
// file outside dir.
func listOnly(dir string) (objs []*manifest.Object, ok bool) {
	files, ok := manifest.ListedFiles(dir)
	if !ok {
		return nil, false
	}
	ids := map[string]bool{}
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, false
		}
		fileObjs, probs := manifest.Parse(p, b)
		if len(probs) > 0 || len(fileObjs) == 0 {
			return nil, false
		}
		for _, o := range fileObjs {
			id := manifest.BuildIdentity(o)
			if o.Name == "" || ids[id] {
				return nil, false
			}
			ids[id] = true
			o.InRender(dir)
		}
		objs = append(objs, fileObjs...)
	}
	return objs, true
}

// originFS is the disk, except that the kustomization being built asks
// kustomize to keep its origin annotations, which say the file each
// resource came from.
type originFS struct {
	filesys.FileSystem
	root string
}

func (f originFS) ReadFile(p string) ([]byte, error) {
	b, err := f.FileSystem.ReadFile(p)
	if err != nil || filepath.Dir(p) != f.root || !isKustomizationName(filepath.Base(p)) {
		return b, err
	}
	var k map[string]any
	if syaml.Unmarshal(b, &k) != nil || k == nil {
		return b, nil // kustomize reports the error itself
	}
	bm, _ := k["buildMetadata"].([]any)
	for _, v := range bm {
		if v == "originAnnotations" {
			return b, nil
		}
	}
	k["buildMetadata"] = append(bm, "originAnnotations")
	return syaml.Marshal(k)
}

func isKustomizationName(n string) bool {
	for _, k := range manifest.KustomizationFileNames {
		if n == k {
			return true
		}
	}
	return false
}

const originAnnotation = "config.kubernetes.io/origin"

// stripBuildAnnotations takes off the origin annotation klint asked for,
// leaving the object as kustomize build prints it.
func stripBuildAnnotations(res *resource.Resource) {
	ann := res.GetAnnotations()
	if _, ok := ann[originAnnotation]; !ok {
		return
	}
	delete(ann, originAnnotation)
	_ = res.SetAnnotations(ann)
}

// entryPos finds the line of the kustomization entry an error names.
func entryPos(kfile, msg string) manifest.Position {
	data, err := os.ReadFile(kfile)
	if err != nil {
		return manifest.Position{Line: 1, Column: 1}
	}
	var root yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root.Content) == 0 {
		return manifest.Position{Line: 1, Column: 1}
	}
	best := manifest.Position{Line: 1, Column: 1}
	bestLen := 0
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode && len(n.Value) > bestLen && len(n.Value) > 2 && strings.Contains(msg, n.Value) {
			best, bestLen = manifest.Position{Line: n.Line, Column: n.Column}, len(n.Value)
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(root.Content[0])
	return best
}

var transformerKeys = []struct {
	path *regexp.Regexp
	keys []string
}{
	{regexp.MustCompile(`(^|\.)image$`), []string{"images"}},
	{regexp.MustCompile(`^metadata\.name$`), []string{"namePrefix", "nameSuffix"}},
	{regexp.MustCompile(`^metadata\.namespace$`), []string{"namespace"}},
	{regexp.MustCompile(`^spec\.replicas$`), []string{"replicas"}},
	{regexp.MustCompile(`(^|\.)labels`), []string{"labels", "commonLabels"}},
	{regexp.MustCompile(`(^|\.)matchLabels|^spec\.selector`), []string{"labels", "commonLabels"}},
	{regexp.MustCompile(`(^|\.)annotations`), []string{"commonAnnotations"}},
}
