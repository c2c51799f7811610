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
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/klint-dev/klint/pkg/boundary"
	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/manifest"
	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// Render builds the kustomization in dir, reading nothing outside b (nil:
// the repository root of dir). Its objects carry positions in the files a
// person edits; a kustomization that does not build is one problem at the
// line of the entry kustomize names, if it names one. A kustomization
// with a remote entry is not built: each such entry is a problem, and its
// local resource files are linted as they are.
func Render(dir string, b *boundary.Boundary) ([]*manifest.Object, []manifest.Problem) {
	offline.Do(goOffline)
	dir = filepath.Clean(dir)
	if b == nil {
		b = boundary.ForPaths(dir)
	}
	kfile := inputs.KustomizationFile(dir)
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	if objs, ok := listOnly(dir, b); ok {
		return objs, nil
	}
	deprecated := deprecatedFields(dir, dir, map[string]bool{})
	if remote := remoteEntries(dir, b); len(remote) > 0 {
		objs, more := ownResources(dir, b)
		return objs, append(append(remote, more...), deprecated...)
	}
	fs := markFS{FileSystem: boundedFS{FileSystem: filesys.MakeFsOnDisk(), b: b}, resources: resourceFiles(abs)}
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, abs)
	if err != nil {
		msg := err.Error()
		if cwd, err := os.Getwd(); err == nil {
			msg = strings.ReplaceAll(msg, cwd+string(filepath.Separator), "")
		}
		probs := []manifest.Problem{{Kind: manifest.RenderFailed, File: kfile, Pos: entryPos(kfile, msg),
			Message: "kustomization does not build: " + msg, Render: dir}}
		objs, more := ownResources(dir, b)
		return objs, append(append(probs, more...), deprecated...)
	}
	idx := newSourceIndex(dir, kfile)
	var objs []*manifest.Object
	var probs []manifest.Problem
	for i, res := range m.Resources() {
		source := takeSourceMark(res)
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
			o.Mapper = idx.mapper(o, source)
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
func ownResources(dir string, b *boundary.Boundary) ([]*manifest.Object, []manifest.Problem) {
	k, err := inputs.ReadKustomization(dir)
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
		data, err := b.ReadFile(p, manifest.MaxFileSize)
		if err != nil {
			continue // outside the boundary: the build's problem says so
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
func listOnly(dir string, b *boundary.Boundary) (objs []*manifest.Object, ok bool) {
	files, ok := inputs.ListedFiles(dir)
	if !ok {
		return nil, false
	}
	ids := map[string]bool{}
	for _, p := range files {
		data, err := b.ReadFile(p, manifest.MaxFileSize)
		if err != nil {
			return nil, false
		}
		fileObjs, probs := manifest.Parse(p, data)
		if len(probs) > 0 || len(fileObjs) == 0 {
			return nil, false
		}
		for _, o := range fileObjs {
			id := inputs.BuildIdentity(o)
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

// markFS is the disk, except that each resource file of the build (a
// file a kustomization in it lists under resources) is read with a
// source mark on every object: an annotation saying which file it is
// and which of its objects. Transformers and patches leave unknown
// annotations alone, so each built object says where it came from, and
// the mark is taken off before klint reads the object. (kustomize's own
// origin annotations say it too, but asking for them makes every
// transformer annotate every object as well, re-encoding a growing list
// each time: two thirds of a build's time.)
type markFS struct {
	filesys.FileSystem
	resources map[string]bool
}

const sourceAnnotation = "klint.dev/source"

func (f markFS) ReadFile(p string) ([]byte, error) {
	b, err := f.FileSystem.ReadFile(p)
	if err != nil || !f.resources[filepath.Clean(p)] {
		return b, err
	}
	if marked, ok := markSources(p, b); ok {
		return marked, nil
	}
	return b, nil // the YAML parser refused it, and kustomize will too
}

// resourceFiles are the resource files of the kustomization in dir and of
// those it builds on, by absolute path.
func resourceFiles(dir string) map[string]bool {
	out := map[string]bool{}
	inputs.WalkKustomizations(dir, func(d string, k *inputs.Kustomization) {
		for _, r := range k.Resources {
			p := filepath.Join(d, r)
			if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
				out[filepath.Clean(p)] = true
				// kustomize reads a file under a symlinked directory by
				// its real path.
				if real, err := filepath.EvalSymlinks(p); err == nil {
					out[real] = true
				}
			}
		}
	})
	return out
}

// markSources adds the source mark to each object of a resource file:
// "file#n" for its n-th object (the items of a List counted one by one,
// as kustomize reads them). The rest of the file is as it was.
func markSources(file string, data []byte) ([]byte, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	n := 0
	mark := func(obj *yaml.Node) {
		if obj.Kind != yaml.MappingNode {
			return
		}
		md := mapValue(obj, "metadata", yaml.MappingNode)
		ann := mapValue(md, "annotations", yaml.MappingNode)
		ann.Content = append(ann.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: sourceAnnotation},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: file + "#" + strconv.Itoa(n)})
		n++
	}
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err == io.EOF {
			break
		} else if err != nil {
			return nil, false
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
			docs = append(docs, &doc)
			continue
		}
		obj := doc.Content[0]
		if items := listItems(obj); items != nil {
			for _, it := range items.Content {
				mark(it)
			}
		} else {
			mark(obj)
		}
		docs = append(docs, &doc)
	}
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	for _, d := range docs {
		if err := enc.Encode(d); err != nil {
			return nil, false
		}
	}
	if enc.Close() != nil {
		return nil, false
	}
	return out.Bytes(), true
}

// listItems is the items of a List document (kind ending in List), or nil.
func listItems(obj *yaml.Node) *yaml.Node {
	for i := 0; i+1 < len(obj.Content); i += 2 {
		if obj.Content[i].Value == "kind" && strings.HasSuffix(obj.Content[i+1].Value, "List") {
			if items := manifest.MapValue(obj, "items"); items != nil && items.Kind == yaml.SequenceNode {
				return items
			}
		}
	}
	return nil
}

// mapValue returns the value of key in mapping n, adding an empty one of
// kind when it is absent or null.
func mapValue(n *yaml.Node, key string, kind yaml.Kind) *yaml.Node {
	if v := manifest.MapValue(n, key); v != nil && v.Kind == kind {
		return v
	} else if v != nil && v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		v.Kind, v.Tag, v.Value = kind, "!!map", ""
		return v
	}
	v := &yaml.Node{Kind: kind, Tag: "!!map"}
	n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
	return v
}

// takeSourceMark takes the source mark off a built object, leaving it as
// kustomize build prints it, and returns the file and object it names
// ("", -1 for an object no resource file holds: a generator's).
func takeSourceMark(res *resource.Resource) sourceMark {
	ann := res.GetAnnotations()
	v, ok := ann[sourceAnnotation]
	if !ok {
		return sourceMark{n: -1}
	}
	delete(ann, sourceAnnotation)
	_ = res.SetAnnotations(ann)
	i := strings.LastIndexByte(v, '#')
	n, err := strconv.Atoi(v[i+1:])
	if i < 0 || err != nil {
		return sourceMark{n: -1}
	}
	return sourceMark{file: v[:i], n: n}
}

// sourceMark is the resource file and the object in it a built object
// came from.
type sourceMark struct {
	file string
	n    int
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
