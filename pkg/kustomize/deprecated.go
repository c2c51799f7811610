package kustomize

import (
	"os"
	"path/filepath"
	"sort"

	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/manifest"
	yaml "go.yaml.in/yaml/v3"
)

// deprecatedKeys are the kustomization fields kustomize deprecates, with
// what replaces them (kustomize prints a warning for each when it builds;
// klint reports them as findings at their line instead).
var deprecatedKeys = map[string]string{
	"bases":                 "resources",
	"commonLabels":          "labels",
	"imageTags":             "images",
	"patchesJson6902":       "patches",
	"patchesStrategicMerge": "patches",
	"vars":                  "replacements",
}

// deprecatedFields reports the deprecated fields of the kustomization in
// dir and of the kustomizations it builds on, each at its key's line.
func deprecatedFields(dir, render string, seen map[string]bool) []manifest.Problem {
	if seen[dir] {
		return nil
	}
	seen[dir] = true
	kfile := inputs.KustomizationFile(dir)
	if kfile == "" {
		return nil
	}
	var probs []manifest.Problem
	if data, err := os.ReadFile(kfile); err == nil {
		var root yaml.Node
		if yaml.Unmarshal(data, &root) == nil && len(root.Content) == 1 && root.Content[0].Kind == yaml.MappingNode {
			top := root.Content[0]
			for i := 0; i+1 < len(top.Content); i += 2 {
				k := top.Content[i]
				if repl, ok := deprecatedKeys[k.Value]; ok {
					probs = append(probs, manifest.Problem{Kind: manifest.DeprecatedField, File: kfile, Pos: manifest.Position{Line: k.Line, Column: k.Column},
						Message: "kustomize deprecates " + k.Value + "; use " + repl + " (kustomize edit fix rewrites it)", Render: render})
				}
			}
		}
	}
	if k, err := inputs.ReadKustomization(dir); err == nil {
		dirs := k.Dirs(dir)
		sort.Strings(dirs)
		for _, d := range dirs {
			probs = append(probs, deprecatedFields(filepath.Clean(d), render, seen)...)
		}
	}
	return probs
}
