package helm

import (
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/klint-dev/klint/pkg/inputs"
	"helm.sh/helm/v4/pkg/chart/common"
	cutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
)

// corpusCharts lists the charts of ../shared/corpus-helm, or skips the
// benchmark where the corpus is absent.
func corpusCharts(b *testing.B) []string {
	dir := "../../../shared/corpus-helm/prometheus-community"
	if d := os.Getenv("BENCH_CHARTS"); d != "" {
		dir = d
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		b.Skip("no chart corpus at " + dir)
	}
	var out []string
	for _, e := range ents {
		if inputs.IsChart(filepath.Join(dir, e.Name())) {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out
}

// eachChart runs f on every chart on all cores, as klint does.
func eachChart(charts []string, f func(string)) {
	var wg sync.WaitGroup
	work := make(chan string)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				f(c)
			}
		}()
	}
	for _, c := range charts {
		work <- c
	}
	close(work)
	wg.Wait()
}

// BenchmarkHelmFloor is what any linter built on the Helm SDK pays before
// it looks at a single object: load each chart and render it once with
// its default values, on all cores.
func BenchmarkHelmFloor(b *testing.B) {
	charts := corpusCharts(b)
	for b.Loop() {
		eachChart(charts, func(dir string) {
			ch, err := loader.LoadDir(dir)
			if err != nil {
				return
			}
			ch.Metadata.Dependencies = nil
			if chartutil.ProcessDependencies(ch, map[string]any{}) != nil {
				return
			}
			rv, err := cutil.ToRenderValues(ch, map[string]any{}, common.ReleaseOptions{Name: "release-name", Namespace: "default", IsInstall: true}, common.DefaultCapabilities)
			if err == nil {
				engine.Engine{}.Render(ch, rv)
			}
		})
	}
}

// BenchmarkRenderDefaults is klint's rendering of the same charts with
// default values: both renders, the line maps and parsing.
func BenchmarkRenderDefaults(b *testing.B) {
	charts := corpusCharts(b)
	for b.Loop() {
		eachChart(charts, func(dir string) { Render(dir, Options{DefaultsOnly: true}) })
	}
}
