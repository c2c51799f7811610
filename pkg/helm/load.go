package helm

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/klint-dev/klint/pkg/boundary"
	"github.com/klint-dev/klint/pkg/manifest"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/ignore"
)

// loadDir loads the chart in dir as Helm's loader.LoadDir does (the same
// files, .helmignore honoured, symlinks followed), except that a symlink
// that resolves outside b, or to a file that is not regular, is not read:
// each is a problem naming the link, and the chart is loaded without it.
// Helm would follow such a link and give its target to .Files.Get, which
// is how a chart quotes the runner's /proc/self/environ in a report.
func loadDir(b *boundary.Boundary, dir string) (*chart.Chart, []manifest.Problem, error) {
	top, err := filepath.Abs(dir)
	if err != nil {
		return nil, nil, err
	}
	rules := ignore.Empty()
	if data, err := b.ReadFile(filepath.Join(top, ignore.HelmIgnore), 0); err == nil {
		if rules, err = ignore.Parse(bytes.NewReader(data)); err != nil {
			return nil, nil, err
		}
	}
	rules.AddDefaults()
	var files []*archive.BufferedFile
	var probs []manifest.Problem
	refuse := func(path, msg string) {
		probs = append(probs, manifest.Problem{Kind: manifest.RenderFailed, File: path, Pos: manifest.Position{Line: 1, Column: 1}, Message: msg})
	}
	budget := archive.MaxDecompressedChartSize
	visited := map[string]bool{}
	// real is disk with its links resolved: worked out from the parent's
	// for a plain directory, so that only a link costs a resolution.
	var walk func(disk, real, name string) error
	walk = func(disk, real, name string) error {
		if visited[real] {
			return nil // a link back to a directory already loaded
		}
		visited[real] = true
		ents, err := os.ReadDir(disk)
		if err != nil {
			return err
		}
		sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
		for _, e := range ents {
			p := filepath.Join(disk, e.Name())
			n := e.Name()
			if name != "" {
				n = name + "/" + e.Name()
			}
			childReal := filepath.Join(real, e.Name())
			var fi os.FileInfo
			var err error
			if e.Type()&os.ModeSymlink != 0 {
				shown := filepath.Join(dir, filepath.FromSlash(n)) // as the user named the chart
				if err := b.Check(shown); err != nil {
					refuse(shown, "chart file not read: "+err.Error())
					continue
				}
				if childReal, err = filepath.EvalSymlinks(p); err == nil {
					fi, err = os.Stat(p)
				}
			} else {
				fi, err = e.Info() // not a link: its own lstat is its stat
			}
			if err != nil {
				refuse(filepath.Join(dir, filepath.FromSlash(n)), "chart file cannot be read: "+err.Error())
				continue
			}
			if fi.IsDir() {
				if rules.Ignore(n, fi) {
					continue
				}
				if err := walk(p, childReal, n); err != nil {
					return err
				}
				continue
			}
			if rules.Ignore(n, fi) {
				continue
			}
			if !fi.Mode().IsRegular() {
				refuse(filepath.Join(dir, filepath.FromSlash(n)), "chart file not read: it is not a regular file")
				continue
			}
			if fi.Size() > budget {
				return fmt.Errorf("chart is larger than %d bytes", archive.MaxDecompressedChartSize)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return fmt.Errorf("error reading %s: %w", n, err)
			}
			budget -= int64(len(data))
			files = append(files, &archive.BufferedFile{Name: n, ModTime: fi.ModTime(), Data: bytes.TrimPrefix(data, utf8BOM)})
		}
		return nil
	}
	topReal, err := filepath.EvalSymlinks(top)
	if err != nil {
		return nil, nil, err
	}
	if err := walk(top, topReal, ""); err != nil {
		return nil, probs, err
	}
	ch, err := loader.LoadFiles(files)
	return ch, probs, err
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// shared is what the renders of one chart (its values sets) share: the
// chart as loaded, its Chart.yaml, and what depends on a template's text
// alone (its marks, what it hands to tpl). Each render takes a copy of the
// loaded chart, since processing dependencies and rendering change it.
type shared struct {
	boundary *boundary.Boundary
	dir      string

	once      sync.Once
	ch        *chart.Chart
	refused   []manifest.Problem
	err       error
	chartYAML []byte

	mu    sync.Mutex
	marks map[markKey]marked
	edges map[string][]string // by template text
	// values are the values files read for positions, by path, with the
	// text each was parsed from: the chart's values.yaml, in every
	// render, is parsed once.
	values map[string]sharedValues
}

type sharedValues struct {
	data []byte
	src  *valuesSource
}

type markKey struct {
	path string
	id   int
}

type marked struct {
	data, marked []byte
	inserts      []int
}

// load loads the chart once, and returns a copy of it for one render.
func (s *shared) load() (*chart.Chart, []manifest.Problem, error) {
	s.once.Do(func() {
		s.ch, s.refused, s.err = loadDir(s.boundary, s.dir)
		s.chartYAML, _ = s.boundary.ReadFile(filepath.Join(s.dir, "Chart.yaml"), 0)
	})
	if s.err != nil {
		return nil, s.refused, s.err
	}
	return cloneChart(s.ch), s.refused, nil
}

// mark is mark(t.data, t.id), made once per template text and id.
func (s *shared) mark(t *template) {
	k := markKey{t.path, t.id}
	s.mu.Lock()
	m, ok := s.marks[k]
	s.mu.Unlock()
	if ok && bytes.Equal(m.data, t.data) {
		t.marked, t.inserts = m.marked, m.inserts
		return
	}
	t.marked, t.inserts = mark(t.data, t.id)
	s.mu.Lock()
	if s.marks == nil {
		s.marks = map[markKey]marked{}
	}
	s.marks[k] = marked{t.data, t.marked, t.inserts}
	s.mu.Unlock()
}

// tplEdges is tplEdges(text), found once per text.
func (s *shared) tplEdges(text string) []string {
	s.mu.Lock()
	e, ok := s.edges[text]
	s.mu.Unlock()
	if ok {
		return e
	}
	e = tplEdges(text)
	s.mu.Lock()
	if s.edges == nil {
		s.edges = map[string][]string{}
	}
	s.edges[text] = e
	s.mu.Unlock()
	return e
}

// valuesSource is the values file at path, whose text is data, to be
// parsed (once) when a position is asked of it. A nil s shares nothing.
func (s *shared) valuesSource(path string, data []byte) *valuesSource {
	if s == nil {
		return &valuesSource{data: data}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.values[path]; ok && bytes.Equal(v.data, data) {
		return v.src
	}
	src := &valuesSource{data: data}
	if s.values == nil {
		s.values = map[string]sharedValues{}
	}
	s.values[path] = sharedValues{data, src}
	return src
}

// cloneChart copies a loaded chart and its subcharts deeply enough that
// a render may change the copy: its metadata and dependencies' entries,
// its values, its templates' File structs (the bytes are shared: nothing
// writes into them), and the subcharts, each under its copied parent.
func cloneChart(c *chart.Chart) *chart.Chart {
	n := *c
	if c.Metadata != nil {
		md := *c.Metadata
		if md.Dependencies != nil {
			md.Dependencies = make([]*chart.Dependency, len(c.Metadata.Dependencies))
			for i, d := range c.Metadata.Dependencies {
				if d != nil {
					cp := *d
					md.Dependencies[i] = &cp
				}
			}
		}
		n.Metadata = &md
	}
	n.Templates = make([]*common.File, len(c.Templates))
	for i, f := range c.Templates {
		cp := *f
		n.Templates[i] = &cp
	}
	n.Values, _ = copyValue(c.Values).(map[string]any)
	deps := make([]*chart.Chart, len(c.Dependencies()))
	for i, d := range c.Dependencies() {
		deps[i] = cloneChart(d)
	}
	n.SetDependencies(deps...)
	return &n
}

// copyValue copies the maps and slices of a values tree.
func copyValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if v == nil {
			return v
		}
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = copyValue(x)
		}
		return out
	case common.Values:
		return common.Values(copyValue(map[string]any(v)).(map[string]any))
	case []any:
		if v == nil {
			return v
		}
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = copyValue(x)
		}
		return out
	}
	return v
}
