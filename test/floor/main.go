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
// A chart is rendered as `helm template` renders it, with Helm's SDK
// alone, once with its default values and once per values set klint
// renders (ci/*-values.yaml; none with -defaults-only), each render
// loading the chart again as helm does, and its output parsed the same
// way: the least a Helm-based linter pays for those renders.
// scripts/bench-floor.sh times it beside klint on the plain corpus,
// scripts/bench-helm.sh on the chart corpus.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/klint-dev/klint/pkg/helm"
	"github.com/klint-dev/klint/pkg/inputs"
	yaml "go.yaml.in/yaml/v3"
	"helm.sh/helm/v4/pkg/chart/common"
	cutil "helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/cli/values"
	"helm.sh/helm/v4/pkg/engine"
	"helm.sh/helm/v4/pkg/getter"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

func main() {
	// kustomize prints deprecation warnings straight to os.Stderr, as in
	// klint, which sends them to /dev/null too.
	if null, err := os.Open(os.DevNull); err == nil {
		os.Stderr = null
	}
	defaultsOnly := flag.Bool("defaults-only", false, "render each chart with its default values only")
	flag.Parse()
	// Each render of a chart is a piece of work of its own, as klint
	// renders a chart's values sets in parallel.
	type work struct {
		in        inputs.Input
		valuesSet string // a chart's values file, or "" for its defaults
	}
	var found []work
	for _, in := range inputs.Expand(flag.Args()) {
		found = append(found, work{in: in})
		if in.Kind == inputs.ChartInput && in.Problem == nil && !*defaultsOnly {
			sets, _ := filepath.Glob(filepath.Join(in.Path, helm.DefaultValuesSets))
			sort.Strings(sets)
			for _, set := range sets {
				found = append(found, work{in: in, valuesSet: set})
			}
		}
	}
	var next, docs, bytesRead, files, builds, renders, failed, skipped atomic.Int64
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
				in := found[i].in
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
				case in.Kind == inputs.ChartInput:
					n, size, err := renderChart(in.Path, found[i].valuesSet)
					if err != nil {
						failed.Add(1)
						continue
					}
					renders.Add(1)
					docs.Add(n)
					bytesRead.Add(size)
					continue
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
	fmt.Printf("%d files, %d kustomization builds and %d chart renders, %d documents, %.1f MB parsed", files.Load(), builds.Load(), renders.Load(), docs.Load(), float64(bytesRead.Load())/(1<<20))
	if failed.Load() > 0 {
		fmt.Printf(" (%d renders failed)", failed.Load())
	}
	if skipped.Load() > 0 {
		fmt.Printf(" (%d inputs skipped)", skipped.Load())
	}
	fmt.Println()
}

// renderChart renders the chart in dir as `helm template dir [-f
// valuesSet]` does (the chart loaded, the values merged, dependencies
// processed, the values checked against the chart's schema, then Helm's
// engine) and parses what each template rendered. It returns the number
// of documents and the bytes rendered, or why the chart does not render.
func renderChart(dir, valuesSet string) (int64, int64, error) {
	ch, err := loader.LoadDir(dir)
	if err != nil {
		return 0, 0, err
	}
	if ch.Metadata.Type == "library" {
		return 0, 0, nil
	}
	opts := values.Options{}
	if valuesSet != "" {
		opts.ValueFiles = []string{valuesSet}
	}
	vals, err := opts.MergeValues(getter.Providers{})
	if err != nil {
		return 0, 0, err
	}
	// As klint does (and helm template does not): a dependency that is not
	// vendored is left out, and a template that fails is left out and the
	// chart rendered again, so that the floor renders what klint renders.
	have := map[string]bool{}
	for _, d := range ch.Dependencies() {
		have[d.Name()] = true
	}
	deps := ch.Metadata.Dependencies[:0]
	for _, d := range ch.Metadata.Dependencies {
		if have[d.Name] {
			deps = append(deps, d)
		}
	}
	ch.Metadata.Dependencies = deps
	if err := chartutil.ProcessDependencies(ch, vals); err != nil {
		return 0, 0, err
	}
	rv, err := cutil.ToRenderValuesWithSchemaValidation(ch, vals, common.ReleaseOptions{Name: "release-name", Namespace: "default", Revision: 1, IsInstall: true}, common.DefaultCapabilities, false)
	if err != nil {
		return 0, 0, err
	}
	var out map[string]string
	for range 64 {
		if out, err = (engine.Engine{}).Render(ch, rv); err == nil || !leaveOut(ch, err) {
			break
		}
	}
	if err != nil {
		return 0, 0, err
	}
	var n, size int64
	for name, text := range out {
		if strings.HasSuffix(name, "NOTES.txt") {
			continue
		}
		size += int64(len(text))
		n += parse([]byte(text))
	}
	return n, size, nil
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

// failedTemplate finds the template a render error names.
var failedTemplate = regexp.MustCompile(`^(?:template: |execution error at \()?([^:\s]+):\d+`)

// leaveOut empties the template err names, in ch or a subchart, and says
// whether there was one.
func leaveOut(ch *chart.Chart, err error) bool {
	m := failedTemplate.FindStringSubmatch(err.Error())
	if m == nil {
		return false
	}
	var walk func(c *chart.Chart, prefix string) bool
	walk = func(c *chart.Chart, prefix string) bool {
		for _, t := range c.Templates {
			if prefix+t.Name == m[1] && len(t.Data) > 0 {
				t.Data = nil
				return true
			}
		}
		for _, d := range c.Dependencies() {
			if walk(d, prefix+"charts/"+d.Name()+"/") {
				return true
			}
		}
		return false
	}
	return walk(ch, ch.Name()+"/")
}
