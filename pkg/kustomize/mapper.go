package kustomize

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/manifest"
	yaml "go.yaml.in/yaml/v3"
)

// sourceIndex holds the files of one kustomization build, parsed once:
// the resource files objects came from, and every patch of the
// kustomization, its bases and components.
type sourceIndex struct {
	dir, kfile string
	// realDir is dir's absolute path with symlinks resolved, as
	// kustomize names the files it reads.
	realDir string
	kroot   *yaml.Node // the root kustomization file
	mu      sync.Mutex
	files   map[string][]*manifest.Object
	patches []*patchSource
}

// patchSource is one patch file: a strategic-merge patch (objects) or a
// JSON 6902 patch (operations on a target).
type patchSource struct {
	file       string
	objs       []*manifest.Object
	ops        *yaml.Node // sequence of operations, for JSON 6902
	kind, name string     // target, for JSON 6902 patches
}

func newSourceIndex(dir, kfile string) *sourceIndex {
	idx := &sourceIndex{dir: dir, kfile: kfile, files: map[string][]*manifest.Object{}}
	if abs, err := filepath.Abs(dir); err == nil {
		idx.realDir = abs
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			idx.realDir = real
		}
	}
	if data, err := os.ReadFile(kfile); err == nil {
		var root yaml.Node
		if yaml.Unmarshal(data, &root) == nil && len(root.Content) > 0 {
			idx.kroot = root.Content[0]
		}
	}
	inputs.WalkKustomizations(dir, func(d string, k *inputs.Kustomization) {
		targets := map[string][2]string{}
		for _, p := range append(append([]inputs.KustomizePatch{}, k.Patches...), k.PatchesJSON6902...) {
			if p.Target != nil && p.Path != "" {
				targets[filepath.Clean(filepath.Join(d, p.Path))] = [2]string{p.Target.Kind, p.Target.Name}
			}
		}
		for _, f := range k.PatchFiles(d) {
			idx.patches = append(idx.patches, loadPatch(f, targets[f]))
		}
	})
	return idx
}

func loadPatch(file string, target [2]string) *patchSource {
	ps := &patchSource{file: file, kind: target[0], name: target[1]}
	data, err := os.ReadFile(file)
	if err != nil {
		return ps
	}
	var root yaml.Node
	if yaml.Unmarshal(data, &root) == nil && len(root.Content) > 0 && root.Content[0].Kind == yaml.SequenceNode {
		ps.ops = root.Content[0]
		return ps
	}
	ps.objs, _ = manifest.Parse(file, data)
	return ps
}

// sourceObjects parses a resource file once.
func (idx *sourceIndex) sourceObjects(file string) []*manifest.Object {
	idx.mu.Lock()
	defer idx.mu.Unlock()
	if objs, ok := idx.files[file]; ok {
		return objs
	}
	var objs []*manifest.Object
	if data, err := os.ReadFile(file); err == nil {
		objs, _ = manifest.Parse(file, data)
	}
	idx.files[file] = objs
	return objs
}

// mapper finds the object in its resource file that a built object came
// from: the one its source mark names, else (the file parsed another way
// than kustomize read it) the one of its kind whose name it holds. An
// object without a mark (a generator's) has no source object.
func (idx *sourceIndex) mapper(o *manifest.Object, src sourceMark) *objMapper {
	m := &objMapper{idx: idx}
	if src.file == "" {
		return m
	}
	file := src.file
	if rel, err := filepath.Rel(idx.realDir, file); err == nil {
		file = filepath.Join(idx.dir, rel) // named as the kustomization is
	}
	objs := idx.sourceObjects(file)
	if src.n < len(objs) && objs[src.n].Kind == o.Kind {
		m.base = objs[src.n]
		return m
	}
	var best *manifest.Object
	for _, s := range objs {
		if s.Kind != o.Kind {
			continue
		}
		if s.Name == o.Name || best == nil || (strings.Contains(o.Name, s.Name) && len(s.Name) > len(best.Name)) {
			best = s
		}
		if s.Name == o.Name {
			break
		}
	}
	m.base = best
	return m
}

// objMapper maps the fields of one built object.
type objMapper struct {
	idx  *sourceIndex
	base *manifest.Object // the object in the resource file, or nil (generated)
}

// Map implements manifest.Mapper. A value is where it was last set: a
// patch that sets it, else the base resource that holds the same value,
// else the line of the kustomization that asks a transformer for it
// (images, namePrefix, namespace, replicas, labels). A mapping or list
// (a container, a probe) is where it is first declared: the base, else
// the patch that adds it.
func (m *objMapper) Map(o *manifest.Object, path string, _ manifest.Position, _ bool) (manifest.Location, []manifest.Related) {
	segs := manifest.SplitPath(path)
	baseName := o.Name
	if m.base != nil {
		baseName = m.base.Name
	}
	fromPatch := func() (manifest.Location, bool) {
		for _, p := range m.idx.patches {
			if loc, ok := p.locate(o, baseName, segs); ok {
				return loc, true
			}
		}
		return manifest.Location{}, false
	}
	var basePos manifest.Position
	var inBase bool
	if m.base != nil {
		t := translate(o.Value, m.base.Value, segs)
		basePos, inBase = m.base.Pos(manifest.JoinPath(t))
		inBase = inBase && sameValue(lookup(o.Value, segs), lookup(m.base.Value, t))
	}
	_, composite := lookup(o.Value, segs).(map[string]any)
	if _, isList := lookup(o.Value, segs).([]any); isList {
		composite = true
	}
	if composite && inBase {
		return manifest.Location{File: m.base.File, Line: basePos.Line, Column: basePos.Column}, nil
	}
	if loc, ok := fromPatch(); ok {
		return loc, nil
	}
	if inBase {
		return manifest.Location{File: m.base.File, Line: basePos.Line, Column: basePos.Column}, nil
	}
	if loc, ok := m.transformer(path, lookup(o.Value, segs)); ok {
		return loc, nil
	}
	if m.base != nil {
		return manifest.Location{File: m.base.File, Line: basePos.Line, Column: basePos.Column, Approximate: true}, nil
	}
	return manifest.Location{File: m.idx.kfile, Line: 1, Column: 1, Approximate: true}, nil
}

// transformer finds the kustomization entry (images, namePrefix,
// namespace, replicas, labels…) that would have set the field.
func (m *objMapper) transformer(path string, value any) (manifest.Location, bool) {
	if m.idx.kroot == nil {
		return manifest.Location{}, false
	}
	for _, t := range transformerKeys {
		if !t.path.MatchString(path) {
			continue
		}
		for _, k := range t.keys {
			n := m.idx.kroot
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value != k {
					continue
				}
				at := n.Content[i]
				// images: the entry for this image, at the field it changes.
				if img, ok := value.(string); ok && k == "images" && n.Content[i+1].Kind == yaml.SequenceNode {
					for _, it := range n.Content[i+1].Content {
						if name := manifest.MapValue(it, "name"); name != nil && strings.HasPrefix(img, name.Value) {
							at = it
							for _, f := range []string{"newTag", "digest", "newName"} {
								if v := nodeAt(it, []manifest.PathSegment{{Key: f, Index: -1}}); v != nil {
									at = v
									break
								}
							}
							break
						}
					}
				}
				return manifest.Location{File: m.idx.kfile, Line: at.Line, Column: at.Column}, true
			}
		}
	}
	return manifest.Location{}, false
}

// locate finds the field in this patch, if the patch applies to o.
func (p *patchSource) locate(o *manifest.Object, baseName string, segs []manifest.PathSegment) (manifest.Location, bool) {
	if p.ops != nil {
		if (p.kind != "" && p.kind != o.Kind) || (p.name != "" && p.name != baseName && p.name != o.Name) {
			return manifest.Location{}, false
		}
		for _, op := range p.ops.Content {
			ptr := manifest.MapValue(op, "path")
			if ptr == nil {
				continue
			}
			opSegs := pointerSegments(ptr.Value)
			if len(opSegs) > len(segs) || !reflect.DeepEqual(opSegs, segs[:len(opSegs)]) {
				continue
			}
			at := ptr
			if v := manifest.MapValue(op, "value"); v != nil && len(segs) > len(opSegs) {
				if n := nodeAt(v, segs[len(opSegs):]); n != nil {
					at = n
				}
			}
			return manifest.Location{File: p.file, Line: at.Line, Column: at.Column}, true
		}
		return manifest.Location{}, false
	}
	for _, s := range p.objs {
		if s.Kind != o.Kind || (s.Name != baseName && s.Name != o.Name) {
			continue
		}
		if identity(segs) {
			continue // a patch names its target; it does not set these
		}
		t := translate(o.Value, s.Value, segs)
		if pos, exact := s.Pos(manifest.JoinPath(t)); exact && sameValue(lookup(o.Value, segs), lookup(s.Value, t)) {
			return manifest.Location{File: s.File, Line: pos.Line, Column: pos.Column}, true
		}
	}
	return manifest.Location{}, false
}

// translate rewrites a path of the built object into the path of the same
// field in a source object: list items are matched by their name (as a
// strategic merge matches containers, ports and env vars), or by index
// when they have none.
func translate(built, src any, segs []manifest.PathSegment) []manifest.PathSegment {
	out := make([]manifest.PathSegment, len(segs))
	copy(out, segs)
	for i, s := range segs {
		if s.Index < 0 {
			bm, _ := built.(map[string]any)
			sm, _ := src.(map[string]any)
			built, src = bm[s.Key], sm[s.Key]
			continue
		}
		bl, _ := built.([]any)
		sl, _ := src.([]any)
		if s.Index >= len(bl) {
			return out
		}
		built = bl[s.Index]
		name, hasName := nameOf(built)
		src = nil
		for j, it := range sl {
			if n, ok := nameOf(it); hasName && ok && n == name {
				out[i].Index, src = j, it
				break
			}
		}
		if src == nil && !hasName && s.Index < len(sl) {
			src = sl[s.Index]
		}
		if src == nil {
			out[i].Index = len(sl) + 1000 // not in the source
			return out
		}
	}
	return out
}

// identity is true for the fields that say which object a patch is for.
func identity(segs []manifest.PathSegment) bool {
	p := manifest.JoinPath(segs)
	return p == "apiVersion" || p == "kind" || p == "metadata" || p == "metadata.name" || p == "metadata.namespace" || p == ""
}

func nameOf(v any) (string, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	n, ok := m["name"].(string)
	return n, ok
}

func lookup(v any, segs []manifest.PathSegment) any {
	for _, s := range segs {
		if s.Index >= 0 {
			l, _ := v.([]any)
			if s.Index >= len(l) {
				return nil
			}
			v = l[s.Index]
			continue
		}
		m, _ := v.(map[string]any)
		v = m[s.Key]
	}
	return v
}

// sameValue is true for equal scalars and for any two non-scalars (a
// mapping or list holds fields of its own, each mapped separately).
func sameValue(a, b any) bool {
	switch a.(type) {
	case map[string]any, []any:
		return true
	}
	return reflect.DeepEqual(a, b)
}

// nodeAt walks segments below a value node; a mapping key's position is
// its key node's.
func nodeAt(n *yaml.Node, segs []manifest.PathSegment) *yaml.Node {
	at := n
	for _, s := range segs {
		switch {
		case s.Index >= 0 && n.Kind == yaml.SequenceNode && s.Index < len(n.Content):
			n = n.Content[s.Index]
			at = n
		case s.Index < 0 && n.Kind == yaml.MappingNode:
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == s.Key {
					at, n, found = n.Content[i], n.Content[i+1], true
					break
				}
			}
			if !found {
				return nil
			}
		default:
			return nil
		}
	}
	return at
}

// pointerSegments turns a JSON pointer (/spec/containers/0/image) into
// path segments.
func pointerSegments(ptr string) []manifest.PathSegment {
	var out []manifest.PathSegment
	for _, p := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		p = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
		if n, err := strconv.Atoi(p); err == nil {
			out = append(out, manifest.PathSegment{Index: n})
		} else {
			out = append(out, manifest.PathSegment{Key: p, Index: -1})
		}
	}
	return out
}
