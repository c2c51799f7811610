// Command floor is the floor klint's speed is measured against: the least
// any linter that reports line:column must do to read the inputs klint
// reads. It finds them as klint does (inputs.Expand: files, charts and
// kustomizations), reads every plain file and parses each document into
// yaml.v3 nodes, builds every kustomization with kustomize's own library
// as `kustomize build` does (no origin annotations, nothing klint adds)
// and parses its output the same way, on all cores, and does nothing else.
// A kustomization that only lists resource files builds to those files'
// objects unchanged, and Expand gives its files, so its floor is parsing
// them (kustomize itself takes ten times longer on a large list, which
// would flatter klint).
// scripts/bench-floor.sh times it beside klint. Charts are not in the
// corpus this measures; a chart given here is skipped and counted.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/klint-dev/klint/pkg/inputs"
	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func main() {
	// kustomize prints deprecation warnings straight to os.Stderr, as in
	// klint, which sends them to /dev/null too.
	if null, err := os.Open(os.DevNull); err == nil {
		os.Stderr = null
	}
	found := inputs.Expand(os.Args[1:])
	var next, docs, bytesRead, files, builds, skipped atomic.Int64
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(found) {
					return
				}
				in := found[i]
				var data []byte
				switch {
				case in.Problem != nil:
					continue
				case in.Kind == inputs.PlainFile:
					b, err := os.ReadFile(in.Path)
					if err != nil {
						continue
					}
					data = b
					files.Add(1)
				case in.Kind == inputs.KustomizationInput:
					abs, _ := filepath.Abs(in.Path)
					m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), abs)
					if err != nil {
						continue
					}
					b, err := m.AsYaml()
					if err != nil {
						continue
					}
					data = b
					builds.Add(1)
				default:
					skipped.Add(1)
					continue
				}
				bytesRead.Add(int64(len(data)))
				docs.Add(parse(data))
			}
		}()
	}
	wg.Wait()
	fmt.Printf("%d files and %d kustomization builds, %d documents, %.1f MB parsed", files.Load(), builds.Load(), docs.Load(), float64(bytesRead.Load())/(1<<20))
	if skipped.Load() > 0 {
		fmt.Printf(" (%d charts skipped)", skipped.Load())
	}
	fmt.Println()
}

// parse parses every document into yaml.v3 nodes and counts them.
func parse(data []byte) int64 {
	var n int64
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var node yaml.Node
		err := dec.Decode(&node)
		if errors.Is(err, io.EOF) || (err != nil && node.Kind == 0) {
			return n // the rest of a broken file is not parsed: a floor, not a linter
		}
		n++
	}
}
