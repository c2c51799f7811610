package crd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klint-dev/klint/pkg/boundary"
	"github.com/klint-dev/klint/pkg/manifest"
)

// LoadCatalog reads the CRDs of paths (--crd and the config's crds):
// files, or directories searched recursively for .yaml, .yml and .json
// files, such as a vendored CRD catalog. Objects of other kinds are
// skipped; a file that cannot be read or parsed is an error naming it
// (and the line), for a catalog klint silently half-read would let
// custom resources through unchecked.
func LoadCatalog(paths []string) (*Catalog, error) {
	c := NewCatalog()
	for _, p := range paths {
		files, err := catalogFiles(p)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			if err := c.addFile(p, f); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

func catalogFiles(p string) ([]string, error) {
	info, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("--crd %s: %w", p, errors.Unwrap(err))
	}
	if !info.IsDir() {
		return []string{p}, nil
	}
	var files []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != p && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".yaml", ".yml", ".json":
			if !d.IsDir() {
				files = append(files, path)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("--crd %s: %w", p, err)
	}
	sort.Strings(files)
	return files, nil
}

func (c *Catalog) addFile(root, file string) error {
	// A file that links out of the directory named is not read: a parse
	// error would quote what it points to.
	data, err := boundary.New(root).ReadFile(file, manifest.MaxFileSize)
	if err != nil {
		return fmt.Errorf("--crd: %w", err)
	}
	objs, probs := manifest.Parse(file, data)
	for _, p := range probs {
		switch p.Kind {
		case manifest.EmptyDocument, manifest.NotKubernetes, manifest.NotAnObject:
			// not a CRD: nothing to read
		default:
			return fmt.Errorf("--crd: %s", p.Error())
		}
	}
	for _, o := range objs {
		if o.Kind != "CustomResourceDefinition" || !strings.HasPrefix(o.APIVersion, "apiextensions.k8s.io/") {
			continue
		}
		j, err := json.Marshal(o.Value)
		if err != nil {
			return fmt.Errorf("--crd: %s:%d: %w", file, o.Start().Line, err)
		}
		if err := c.Add(j, fmt.Sprintf("%s:%d", file, o.Start().Line)); err != nil {
			return fmt.Errorf("--crd: %w", err)
		}
	}
	return nil
}
