package helm

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	gotemplate "text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
)

// A chart comes from the repository being linted, which may be a
// stranger's pull request, and its templates are a program: a render is
// given a budget, and going over it is a problem at the chart, not a
// runner that works for minutes or runs out of memory.
const (
	// DefaultTimeout is how long one chart (every values set) may take
	// to render.
	DefaultTimeout = 10 * time.Second
	// MaxOutput is how much one values set may render, in bytes.
	MaxOutput = 64 << 20
	// maxSequence is how many elements until, untilStep and seq may make
	// in one render, together (a loop over until 100000000 would take
	// gigabytes before it printed a line).
	maxSequence = 1_000_000
	// maxRepeat is how long a string repeat may make.
	maxRepeat = 1 << 20
)

// guard holds one render's budget. Its functions replace the template
// functions that make large values from small input, and check that the
// render has not gone over its time, so that one that did stops at its
// next call.
type guard struct {
	ctx  context.Context
	made atomic.Int64 // sequence elements made so far
}

// sprigFuncs are the functions guard wraps, made when a chart is first
// rendered rather than when klint starts.
var sprigFuncs = sync.OnceValue(sprig.TxtFuncMap)

func (g *guard) take(fn string, n int64) error {
	if err := g.ctx.Err(); err != nil {
		return fmt.Errorf("the render is over klint's time budget (in %s)", fn)
	}
	if n < 0 {
		n = 0
	}
	if total := g.made.Add(n); total > maxSequence {
		return fmt.Errorf("the render would make more than %d sequence elements, klint's budget for one render", maxSequence)
	}
	return nil
}

// count is how many elements a sequence from start to stop by step has.
func count(start, stop, step int64) int64 {
	switch {
	case step > 0 && stop > start:
		return (stop - start + step - 1) / step
	case step < 0 && stop < start:
		return (start - stop - step - 1) / -step
	}
	return 0
}

func (g *guard) funcs() gotemplate.FuncMap {
	fs := sprigFuncs()
	until := fs["until"].(func(int) []int)
	untilStep := fs["untilStep"].(func(int, int, int) []int)
	seq := fs["seq"].(func(...int) string)
	repeat := fs["repeat"].(func(int, string) string)
	return gotemplate.FuncMap{
		"until": func(n int) ([]int, error) {
			step := int64(1)
			if n < 0 {
				step = -1
			}
			if err := g.take("until", count(0, int64(n), step)); err != nil {
				return nil, err
			}
			return until(n), nil
		},
		"untilStep": func(start, stop, step int) ([]int, error) {
			if err := g.take("untilStep", count(int64(start), int64(stop), int64(step))); err != nil {
				return nil, err
			}
			return untilStep(start, stop, step), nil
		},
		"seq": func(params ...int) (string, error) {
			var n int64
			switch len(params) {
			case 1:
				n = int64(params[0])
			case 2:
				n = max(int64(params[1])-int64(params[0]), int64(params[0])-int64(params[1])) + 1
			case 3:
				if params[1] != 0 {
					n = count(int64(params[0]), int64(params[2]), int64(params[1])) + 1
				}
			}
			if err := g.take("seq", n); err != nil {
				return "", err
			}
			return seq(params...), nil
		},
		"repeat": func(n int, s string) (string, error) {
			if err := g.take("repeat", 0); err != nil {
				return "", err
			}
			if n > 0 && int64(n)*int64(len(s)) > maxRepeat {
				return "", fmt.Errorf("%d copies of %d bytes is over klint's budget of %d bytes", n, len(s), maxRepeat)
			}
			return repeat(n, s), nil
		},
	}
}

// tplAt matches, where a "tpl" starts, a call of tpl on a values path or
// a chart file: `tpl .Values.a.b .`, `tpl (.Files.Get "x") .`, with $
// for the dot.
var tplAt = regexp.MustCompile(`^tpl\s+\(?\s*\$?\.(?:Values((?:\.[A-Za-z0-9_]+)+)|Files\.Get\s+"([^"]+)")`)

// tplEdges are the texts that s hands to tpl: "values a.b" for tpl
// .Values.a.b, "file f" for tpl (.Files.Get "f"). It finds what the
// leftmost matches of tplAt unanchored after a word boundary would
// (TestTplEdgesIsTheRegexp), trying it only where a "tpl" starts: running
// the regexp over a large template cost more than the rest of the scan.
func tplEdges(s string) []string {
	var out []string
	for i := 0; ; {
		j := strings.Index(s[i:], "tpl")
		if j < 0 {
			return out
		}
		i += j
		if i > 0 && isASCIIWord(s[i-1]) { // \b: "tpl" inside a word
			i += 3
			continue
		}
		m := tplAt.FindStringSubmatch(s[i:])
		if m == nil {
			i += 3
			continue
		}
		if m[1] != "" {
			out = append(out, "values "+strings.TrimPrefix(m[1], "."))
		} else {
			out = append(out, "file "+m[2])
		}
		i += len(m[0])
	}
}

// isASCIIWord is \w of Go's regexp: an ASCII letter, digit or underscore.
func isASCIIWord(b byte) bool {
	return b == '_' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}

// tplCycle finds a text that tpl renders and that, through tpl, renders
// itself: a values string or a chart file whose tpl call leads back to
// it. Helm never ends such a render (each level clones every template,
// so it takes gigabytes before its stack gives out), and no template
// function is called on the way that a budget could stop; it is found
// before rendering instead. It returns the cycle, as "values a → values
// a", or "".
func tplCycle(ch *chart.Chart, rv common.Values, edges func(string) []string) string {
	vals, _ := rv["Values"].(common.Values)
	text := func(node string) (string, bool) {
		kind, name, _ := strings.Cut(node, " ")
		if kind == "file" {
			for _, f := range ch.Files {
				if f.Name == name {
					return string(f.Data), true
				}
			}
			return "", false
		}
		var v any = map[string]any(vals)
		for _, k := range strings.Split(name, ".") {
			m, ok := v.(map[string]any)
			if !ok {
				if cv, isValues := v.(common.Values); isValues {
					m, ok = map[string]any(cv), true
				}
			}
			if !ok {
				return "", false
			}
			v = m[k]
		}
		s, ok := v.(string)
		return s, ok
	}
	state := map[string]int{} // 1 on the path, 2 done
	var path []string
	var visit func(node string) string
	visit = func(node string) string {
		switch state[node] {
		case 1:
			return strings.Join(append(path, node), " → ")
		case 2:
			return ""
		}
		s, ok := text(node)
		if !ok || !strings.Contains(s, "tpl") {
			state[node] = 2
			return ""
		}
		state[node] = 1
		path = append(path, node)
		for _, next := range edges(s) {
			if c := visit(next); c != "" {
				return c
			}
		}
		path = path[:len(path)-1]
		state[node] = 2
		return ""
	}
	// Start from what the chart's own files hand to tpl (edges is
	// tplEdges, or the same found once per chart).
	for _, t := range ch.Templates {
		for _, start := range edges(string(t.Data)) {
			if c := visit(start); c != "" {
				return c
			}
		}
	}
	return ""
}
