// Package helm renders Helm charts in-process with the Helm SDK and maps
// every line of the rendered output back to the template line (or named
// template in _helpers.tpl) that produced it. It is the only package that
// imports helm.sh/helm.
//
// The mapping cannot change what is rendered: each chart is rendered once
// with a marker comment at the end of every template line whose line
// break reaches the output, and the markers are stripped from the output.
// Where a template computes with rendered text (what include and tpl
// return, piped into trunc or sha256sum, compared, kept in a variable),
// the marked template strips the markers first (see mark), so the
// stripped render is the plain render. Text that tpl renders from the
// values cannot be rewritten: when it computes with an include, the chart
// is rendered twice, plain and marked, and the two are aligned line by
// line (see newLineMap); lines that differ are approximate.
package helm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klint-dev/klint/pkg/boundary"
	"github.com/klint-dev/klint/pkg/manifest"
	yaml "go.yaml.in/yaml/v3"
	"helm.sh/helm/v4/pkg/chart/common"
	cutil "helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
)

// DefaultValuesSets is the chart-testing convention: each file matching it
// is a values set the chart is rendered with, beside its default values.
const DefaultValuesSets = "ci/*-values.yaml"

// Options are how charts are rendered: Helm's own flags, and the values
// sets convention.
type Options struct {
	// ValueFiles, Values, StringValues and FileValues are -f/--values,
	// --set, --set-string and --set-file. When any is given, the chart is
	// rendered once, with them, instead of once per values set.
	ValueFiles   []string
	Values       []string
	StringValues []string
	FileValues   []string
	// ReleaseName and Namespace default to helm template's "release-name"
	// and "default".
	ReleaseName string
	Namespace   string
	// KubeVersion is the target Kubernetes version (".Capabilities.KubeVersion").
	KubeVersion string
	// ValuesSets is a glob, relative to the chart, of values files to
	// render the chart with in turn (default DefaultValuesSets).
	ValuesSets string
	// DefaultsOnly renders the chart once, with its default values.
	DefaultsOnly bool
	// Timeout is how long one values set may take to render (default
	// DefaultTimeout); a render over it is a problem at the chart.
	Timeout time.Duration
	// Watch, when set, is told of each values set's render as it starts,
	// with a channel closed when the render ends (also when it ends after
	// its budget, left behind).
	Watch func(what string, done <-chan struct{})
	// Boundary is what a chart may read: a chart file or values set that
	// resolves outside it is a problem, not read (nil: the repository
	// root of the chart).
	Boundary *boundary.Boundary
}

func (o Options) explicit() bool {
	return len(o.ValueFiles)+len(o.Values)+len(o.StringValues)+len(o.FileValues) > 0
}

// Render renders the chart in dir with its default values and once more
// per values set (or once with the explicit values of opts), and returns
// the objects with their positions mapped to the chart's files, and every
// problem met on the way. One broken template does not hide the others:
// it is reported and left out, and the rest of the chart is rendered.
func Render(dir string, opts Options) ([]*manifest.Object, []manifest.Problem) {
	dir = filepath.Clean(dir)
	if opts.Boundary == nil {
		opts.Boundary = boundary.ForPaths(dir)
	}
	if opts.ReleaseName == "" {
		opts.ReleaseName = "release-name"
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	type set struct {
		name  string // render name
		files []string
	}
	sets := []set{{name: dir}}
	var refused []manifest.Problem
	if opts.explicit() {
		sets[0].files = opts.ValueFiles
		if len(opts.ValueFiles) > 0 {
			sets[0].name = dir + " with " + strings.Join(opts.ValueFiles, ", ")
		}
	} else if !opts.DefaultsOnly {
		glob := opts.ValuesSets
		if glob == "" {
			glob = DefaultValuesSets
		}
		matches, _ := filepath.Glob(filepath.Join(dir, glob))
		sort.Strings(matches)
		for _, m := range matches {
			if err := opts.Boundary.Check(m); err != nil {
				refused = append(refused, manifest.Problem{Kind: manifest.RenderFailed, File: m, Pos: manifest.Position{Line: 1, Column: 1}, Message: "values set not read: " + err.Error(), Render: dir})
				continue
			}
			rel, _ := filepath.Rel(dir, m)
			sets = append(sets, set{name: dir + " with " + filepath.ToSlash(rel), files: []string{m}})
		}
	}
	var objs []*manifest.Object
	probs := refused
	// The values sets render in parallel (each loads its own copy of the
	// chart: processing dependencies changes it); results keep set order.
	type result struct {
		objs  []*manifest.Object
		probs []manifest.Problem
	}
	results := make([]result, len(sets))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	sh := &shared{boundary: opts.Boundary, dir: dir}
	for i, s := range sets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			// The budget starts when the set's turn does. A render
			// over it is left behind: its template functions fail from
			// then on, which ends most; one that calls none runs on, but
			// its result is not waited for.
			ctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			r := &renderer{dir: dir, render: s.name, opts: opts, valueFiles: s.files, guard: &guard{ctx: ctx}, shared: sh}
			done := make(chan struct{})
			go func() {
				defer close(done)
				r.objs, r.probs = r.run()
			}()
			if opts.Watch != nil {
				opts.Watch("the chart "+s.name, done)
			}
			select {
			case <-done:
				if ctx.Err() == nil {
					results[i].objs, results[i].probs = r.objs, r.probs
					return
				}
			case <-ctx.Done():
			}
			results[i].probs = []manifest.Problem{{Kind: manifest.RenderFailed, File: filepath.Join(dir, "Chart.yaml"), Pos: manifest.Position{Line: 1, Column: 1},
				Message: fmt.Sprintf("the chart took more than %v to render, klint's budget for one values set (--render-timeout); its objects are not linted", timeout), Render: s.name}}
		}()
	}
	wg.Wait()
	for _, r := range results {
		objs = append(objs, r.objs...)
		probs = append(probs, r.probs...)
	}
	return objs, probs
}

type renderer struct {
	dir        string
	render     string
	opts       Options
	valueFiles []string
	probs      []manifest.Problem
	chartYAML  []byte
	guard      *guard
	shared     *shared            // with the chart's other renders
	objs       []*manifest.Object // what run returned, once it has
}

// engine is Helm's template engine with the render's budget in its
// functions, and, marked, the function that strips marks.
func (r *renderer) engine(marked bool) engine.Engine {
	g := r.guard
	if g == nil {
		g = &guard{ctx: context.Background()}
	}
	funcs := g.funcs()
	if marked {
		funcs[unmarkFunc] = unmark
	}
	return engine.Engine{CustomTemplateFuncs: funcs}
}

func (r *renderer) problem(file string, pos manifest.Position, msg string) {
	r.probs = append(r.probs, manifest.Problem{Kind: manifest.RenderFailed, File: file, Pos: pos, Message: msg, Render: r.render})
}

func (r *renderer) chartFile() string { return filepath.Join(r.dir, "Chart.yaml") }

func (r *renderer) run() ([]*manifest.Object, []manifest.Problem) {
	ch, refused, err := r.shared.load()
	for _, p := range refused {
		p.Render = r.render
		r.probs = append(r.probs, p)
	}
	if err != nil {
		r.problem(r.chartFile(), manifest.Position{Line: 1, Column: 1}, "chart cannot be loaded: "+err.Error())
		return nil, r.probs
	}
	r.chartYAML = r.shared.chartYAML
	if ch.Metadata.Type == "library" {
		return nil, nil // a library chart renders nothing of its own
	}
	vals, err := mergeValues(r.valueFiles, r.opts.Values, r.opts.StringValues, r.opts.FileValues)
	if err != nil {
		r.problem(r.chartFile(), manifest.Position{Line: 1, Column: 1}, "values cannot be read: "+err.Error())
		return nil, r.probs
	}
	r.missingDependencies(ch, vals)
	if err := chartutil.ProcessDependencies(ch, vals); err != nil {
		r.problem(r.chartFile(), manifest.Position{Line: 1, Column: 1}, "chart dependencies: "+err.Error())
		return nil, r.probs
	}
	caps := common.DefaultCapabilities.Copy()
	if kv, err := common.ParseKubeVersion("v" + strings.TrimPrefix(r.opts.KubeVersion, "v")); err == nil && r.opts.KubeVersion != "" {
		caps.KubeVersion = *kv
	}
	if ch.Metadata.KubeVersion != "" && !chartutil.IsCompatibleRange(ch.Metadata.KubeVersion, caps.KubeVersion.String()) {
		r.problem(r.chartFile(), r.chartKeyPos("kubeVersion"), fmt.Sprintf("chart requires kubeVersion %s, which does not include the target Kubernetes %s", ch.Metadata.KubeVersion, caps.KubeVersion.Version))
		return nil, r.probs
	}
	rv, err := cutil.ToRenderValuesWithSchemaValidation(ch, vals, common.ReleaseOptions{
		Name: r.opts.ReleaseName, Namespace: r.opts.Namespace, Revision: 1, IsInstall: true,
	}, caps, false)
	if err != nil {
		r.problem(r.chartFile(), manifest.Position{Line: 1, Column: 1}, "values do not fit the chart: "+err.Error())
		return nil, r.probs
	}

	src := collectTemplates(r.opts.Boundary, r.shared, ch, r.dir, r.valueFiles)
	for _, t := range src {
		r.shared.mark(t)
	}
	// One render, marked, is enough when no mark can reach a value the
	// templates compute with (mark sees to it in the templates; text that
	// tpl renders is checked here). Otherwise the chart is rendered as
	// helm renders it, and once more marked, and the two are aligned.
	if cycle := tplCycle(ch, rv, r.shared.tplEdges); cycle != "" {
		r.problem(r.chartFile(), manifest.Position{Line: 1, Column: 1}, "the chart renders with tpl a text that renders itself ("+cycle+"), which never ends; its objects are not linted")
		return nil, r.probs
	}
	twice := tplCapturesMarks(ch, rv)
	var plain, marked map[string]string
	if twice {
		plain = r.renderDropping(ch, rv, src, false)
	}
	if !twice || plain != nil {
		for _, t := range src {
			if len(t.file.Data) > 0 { // not emptied for failing
				t.file.Data = t.marked
			}
		}
		if twice {
			var err error
			if marked, err = r.engine(true).Render(ch, rv); err != nil {
				marked = map[string]string{} // every position approximate
			}
		} else {
			marked = r.renderDropping(ch, rv, src, true)
		}
		for _, t := range src {
			if len(t.file.Data) > 0 {
				t.file.Data = t.data
			}
		}
	}
	var objs []*manifest.Object
	rendered := marked
	if twice {
		rendered = plain
	}
	size := 0
	names := make([]string, 0, len(rendered))
	for n, out := range rendered {
		names = append(names, n)
		size += len(out)
	}
	if size > MaxOutput {
		r.problem(r.chartFile(), manifest.Position{Line: 1, Column: 1}, fmt.Sprintf("the chart renders %d bytes, over klint's budget of %d for one values set; its objects are not linted", size, MaxOutput))
		return nil, r.probs
	}
	sort.Strings(names)
	byName := map[string]*template{}
	layout := sha256.New() // the templates marks name by id
	for _, t := range src {
		byName[t.name] = t
		io.WriteString(layout, t.path+"\x00")
	}
	srcSum := layout.Sum(nil)
	for _, name := range names {
		if strings.HasSuffix(name, "NOTES.txt") {
			continue // helm template does not print NOTES.txt
		}
		t := byName[name]
		if t == nil {
			continue
		}
		var m *lineMap
		var out string
		if twice {
			m, out = newLineMap(t, plain[name], marked[name], src, r)
		} else {
			m, out = exactLineMap(t, marked[name], src, r)
		}
		if m == nil {
			continue
		}
		o, p := manifest.Parse(t.path, []byte(out))
		alike := alikeKey(srcSum, t, plain[name], marked[name])
		for k, x := range o {
			x.InRender(r.render)
			x.Mapper = m
			r.assumeReleaseNamespace(x, m)
			x.Alike = alike + "/" + strconv.Itoa(k)
		}
		for _, x := range p {
			if x.Kind == manifest.EmptyDocument {
				continue // templates that render nothing for a document are normal
			}
			loc, _ := m.at(x.Pos, "")
			x.File, x.Pos, x.Render = loc.File, manifest.Position{Line: loc.Line, Column: loc.Column}, r.render
			x.Message = "rendered output: " + x.Message
			r.probs = append(r.probs, x)
		}
		objs = append(objs, o...)
	}
	return objs, r.probs
}

// alikeKey names what a template rendered: two renders of a chart
// (values sets) whose template t wrote the same text, plain and marked,
// over the same templates (marks name a template by its place among
// them), give objects alike in every position and assumption. The values
// files are not in it: they only add related locations, which a finding
// reported by several renders takes from the first.
func alikeKey(srcSum []byte, t *template, plain, marked string) string {
	h := sha256.New()
	h.Write(srcSum)
	for _, s := range []string{t.path, t.name, plain, marked} {
		io.WriteString(h, s)
		h.Write([]byte{0})
	}
	return string(h.Sum(nil))
}

// assumeReleaseNamespace marks metadata.namespace as chosen at deploy time
// when the template computes it rather than writing it or reading it from
// the values: .Release.Namespace, a namespace helper, a variable a helper
// was given. The namespace klint renders with (helm template's "default")
// is then klint's assumption, not the chart's choice, and findings about
// it would be about klint.
func (r *renderer) assumeReleaseNamespace(o *manifest.Object, m *lineMap) {
	if o.Namespace != r.opts.Namespace {
		return
	}
	pos, exact := o.Pos("metadata.namespace")
	if !exact {
		return
	}
	k := pos.Line - 1
	if k < 0 || k >= len(m.lines) {
		return
	}
	ls := m.lines[k]
	t := m.src[ls.tmpl]
	if ls.line-1 >= len(t.lines) {
		return
	}
	line := t.lines[ls.line-1]
	if !bytes.Contains(line, []byte("{{")) || bytes.Contains(line, []byte(`"`+r.opts.Namespace+`"`)) {
		return // written literally
	}
	// A values key the line reads that the values set decides it.
	for _, ref := range valuesRef.FindAllSubmatch(line, -1) {
		keys := strings.Split(strings.TrimPrefix(string(ref[1]), "."), ".")
		// The last file that has the key decides (a null there unsets it).
		for i := len(t.values) - 1; i >= 0; i-- {
			if n := t.values[i].node(keys); n != nil {
				if n.Kind != yaml.ScalarNode || (n.Value != "" && n.ShortTag() != "!!null") {
					return
				}
				break
			}
		}
	}
	o.Assumed = append(o.Assumed, "metadata.namespace")
}

// tplCapturesMarks reports whether a text that templates may render with
// tpl (a string of the values, a file of the chart or a subchart) uses
// include or tpl where marks would reach a computed value.
func tplCapturesMarks(ch *chart.Chart, rv common.Values) bool {
	var walk func(v any) bool
	walk = func(v any) bool {
		switch v := v.(type) {
		case string:
			return strings.Contains(v, "{{") && capturesMarks([]byte(v))
		case map[string]any:
			for _, x := range v {
				if walk(x) {
					return true
				}
			}
		case common.Values:
			return walk(map[string]any(v))
		case []any:
			for _, x := range v {
				if walk(x) {
					return true
				}
			}
		}
		return false
	}
	if walk(rv["Values"]) {
		return true
	}
	var files func(c *chart.Chart) bool
	files = func(c *chart.Chart) bool {
		for _, f := range c.Files {
			if bytes.Contains(f.Data, []byte("{{")) && capturesMarks(f.Data) {
				return true
			}
		}
		for _, d := range c.Dependencies() {
			if files(d) {
				return true
			}
		}
		return false
	}
	return files(ch)
}

// unmarkedColumn is the column in the template as written of a position
// in its marked text.
func (t *template) unmarkedColumn(pos manifest.Position) int {
	lineStart := 0
	for l := 1; l < pos.Line; l++ {
		i := bytes.IndexByte(t.data[lineStart:], '\n')
		if i < 0 {
			return pos.Column
		}
		lineStart += i + 1
	}
	lineEnd := len(t.data)
	if i := bytes.IndexByte(t.data[lineStart:], '\n'); i >= 0 {
		lineEnd = lineStart + i
	}
	col, k := pos.Column, 0
	for _, o := range t.inserts {
		if o < lineStart || o > lineEnd {
			continue
		}
		at := o - lineStart + 1 + k*len(unmarkCall) // the call's column, marked
		if pos.Column > at {
			col = max(col-len(unmarkCall), o-lineStart+1)
		}
		k++
	}
	return col
}

// renderDropping renders the chart; a template that fails to parse or to
// execute is reported at its line and left out, and the rest rendered
// again, so that independent problems are all reported in one run.
// Marked, the templates' marks are left out of the message and the
// columns are those of the templates as written.
func (r *renderer) renderDropping(ch *chart.Chart, rv common.Values, src []*template, marked bool) map[string]string {
	e := r.engine(marked)
	for range 64 {
		out, err := e.Render(ch, rv)
		if err == nil {
			return out
		}
		text := err.Error()
		if marked {
			text = unmark(text)
		}
		failed, file, pos, msg := parseRenderError(text)
		if failed == "" {
			r.problem(r.chartFile(), manifest.Position{Line: 1, Column: 1}, "chart cannot be rendered: "+err.Error())
			return nil
		}
		var t *template
		for _, s := range src {
			if s.name == file {
				t = s
			}
		}
		loc := r.chartFile()
		if t != nil {
			loc = t.path
			if marked {
				pos.Column = t.unmarkedColumn(pos)
			}
		} else {
			pos = manifest.Position{Line: 1, Column: 1}
		}
		r.problem(loc, pos, redactValues(msg, src))
		if !emptyTemplate(ch, failed) {
			return nil
		}
	}
	return nil
}

var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// redactValues hides quoted text in a render error that the chart's
// templates do not contain: Helm's and Go's messages quote the values they
// failed on (strconv's `parsing "hunter2"`), and values may be secrets.
// Text written in a template (required's message, a template name) stays.
func redactValues(msg string, src []*template) string {
	return quoted.ReplaceAllStringFunc(msg, func(q string) string {
		inner := q[1 : len(q)-1]
		if inner == "" || inner == "gotpl" { // gotpl: the engine's root template
			return q
		}
		for _, t := range src {
			if bytes.Contains(t.data, []byte(inner)) || strings.HasSuffix(t.name, inner) {
				return q
			}
		}
		return "(value not shown)"
	})
}

// emptyTemplate empties the template with the rendered name
// (chart/…/templates/x) in the chart or the subchart that holds it. Emptied
// rather than removed, a template that others include (a checksum of
// secrets.yaml) leaves them rendering. It reports false when there was
// nothing left to empty.
func emptyTemplate(ch *chart.Chart, name string) bool {
	var walk func(c *chart.Chart, prefix string) bool
	walk = func(c *chart.Chart, prefix string) bool {
		for _, t := range c.Templates {
			if path.Join(prefix, t.Name) == name {
				if len(t.Data) == 0 {
					return false
				}
				t.Data = nil
				return true
			}
		}
		for _, d := range c.Dependencies() {
			if walk(d, path.Join(prefix, "charts", d.Name())) {
				return true
			}
		}
		return false
	}
	return walk(ch, ch.Name())
}

// renderErrLoc finds "name:line" or "name:line:col" after "template: " or
// "at (" in Helm's error messages.
var renderErrLoc = regexp.MustCompile(`(?m)(?:^\s*|template: |error at \(|error in \(|started at )([^\s:()"<>]+/[^\s:()"<>]+):(\d+)(?::(\d+))?`)

// parseRenderError returns the template whose rendering failed (the first
// location in the message), the template and position where the failing
// code is (the last location: inside an included named template, that is
// the helper's line), and the message without Helm's location prefixes.
func parseRenderError(s string) (failed, file string, pos manifest.Position, msg string) {
	ms := renderErrLoc.FindAllStringSubmatch(s, -1)
	if len(ms) == 0 {
		return "", "", manifest.Position{}, s
	}
	failed = ms[0][1]
	last := ms[len(ms)-1]
	file = last[1]
	line, _ := strconv.Atoi(last[2])
	col := 1
	if last[3] != "" {
		col, _ = strconv.Atoi(last[3])
	}
	// Helm writes a trace, one location per line, with the cause last.
	msg = strings.TrimSpace(s)
	if i := strings.LastIndex(msg, "\n"); i >= 0 {
		msg = strings.TrimSpace(msg[i+1:])
	}
	if i := strings.LastIndex(msg, "): "); i >= 0 {
		msg = msg[i+3:]
	}
	if i := strings.LastIndex(msg, "error calling "); i >= 0 {
		msg = msg[i+len("error calling "):]
	}
	msg = strings.TrimPrefix(msg, "template: ")
	if strings.HasPrefix(s, "parse error") {
		msg = "template does not parse: " + msg
	} else {
		msg = "template failed: " + msg
	}
	return failed, file, manifest.Position{Line: max(line, 1), Column: max(col, 1)}, strings.TrimSpace(msg)
}

// missingDependencies reports each dependency of Chart.yaml that is not
// vendored under charts/ (and whose condition does not turn it off), at
// its line, and takes it out of the chart's metadata so the rest renders.
func (r *renderer) missingDependencies(ch *chart.Chart, vals map[string]any) {
	have := map[string]bool{}
	for _, d := range ch.Dependencies() {
		have[d.Name()] = true
	}
	var keep []*chart.Dependency
	for _, d := range ch.Metadata.Dependencies {
		if have[d.Name] {
			keep = append(keep, d)
			continue
		}
		if off, _ := conditionFalse(ch, vals, d); off {
			continue
		}
		r.problem(r.chartFile(), r.dependencyPos(d.Name),
			fmt.Sprintf("dependency %q (%s %s) is not vendored under charts/; run `helm dependency build %s` (the chart is linted without it)", d.Name, d.Repository, d.Version, r.dir))
	}
	ch.Metadata.Dependencies = keep
}

// conditionFalse evaluates a dependency's condition (the first path that
// is set, as Helm does) against the chart's values and the user's.
func conditionFalse(ch *chart.Chart, vals map[string]any, d *chart.Dependency) (bool, bool) {
	if d.Condition == "" {
		return false, false
	}
	merged, err := cutil.CoalesceValues(ch, vals)
	if err != nil {
		return false, false
	}
	for _, c := range strings.Split(d.Condition, ",") {
		v, err := merged.PathValue(strings.TrimSpace(c))
		if err != nil {
			continue
		}
		if b, ok := v.(bool); ok {
			return !b, true
		}
	}
	return false, false
}

// dependencyPos is the line of "- name: X" under dependencies in Chart.yaml.
func (r *renderer) dependencyPos(name string) manifest.Position {
	var root yaml.Node
	if yaml.Unmarshal(r.chartYAML, &root) != nil || len(root.Content) == 0 {
		return manifest.Position{Line: 1, Column: 1}
	}
	deps := manifest.MapValue(root.Content[0], "dependencies")
	if deps != nil {
		for _, it := range deps.Content {
			if n := manifest.MapValue(it, "name"); n != nil && n.Value == name {
				return manifest.Position{Line: it.Line, Column: it.Column}
			}
		}
		return manifest.Position{Line: deps.Line, Column: deps.Column}
	}
	return manifest.Position{Line: 1, Column: 1}
}

func (r *renderer) chartKeyPos(key string) manifest.Position {
	var root yaml.Node
	if yaml.Unmarshal(r.chartYAML, &root) == nil && len(root.Content) > 0 {
		n := root.Content[0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return manifest.Position{Line: n.Content[i].Line, Column: n.Content[i].Column}
			}
		}
	}
	return manifest.Position{Line: 1, Column: 1}
}

// template is one template file of the chart or a subchart.
type template struct {
	id   int
	name string // as the engine names it: chart/templates/x.yaml
	path string // on disk, or inside a .tgz subchart
	file *common.File
	data []byte
	// marked is data with marks (see mark); inserts are the offsets of
	// data where mark wrote unmarkCall.
	marked  []byte
	inserts []int
	values  []valuesFile // the values files its .Values come from, last wins
	lines   [][]byte
}

// collectTemplates lists every template of the chart and its subcharts,
// with the path a person edits and the values files its .Values read: a
// subchart's own values.yaml, then its parents' files under the
// subchart's key, which override it as Helm coalesces them. userFiles are
// the -f files, over the chart's values.yaml.
func collectTemplates(b *boundary.Boundary, sh *shared, ch *chart.Chart, dir string, userFiles []string) []*template {
	var out []*template
	var top []valuesFile
	if vf := loadValuesFile(b, sh, filepath.Join(dir, "values.yaml"), false, ch); vf != nil {
		top = append(top, *vf)
	}
	for _, f := range userFiles {
		if vf := loadValuesFile(b, sh, f, false, nil); vf != nil {
			top = append(top, *vf)
		}
	}
	var walk func(c *chart.Chart, prefix, diskDir string, archived bool, vals []valuesFile)
	walk = func(c *chart.Chart, prefix, diskDir string, archived bool, vals []valuesFile) {
		for _, f := range c.Templates {
			t := &template{id: len(out), name: path.Join(prefix, f.Name), file: f, data: f.Data, values: vals}
			t.path = filepath.Join(diskDir, filepath.FromSlash(f.Name))
			if archived {
				t.path = diskDir + ":" + f.Name
			}
			t.lines = bytes.Split(f.Data, []byte("\n"))
			out = append(out, t)
		}
		for _, d := range c.Dependencies() {
			sub := filepath.Join(diskDir, "charts", d.Name())
			subArchived := archived
			if !archived {
				if st, err := os.Stat(sub); err != nil || !st.IsDir() {
					if m, _ := filepath.Glob(filepath.Join(diskDir, "charts", d.Name()+"-*.tgz")); len(m) > 0 {
						sub, subArchived = m[0], true
					}
				}
			}
			var subVals []valuesFile
			if vf := loadValuesFile(b, sh, filepath.Join(sub, "values.yaml"), subArchived, d); vf != nil {
				subVals = append(subVals, *vf)
			}
			for _, v := range vals {
				v.prefix = append(append([]string{}, v.prefix...), d.Name())
				subVals = append(subVals, v)
			}
			walk(d, path.Join(prefix, "charts", d.Name()), sub, subArchived, subVals)
		}
	}
	walk(ch, ch.Name(), dir, false, top)
	return out
}

// valuesFile is a values file parsed, when a position is first asked
// for, for the positions of its keys.
type valuesFile struct {
	path   string
	src    *valuesSource
	prefix []string // the subchart keys its values sit under, for a parent's file
}

// valuesSource is one values file's text and, once parsed, its root.
type valuesSource struct {
	once sync.Once
	data []byte
	root *yaml.Node
}

func (s *valuesSource) parsed() *yaml.Node {
	s.once.Do(func() {
		var root yaml.Node
		if yaml.Unmarshal(s.data, &root) == nil && len(root.Content) > 0 {
			s.root = root.Content[0]
		}
		s.data = nil
	})
	return s.root
}

func loadValuesFile(b *boundary.Boundary, sh *shared, p string, archived bool, c *chart.Chart) *valuesFile {
	var data []byte
	if archived {
		for _, f := range c.Raw {
			if f.Name == "values.yaml" {
				data = f.Data
			}
		}
	} else {
		var err error
		if data, err = b.ReadFile(p, 0); err != nil {
			return nil
		}
	}
	if len(data) == 0 {
		return nil
	}
	return &valuesFile{path: p, src: sh.valuesSource(p, data)}
}

// keyPos finds a dotted key path (image.tag) in the values file.
func (v valuesFile) keyPos(keys []string) (manifest.Position, bool) {
	key, _ := v.lookup(keys)
	if key == nil {
		return manifest.Position{}, false
	}
	return manifest.Position{Line: key.Line, Column: key.Column}, true
}

// node is the value of a dotted key path in the values file, or nil.
func (v valuesFile) node(keys []string) *yaml.Node {
	_, val := v.lookup(keys)
	return val
}

func (v valuesFile) lookup(keys []string) (key, val *yaml.Node) {
	n := v.src.parsed()
	for _, k := range append(append([]string{}, v.prefix...), keys...) {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil, nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				key, next = n.Content[i], n.Content[i+1]
			}
		}
		if next == nil {
			return nil, nil
		}
		n = next
	}
	return key, n
}
