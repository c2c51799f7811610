package helm

import (
	"context"
	"fmt"
	"sync/atomic"
	gotemplate "text/template"
	"time"

	"github.com/Masterminds/sprig/v3"
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

var sprigFuncs = sprig.TxtFuncMap()

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
	until := sprigFuncs["until"].(func(int) []int)
	untilStep := sprigFuncs["untilStep"].(func(int, int, int) []int)
	seq := sprigFuncs["seq"].(func(...int) string)
	repeat := sprigFuncs["repeat"].(func(int, string) string)
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
