// Package update judges a run as the update it is (klint --base): it
// reads the inputs that changed as they are at the base revision (a
// gitbase.Snapshot), pairs their objects with the run's by the render
// they came from, group, kind, namespace and name, and gives the schema
// stage each changed object's previous version, which the API server's
// update path then judges (schema.Base). At the end of the run it names
// the changes that apply but hurt: an object renamed, a CRD version
// removed while objects of the run still use it, a Service port removed
// while an Ingress of the run still sends traffic to it.
package update

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/klint-dev/klint/pkg/gitbase"
	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/parallel"
	"github.com/klint-dev/klint/pkg/rules"
	"github.com/klint-dev/klint/pkg/schema"
	"sigs.k8s.io/yaml"
)

// Rule IDs of the findings made at the end of the run.
const (
	RuleRenamed           = "object-renamed"
	RuleCRDVersionRemoved = "crd-version-removed"
	RuleServicePortGone   = "service-port-removed"
)

// key is an object's identity across the two versions.
type key struct {
	render, group, kind, namespace, name string
}

func keyOf(o *manifest.Object) key {
	md, _ := o.Value["metadata"].(map[string]any)
	ns, _ := md["namespace"].(string)
	n, _ := md["name"].(string)
	g, _, _ := strings.Cut(o.APIVersion, "/")
	if !strings.Contains(o.APIVersion, "/") {
		g = ""
	}
	return key{render: o.Render, group: g, kind: o.Kind, namespace: ns, name: n}
}

// old is an object at the base revision.
type old struct {
	prev *schema.Previous
	data []byte
	// file is the working tree's name of the file it was read from.
	file string
	// where is the object's metadata.name in the old version.
	where rules.RelatedLocation
}

// Base is the previous version of the run's changed inputs. It is safe
// for concurrent use.
type Base struct {
	ref  string
	objs map[key][]*old
	// changed are the working tree's names of the inputs that changed:
	// the objects of the others are as they were.
	changed map[string]bool
	// Objects is how many objects the base revision's changed inputs
	// hold.
	Objects int

	mu sync.Mutex
	// seen are the keys of the run's objects; created are the objects
	// of new or changed inputs, of kinds a rename hurts, that the base
	// does not have.
	seen    map[key]bool
	created []newObject
	// apiVersions are the apiVersions of the run's objects, each with
	// the first place it is used; ingresses the run's Ingress backends;
	// services the changed Services' removed ports.
	apiVersions map[string]place
	ingresses   []backend
	services    []changedService
	crds        []changedCRD
}

type place struct {
	file         string
	line, column int
	ann          map[string]string
	ref          rules.ObjectRef
}

type newObject struct {
	key
	spec []byte
	at   place
}

// Read reads the inputs that changed between the snapshot's revision
// and the working tree, as they are at the revision: each input the run
// reads (a file, a chart, a kustomization) whose files changed, and each
// manifest file the working tree no longer has. render renders the
// snapshot's charts and kustomizations (with the snapshot's directory as
// the boundary of what it may read). What cannot be read or rendered at
// the revision has no old side: its objects are judged as creates.
func Read(snap *gitbase.Snapshot, ins []inputs.Input, render inputs.RenderFunc) *Base {
	b := &Base{ref: snap.Ref, objs: map[key][]*old{}, changed: map[string]bool{}, seen: map[key]bool{}, apiVersions: map[string]place{}}
	// A job is an input that changed, read at the revision: a file from
	// git's objects in memory, a chart or kustomization from the
	// snapshot's directory (from, named to in the working tree).
	type job struct {
		in       inputs.Input
		from, to string
	}
	var jobs []job
	for _, in := range ins {
		if in.Context || in.Problem != nil || in.Data != nil || in.Path == "-" {
			continue
		}
		switch {
		case changed(snap, in):
			b.changed[in.Path] = true
			jobs = append(jobs, job{in: in})
		case !snap.Has(in.Path):
			// New: its objects are creates, or objects moved here.
			b.changed[in.Path] = true
		}
	}
	wd, _ := os.Getwd()
	for _, d := range snap.Deleted() {
		if !inputs.IsManifestFile(d) {
			continue
		}
		if r, err := filepath.Rel(wd, d); err == nil && !strings.HasPrefix(r, "..") {
			d = r
		}
		jobs = append(jobs, job{in: inputs.Input{Path: d}})
	}
	// prepare makes a job's input the revision's; false when the
	// revision does not have it.
	prepare := func(j *job) bool {
		if j.in.Kind == inputs.PlainFile {
			data, ok := snap.ReadFile(j.in.Path)
			j.in.Data = data
			return ok
		}
		p, ok := snap.Path(j.in.Path)
		if !ok {
			return false
		}
		materialize(snap, j.in)
		if _, err := os.Lstat(p); err != nil {
			return false // new in the working tree
		}
		j.from, j.to, j.in.Path = p, j.in.Path, p
		return true
	}
	results := make([][]*manifest.Object, len(jobs))
	parallel.Do(len(jobs), func(i int) {
		j := &jobs[i]
		if !prepare(j) {
			return
		}
		l := inputs.Read(j.in, nil, render)
		for _, o := range l.Objects {
			o.File = rebase(o.File, j.from, j.to)
			o.Render = rebase(o.Render, j.from, j.to)
		}
		results[i] = l.Objects
	})
	for i, objs := range results {
		for _, o := range objs {
			b.Objects++
			k := keyOf(o)
			if k.name == "" {
				continue
			}
			data, err := schema.JSON(o.Value)
			if err != nil {
				continue
			}
			from, to := jobs[i].from, jobs[i].to
			prev := &schema.Previous{GVK: gvkOf(o), Data: data, Object: o, Ref: snap.Ref}
			prev.Where = func(path string) (schema.Place, bool) {
				pos, exact := o.Pos(path)
				loc, _ := o.Locate(path)
				if loc.File == "" {
					loc.File, loc.Line, loc.Column = o.File, pos.Line, pos.Column
				}
				return schema.Place{File: rebase(loc.File, from, to), Line: loc.Line, Column: loc.Column}, exact
			}
			w, _ := prev.Where("metadata.name")
			b.objs[k] = append(b.objs[k], &old{prev: prev, data: data, file: o.File, where: rules.RelatedLocation{File: w.File, Line: w.Line, Column: w.Column}})
		}
	}
	return b
}

// kustomizationDir is the directory of a kustomization input.
func kustomizationDir(in inputs.Input) string {
	if fi, err := os.Stat(in.Path); err == nil && !fi.IsDir() {
		return filepath.Dir(in.Path)
	}
	return in.Path
}

// changed reports whether in reads a file that differs at the revision:
// for a kustomization, one in its directory or in a directory outside it
// that it (or a kustomization there) names, as the working tree has them.
func changed(snap *gitbase.Snapshot, in inputs.Input) bool {
	if in.Kind != inputs.KustomizationInput {
		return snap.Changed(in.Path)
	}
	for _, d := range kustomizationDirs(kustomizationDir(in), func(d string) string { return d }) {
		if snap.Changed(d) {
			return true
		}
	}
	return false
}

// materialize copies what reading in at the revision reads: the file, the
// chart's directory, or the kustomization's directories.
func materialize(snap *gitbase.Snapshot, in inputs.Input) {
	if in.Kind != inputs.KustomizationInput {
		_ = snap.Materialize(in.Path)
		return
	}
	kustomizationDirs(kustomizationDir(in), func(d string) string {
		_ = snap.Materialize(d)
		at, _ := snap.Path(d)
		return at
	})
}

// kustomizationDirs are dir and the directories outside it that its
// kustomization names ("../base"), and theirs in turn; at is where a
// directory is read.
func kustomizationDirs(dir string, at func(dir string) string) []string {
	seen := map[string]bool{}
	var out []string
	var follow func(dir string)
	follow = func(dir string) {
		if seen[dir] || len(seen) > 256 {
			return
		}
		seen[dir] = true
		out = append(out, dir)
		where := at(dir)
		for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
			data, err := os.ReadFile(filepath.Join(where, name))
			if err != nil {
				continue
			}
			var v any
			if yaml.Unmarshal(data, &v) == nil {
				for _, ref := range outsideRefs(v, nil) {
					follow(filepath.Join(dir, ref))
				}
			}
			return
		}
	}
	follow(dir)
	return out
}

// outsideRefs are the strings of a kustomization that name a path
// outside its directory ("../base").
func outsideRefs(v any, out []string) []string {
	switch x := v.(type) {
	case string:
		if c := filepath.Clean(x); strings.HasPrefix(c, "..") && !strings.Contains(x, "://") {
			out = append(out, c)
		}
	case []any:
		for _, e := range x {
			out = outsideRefs(e, out)
		}
	case map[string]any:
		for _, e := range x {
			out = outsideRefs(e, out)
		}
	}
	return out
}

// rebase rewrites a path under from (the snapshot's) as under to (the
// working tree's name for it).
func rebase(p, from, to string) string {
	if from == "" {
		return p
	}
	if p == from {
		return to
	}
	if rest, ok := strings.CutPrefix(p, from+string(filepath.Separator)); ok {
		return filepath.Join(to, rest)
	}
	if rest, ok := strings.CutPrefix(p, from); ok && strings.HasPrefix(rest, " ") {
		return to + rest // a render's name: "chart (values set)"
	}
	return p
}

// Old implements schema.Base, and notes what the end of the run needs of
// the run's objects.
func (b *Base) Old(o *manifest.Object, data []byte) (*schema.Previous, bool) {
	prev, had := b.lookup(o, keyOf(o))
	if !had || bytes.Equal(prev.data, data) {
		return nil, false
	}
	return prev.prev, true
}

// lookup is o's previous version: none when o's input did not change
// (it is as it was); of two objects of one identity (in two files, or a
// chart's two values sets), the one of o's file, else the only one.
func (b *Base) lookup(o *manifest.Object, k key) (*old, bool) {
	if !b.fromChanged(o) {
		return nil, false
	}
	olds := b.objs[k]
	for _, e := range olds {
		if e.file == o.File {
			return e, true
		}
	}
	if len(olds) == 1 {
		return olds[0], true
	}
	return nil, false
}

// fromChanged reports whether o comes from an input that changed: its
// file, or the chart or kustomization it was rendered from.
func (b *Base) fromChanged(o *manifest.Object) bool {
	for _, p := range []string{o.File, o.Render} {
		if p == "" {
			continue
		}
		if b.changed[p] {
			return true
		}
		for c := range b.changed {
			if rest, ok := strings.CutPrefix(p, c); ok && (strings.HasPrefix(rest, string(filepath.Separator)) || strings.HasPrefix(rest, " ")) {
				return true
			}
		}
	}
	return false
}

// renameKinds are the kinds whose rename costs something; a ConfigMap or
// Secret is renamed on every change by kustomize's generators.
var renameKinds = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true, "Service": true, "PersistentVolumeClaim": true, "Namespace": true}

// Saw notes what the end of the run needs of the run's objects.
func (b *Base) Saw(o *manifest.Object) {
	k := keyOf(o)
	prev, had := b.lookup(o, k)
	at := func(path string) place {
		loc, _ := o.Locate(path)
		md, _ := o.Value["metadata"].(map[string]any)
		ann := map[string]string{}
		if a, ok := md["annotations"].(map[string]any); ok {
			for k, v := range a {
				if s, ok := v.(string); ok {
					ann[k] = s
				}
			}
		}
		return place{file: loc.File, line: loc.Line, column: loc.Column, ann: ann, ref: rules.ObjectRef{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: k.namespace, Name: k.name}}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen[k] && k.name != "" {
		return // one object of the run per identity
	}
	b.seen[k] = true
	if _, ok := b.apiVersions[o.APIVersion]; !ok {
		b.apiVersions[o.APIVersion] = at("apiVersion")
	}
	if !had && renameKinds[o.Kind] && b.fromChanged(o) {
		spec, _ := schema.JSON(o.Value["spec"])
		b.created = append(b.created, newObject{key: k, spec: spec, at: at("metadata.name")})
	}
	switch o.Kind {
	case "Ingress":
		b.ingresses = append(b.ingresses, backendsOf(o, k, at)...)
	case "Service":
		if had {
			if gone := removedPorts(prev.prev.Object.Value, o.Value); len(gone) > 0 {
				b.services = append(b.services, changedService{key: k, gone: gone, at: at("spec.ports")})
			}
		}
	case "CustomResourceDefinition":
		if had {
			if gone := removedVersions(prev.prev.Object.Value, o.Value); len(gone) > 0 {
				b.crds = append(b.crds, changedCRD{group: group(o.Value), gone: gone, at: at("spec.versions")})
			}
		}
	}
}

// Late is what the end of the run finds: the changes that apply but
// hurt, each with its object's annotations (for suppressions).
func (b *Base) Late() ([]rules.Finding, []map[string]string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var fs []rules.Finding
	var anns []map[string]string
	for _, f := range append(append(b.renames(), b.portsInUse()...), b.versionsInUse()...) {
		fs, anns = append(fs, f.Finding), append(anns, f.Annotations)
	}
	return fs, anns
}

// Finding is a finding of the end of the run, with the annotations of
// its object.
type Finding struct {
	rules.Finding
	Annotations map[string]string
}

func (p place) finding(rule, path, msg string) Finding {
	return Finding{Finding: rules.Finding{Rule: rule, Message: msg, File: p.file, Line: p.line, Column: p.column, Path: path, Object: p.ref}, Annotations: p.ann}
}

// renames pairs each object gone since the base with one the run
// creates: of its kind, namespace and render, with the same spec, or the
// only one created there.
func (b *Base) renames() []Finding {
	var out []Finding
	byGroup := map[key][]newObject{}
	for _, c := range b.created {
		g := c.key
		g.name = ""
		byGroup[g] = append(byGroup[g], c)
	}
	keys := make([]key, 0, len(b.objs))
	for k := range b.objs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	used := map[key]bool{}
	for _, k := range keys {
		if b.seen[k] || !renameKinds[k.kind] {
			continue
		}
		g := k
		g.name = ""
		cands := byGroup[g]
		gone := b.objs[k][0]
		spec, _ := schema.JSON(gone.prev.Object.Value["spec"])
		var match *newObject
		for i := range cands {
			if !used[cands[i].key] && bytes.Equal(cands[i].spec, spec) {
				match = &cands[i]
				break
			}
		}
		if match == nil && len(cands) == 1 && !used[cands[0].key] {
			match = &cands[0]
		}
		if match == nil {
			continue
		}
		used[match.key] = true
		f := match.at.finding(RuleRenamed, "metadata.name", renameMessage(k, match.name, b.ref))
		f.Related = []rules.RelatedLocation{{File: gone.where.File, Line: gone.where.Line, Column: gone.where.Column, Message: fmt.Sprintf("%s %s at %s, which the change deletes", k.kind, k.name, b.ref)}}
		out = append(out, f)
	}
	return out
}

func renameMessage(k key, to, ref string) string {
	msg := fmt.Sprintf("%s %s was %s at %s: a rename is a delete and a create. ", k.kind, to, k.name, ref)
	switch k.kind {
	case "Deployment", "StatefulSet", "DaemonSet":
		return msg + fmt.Sprintf("kubectl apply creates %s beside %s; whatever deletes %s (kubectl apply --prune, Argo CD, Flux) deletes its pods at once, not when %s's are ready. To rename without downtime, apply %s first and delete %s once it is available.", to, k.name, k.name, to, to, k.name)
	case "Service":
		return msg + fmt.Sprintf("Clients that use the DNS name %s (and its cluster IP) lose it when %s is deleted; keep %s until they have moved.", k.name, k.name, k.name)
	case "PersistentVolumeClaim":
		return msg + fmt.Sprintf("%s gets a new, empty volume: the data stays with %s's, which is deleted with it under the Delete reclaim policy.", to, k.name)
	case "Namespace":
		return msg + fmt.Sprintf("Deleting %s deletes every object in it.", k.name)
	}
	return msg
}
