package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"

	"github.com/klint-dev/klint/pkg/boundary"
	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/render"
	baseupdate "github.com/klint-dev/klint/pkg/update"
)

// runSetup is a run as lint and fix build it from the config and flags:
// the engine (CRD catalog, API validator, policies, kube version), the
// inputs in the order the engine reports conflicts in (--context first),
// the renderer with the Helm flags and the config's values sets, the
// run's admission policies and the base revision.
type runSetup struct {
	eng   *engine.Engine
	set   settings
	bound *boundary.Boundary
	in    engine.Inputs
	close func() // removes what the run left on disk (the base's snapshot)
}

// setUp builds the run; its error is a usage or config error (exit 2).
// The caller runs r.eng.RunInputs(ctx, r.in), then r.close().
func setUp(ctx context.Context, f lintFlags, args []string, stdin io.Reader, stderr io.Writer) (*runSetup, error) {
	cfg, err := loadConfig(f.config)
	if err != nil {
		return nil, err
	}
	bound, err := runBoundary(append(append([]string{}, args...), f.context...), &f, f.allowOutside, cfg)
	if err != nil {
		return nil, err
	}
	set, err := resolve(f, &cfg.Config)
	if err != nil {
		return nil, err
	}
	set.helm.Boundary = bound
	// The inputs are found while the engine is built: both are a run's
	// start-up, and neither needs the other.
	var eng *engine.Engine
	var engErr error
	built := make(chan struct{})
	go func() {
		defer close(built)
		eng, engErr = engine.New(ctx, set.engine)
	}()
	files := inputs.ExpandWithin(bound, args, append(set.exclude, baselineGlobs(set.baseline, f.writeBase)...)...)
	if f.skipNonK8s {
		for i := range files {
			files[i].SkipIfNotKubernetes = true
		}
	}
	if len(f.context) > 0 {
		named := map[string]bool{}
		for _, in := range files {
			named[filepath.Clean(in.Path)] = true
		}
		for _, in := range inputs.ExpandWithin(bound, f.context, set.exclude...) {
			if !named[filepath.Clean(in.Path)] {
				in.Context = true
				files = append(files, in)
			}
		}
	}
	watchdog := func(msg string) {
		// The run cannot end while the render is left running, and it
		// is taking the runner's memory: stop, failing the run.
		fmt.Fprintln(stderr, "klint: "+msg)
		exitProcess(exitError)
	}
	// The run's admission policies are found, and the base revision's
	// inputs (--base) read, while the engine is still being built.
	var pols engine.Policies
	polsRead := make(chan struct{})
	go func() {
		defer close(polsRead)
		pols = loadPolicies(files, f.admissionPol, bound, set.exclude)
	}()
	r := &runSetup{set: set, bound: bound, close: func() {}}
	var base *baseupdate.Base
	var baseErr error
	if set.base != "" {
		opts := set.helm
		opts.KubeVersion = targetVersion(set.engine)
		baseRead := make(chan struct{})
		var removeBase func()
		go func() {
			defer close(baseRead)
			base, removeBase, baseErr = readBase(set.base, bound, slices.Concat(args, f.context), files, opts, watchdog)
		}()
		r.close = func() {
			<-baseRead
			if removeBase != nil {
				removeBase()
			}
		}
		defer func() {
			if r.eng == nil { // not returned: nobody else will
				r.close()
			}
		}()
		<-baseRead
	}
	<-built
	if engErr != nil {
		return nil, engErr
	}
	// The admission section is the webhook's, but a lint run in CI is
	// where a rule misnamed in it should be caught.
	if err := cfg.CheckRules(eng); err != nil {
		return nil, err
	}
	set.helm.KubeVersion = eng.KubeVersion()
	r.set = set
	r.in = engine.Inputs{Inputs: files, Stdin: stdin, Render: render.FuncWatched(set.helm, watchdog)}
	if <-polsRead; pols != nil {
		r.in.Policies = pols
	}
	if baseErr != nil {
		return nil, baseErr
	} else if base != nil {
		r.in.Base = base
	}
	r.eng = eng
	return r, nil
}

// exitStatus is the exit code of a run's result: 2 when an input could
// not be read or rendered, 1 for findings at or above --fail-on, else 0.
func (s settings) exitStatus(res *engine.Result) int {
	if res.HasInputErrors() {
		return exitError
	}
	if worst, any := res.Worst(); any && worst >= s.failOn {
		return exitFindings
	}
	return exitOK
}
