package inputs

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/klint-dev/klint/pkg/manifest"
	"sigs.k8s.io/yaml"
)

// KustomizationFileNames are the names kustomize reads a kustomization
// from, in order.
var KustomizationFileNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// KustomizationFile returns the kustomization file of dir, or "".
func KustomizationFile(dir string) string {
	for _, n := range KustomizationFileNames {
		p := filepath.Join(dir, n)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// IsChart reports whether dir holds a Helm chart (a Chart.yaml).
func IsChart(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "Chart.yaml"))
	return err == nil && st.Mode().IsRegular()
}

// Kustomization is what klint reads of a kustomization file itself (the
// build is kustomize's): what it refers to, to decide which directories to
// build and which files are not objects of their own.
type Kustomization struct {
	Kind                  string           `json:"kind"`
	Resources             []string         `json:"resources"`
	Bases                 []string         `json:"bases"`
	Components            []string         `json:"components"`
	PatchesStrategicMerge []string         `json:"patchesStrategicMerge"`
	Patches               []KustomizePatch `json:"patches"`
	PatchesJSON6902       []KustomizePatch `json:"patchesJson6902"`
}

// KustomizePatch is a patches or patchesJson6902 entry.
type KustomizePatch struct {
	Path   string `json:"path"`
	Target *struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	} `json:"target"`
}

// ReadKustomization parses the kustomization file of dir.
func ReadKustomization(dir string) (*Kustomization, error) {
	f := KustomizationFile(dir)
	if f == "" {
		return nil, fmt.Errorf("%s: no kustomization file", dir)
	}
	data, err := os.ReadFile(f)
	if err != nil {
		return nil, err
	}
	var k Kustomization
	if err := yaml.Unmarshal(data, &k); err != nil {
		return nil, fmt.Errorf("%s: %w", f, err)
	}
	return &k, nil
}

// IsComponent reports whether the kustomization is a Component, which is
// only ever built as part of another kustomization.
func (k *Kustomization) IsComponent() bool { return k.Kind == "Component" }

// Dirs lists the local directories the kustomization in dir builds on:
// resources and bases that are directories, and components.
func (k *Kustomization) Dirs(dir string) []string {
	var out []string
	for _, list := range [][]string{k.Resources, k.Bases, k.Components} {
		for _, r := range list {
			if isRemote(r) {
				continue
			}
			p := filepath.Clean(filepath.Join(dir, r))
			if st, err := os.Stat(p); err == nil && st.IsDir() {
				out = append(out, p)
			}
		}
	}
	return out
}

// PatchFiles lists the files the kustomization in dir uses as patches: a
// patch is a fragment merged into another object, not an object of its
// own (linted alone it would be "missing" its selector or image).
func (k *Kustomization) PatchFiles(dir string) []string {
	var out []string
	add := func(p string) {
		if p != "" && !filepath.IsAbs(p) && !isRemote(p) && !strings.Contains(p, "\n") {
			out = append(out, filepath.Clean(filepath.Join(dir, p)))
		}
	}
	for _, p := range k.PatchesStrategicMerge {
		add(p)
	}
	for _, p := range k.Patches {
		add(p.Path)
	}
	for _, p := range k.PatchesJSON6902 {
		add(p.Path)
	}
	return out
}

func isRemote(r string) bool {
	return strings.Contains(r, "://") || strings.HasPrefix(r, "github.com/") || strings.HasPrefix(r, "git@")
}

// OwnFiles lists the files that belong to the kustomization in dir
// rather than being manifests of their own: the kustomization file, its
// resources that are files, and its patches.
func (k *Kustomization) OwnFiles(dir string) []string {
	out := []string{KustomizationFile(dir)}
	for _, r := range append(append([]string{}, k.Resources...), k.Bases...) {
		if isRemote(r) {
			continue
		}
		p := filepath.Clean(filepath.Join(dir, r))
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			out = append(out, p)
		}
	}
	return append(out, k.PatchFiles(dir)...)
}

// owns reports whether the kustomization in dir, or one it builds on,
// uses file.
func owns(dir, file string, seen map[string]bool) bool {
	if seen[dir] {
		return false
	}
	seen[dir] = true
	k, err := ReadKustomization(dir)
	if err != nil {
		return filepath.Clean(file) == KustomizationFile(dir)
	}
	for _, f := range k.OwnFiles(dir) {
		if f == filepath.Clean(file) {
			return true
		}
	}
	for _, d := range k.Dirs(dir) {
		if owns(d, file, seen) {
			return true
		}
	}
	return false
}

// ListedFiles returns the files of a kustomization that only lists
// resource files (apiVersion, kind and resources, each a regular file
// under dir, none twice, nothing remote): its build is those files'
// objects unchanged, so they can be read as files, at their own lines,
// without kustomize. ok is false for any other kustomization. What
// kustomize would judge of the files' content (a file that does not
// parse, two objects with one identity) is for the reader to check.
func ListedFiles(dir string) (files []string, ok bool) {
	kfile := KustomizationFile(dir)
	if kfile == "" {
		return nil, false
	}
	data, err := os.ReadFile(kfile)
	if err != nil {
		return nil, false
	}
	var k map[string]any
	if yaml.Unmarshal(data, &k) != nil {
		return nil, false
	}
	for key := range k {
		switch key {
		case "apiVersion", "kind", "resources":
		default:
			return nil, false
		}
	}
	if kind, _ := k["kind"].(string); kind != "" && kind != "Kustomization" {
		return nil, false
	}
	list, _ := k["resources"].([]any)
	if len(list) == 0 {
		return nil, false
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, false
	}
	listed := map[string]bool{}
	for _, e := range list {
		r, _ := e.(string)
		if r == "" || strings.Contains(r, "://") || strings.Contains(r, "?") {
			return nil, false
		}
		p := filepath.Join(dir, r)
		real, err := filepath.EvalSymlinks(p)
		if err != nil || listed[real] {
			return nil, false
		}
		listed[real] = true
		if rel, err := filepath.Rel(realDir, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil, false // kustomize's load restrictor refuses it
		}
		if st, err := os.Stat(real); err != nil || !st.Mode().IsRegular() {
			return nil, false
		}
		files = append(files, filepath.Clean(p))
	}
	return files, true
}

// BuildIdentity is an object's identity in a kustomize build: group,
// version, kind, name, and a namespace in which "" and "default" are one.
// A build refuses two objects with one identity.
func BuildIdentity(o *manifest.Object) string {
	ns := o.Namespace
	if ns == "" {
		ns = "default"
	}
	return o.APIVersion + " " + o.Kind + " " + ns + " " + o.Name
}

// WalkKustomizations calls visit for the kustomization in dir and each
// one it builds on (bases, components, resource directories), once each,
// dir first. Those that cannot be read are skipped.
func WalkKustomizations(dir string, visit func(d string, k *Kustomization)) {
	seen := map[string]bool{}
	var walk func(d string)
	walk = func(d string) {
		if seen[d] {
			return
		}
		seen[d] = true
		k, err := ReadKustomization(d)
		if err != nil {
			return
		}
		visit(d, k)
		for _, sub := range k.Dirs(d) {
			walk(sub)
		}
	}
	walk(dir)
}
