package manifest

import (
	"os"
	"path/filepath"

	"sigs.k8s.io/yaml"
)

// kustomizationNames are the file names kustomize reads in a directory.
var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// kustomizePatches returns the files that the kustomization in dir (if
// any) uses as patches. A patch is a fragment merged into another object,
// not an object of its own: linted alone it would be "missing" its
// selector, containers or image.
func kustomizePatches(dir string) []string {
	for _, name := range kustomizationNames {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		var k struct {
			PatchesStrategicMerge []string `json:"patchesStrategicMerge"`
			Patches               []struct {
				Path string `json:"path"`
			} `json:"patches"`
			PatchesJSON6902 []struct {
				Path string `json:"path"`
			} `json:"patchesJson6902"`
		}
		if yaml.Unmarshal(data, &k) != nil {
			return nil // kustomize will say what is wrong with it
		}
		var out []string
		add := func(p string) {
			if p != "" && !filepath.IsAbs(p) {
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
	return nil
}
