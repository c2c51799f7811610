// Package render gives the loader its renderers for Helm charts and
// kustomizations. It is the one place that links both heavy libraries, so
// that the admission webhook, which never renders, links neither.
package render

import (
	"fmt"
	"sync"
	"time"

	"github.com/klint-dev/klint/pkg/helm"
	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/kustomize"
	"github.com/klint-dev/klint/pkg/manifest"
)

// Func returns the renderer for engine.Inputs. Helm's values flags in
// opts apply to the charts named on the command line; charts found in
// directories are rendered with their default values and each values set.
func Func(opts helm.Options) inputs.RenderFunc {
	return FuncWatched(opts, nil)
}

// FuncWatched is Func, calling onRunaway (once) when the heap grows past
// Ceiling while a render runs (see watch).
func FuncWatched(opts helm.Options, onRunaway func(string)) inputs.RenderFunc {
	if onRunaway != nil {
		var once sync.Once
		report := func(msg string) { once.Do(func() { onRunaway(msg) }) }
		opts.Watch = func(what string, done <-chan struct{}) { watch(what, done, report) }
	}
	found := opts
	found.ValueFiles, found.Values, found.StringValues, found.FileValues = nil, nil, nil, nil
	return func(in inputs.Input) ([]*manifest.Object, []manifest.Problem) {
		switch in.Kind {
		case inputs.ChartInput:
			if in.Found {
				return helm.Render(in.Path, found)
			}
			return helm.Render(in.Path, opts)
		case inputs.KustomizationInput:
			return kustomization(in.Path, opts)
		}
		return nil, nil
	}
}

// kustomization builds the kustomization in dir within opts.Timeout
// (default helm.DefaultTimeout). kustomize cannot be interrupted: a build
// over the budget (bases that fan out, twelve levels of diamonds are
// 8,192 copies) is left to finish unwatched, and is a problem at the
// kustomization, the other inputs linted.
func kustomization(dir string, opts helm.Options) ([]*manifest.Object, []manifest.Problem) {
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = helm.DefaultTimeout
	}
	type result struct {
		objs  []*manifest.Object
		probs []manifest.Problem
	}
	done := make(chan result, 1)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		objs, probs := kustomize.Render(dir, opts.Boundary)
		done <- result{objs, probs}
	}()
	if opts.Watch != nil {
		opts.Watch("the kustomization "+dir, ended)
	}
	select {
	case r := <-done:
		return r.objs, r.probs
	case <-time.After(timeout):
		return nil, []manifest.Problem{{Kind: manifest.RenderFailed, File: inputs.KustomizationFile(dir), Pos: manifest.Position{Line: 1, Column: 1},
			Message: fmt.Sprintf("the kustomization took more than %v to build, klint's budget for one build (--render-timeout); its objects are not linted", timeout), Render: dir}}
	}
}
