// Package render gives the loader its renderers for Helm charts and
// kustomizations. It is the one place that links both heavy libraries, so
// that the admission webhook, which never renders, links neither.
package render

import (
	"github.com/klint-dev/klint/pkg/helm"
	"github.com/klint-dev/klint/pkg/kustomize"
	"github.com/klint-dev/klint/pkg/manifest"
)

// Func returns the renderer for rules.Inputs (and manifest.LoadWith). Helm's values flags in
// opts apply to the charts named on the command line; charts found in
// directories are rendered with their default values and each values set.
func Func(opts helm.Options) manifest.RenderFunc {
	found := opts
	found.ValueFiles, found.Values, found.StringValues, found.FileValues = nil, nil, nil, nil
	return func(in manifest.Input) ([]*manifest.Object, []manifest.Problem) {
		switch in.Kind {
		case manifest.ChartInput:
			if in.Found {
				return helm.Render(in.Path, found)
			}
			return helm.Render(in.Path, opts)
		case manifest.KustomizationInput:
			return kustomize.Render(in.Path, opts.Boundary)
		}
		return nil, nil
	}
}
