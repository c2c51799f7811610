// Command floor is the parse floor klint's speed is measured against: it
// finds the files klint would read under the paths given (.yaml, .yml and
// .json, walking directories, skipping .git, node_modules and vendor),
// reads them and parses every document into yaml.v3 nodes on all cores,
// and does nothing else. Any linter that reports line:column has to do at
// least this much; scripts/bench-floor.sh times it beside klint.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	yaml "go.yaml.in/yaml/v3"
)

func main() {
	var files []string
	for _, root := range os.Args[1:] {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				switch d.Name() {
				case ".git", ".hg", ".svn", "node_modules", "vendor":
					return filepath.SkipDir
				}
				return nil
			}
			switch strings.ToLower(filepath.Ext(p)) {
			case ".yaml", ".yml", ".json":
				files = append(files, p)
			}
			return nil
		})
	}
	var next, docs, bytesRead atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(files) {
					return
				}
				data, err := os.ReadFile(files[i])
				if err != nil {
					continue
				}
				bytesRead.Add(int64(len(data)))
				dec := yaml.NewDecoder(bytes.NewReader(data))
				for {
					var n yaml.Node
					err := dec.Decode(&n)
					if errors.Is(err, io.EOF) || (err != nil && n.Kind == 0) {
						break // the rest of a broken file is not parsed: a floor, not a linter
					}
					docs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	fmt.Printf("%d files, %d documents, %.1f MB parsed\n", len(files), docs.Load(), float64(bytesRead.Load())/(1<<20))
}
