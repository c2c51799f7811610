package render

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klint-dev/klint/pkg/helm"
	"github.com/klint-dev/klint/pkg/inputs"
)

// A kustomization whose bases fan out (each level two bases that both
// build on the next two: 2^levels copies) is stopped at the build budget:
// one problem at the kustomization, given when the budget is spent.
func TestKustomizationBuildBudget(t *testing.T) {
	dir := t.TempDir()
	const levels = 9
	write := func(p, s string) {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < levels; i++ {
		for _, s := range []string{"a", "b"} {
			write(filepath.Join(dir, fmt.Sprint("l", i), s, "kustomization.yaml"),
				fmt.Sprintf("resources:\n  - ../../l%d/a\n  - ../../l%d/b\nnamePrefix: %s-\n", i+1, i+1, s))
		}
	}
	for _, s := range []string{"a", "b"} {
		write(filepath.Join(dir, fmt.Sprint("l", levels), s, "kustomization.yaml"), "resources: [cm.yaml]\n")
		write(filepath.Join(dir, fmt.Sprint("l", levels), s, "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-"+s+"}\n")
	}
	write(filepath.Join(dir, "kustomization.yaml"), "resources: [l0/a]\n")
	start := time.Now()
	objs, probs := Func(helm.Options{Timeout: 50 * time.Millisecond})(inputs.Input{Path: dir, Kind: inputs.KustomizationInput})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("returned after %v", d)
	}
	if len(objs) != 0 || len(probs) != 1 || probs[0].File != filepath.Join(dir, "kustomization.yaml") ||
		!strings.Contains(probs[0].Message, "the kustomization took more than 50ms to build, klint's budget for one build (--render-timeout)") {
		t.Errorf("objects %d, problems %v", len(objs), probs)
	}
}

// A chart whose loop writes more than the heap may hold (here a 10 KB
// value 20,000 times, with the ceiling lowered to 64 MiB) is reported
// while it renders: no template function is called that a budget could
// stop, so the CLI is told to stop the run.
func TestRunawayRenderIsReported(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "templates"), 0o755)
	os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: c\nversion: 0.1.0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "values.yaml"), []byte("big: "+strings.Repeat("x", 10_000)+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "templates", "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  a: |\n{{- range until 20000 }}\n    {{ $.Values.big }}\n{{- end }}\n"), 0o644)
	defer func(c uint64) { Ceiling = c }(Ceiling)
	Ceiling = 64 << 20
	got := make(chan string, 1)
	FuncWatched(helm.Options{DefaultsOnly: true}, func(msg string) { got <- msg })(inputs.Input{Path: dir, Kind: inputs.ChartInput})
	select {
	case msg := <-got:
		if !strings.HasPrefix(msg, "the chart "+dir+" was rendering when klint's heap passed 64 MiB") {
			t.Errorf("message %q", msg)
		}
	default:
		t.Error("the render's memory was not reported")
	}
}
