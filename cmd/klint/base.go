package main

import (
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/klint-dev/klint/pkg/boundary"
	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/gitbase"
	"github.com/klint-dev/klint/pkg/helm"
	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/render"
	"github.com/klint-dev/klint/pkg/schema"
	baseupdate "github.com/klint-dev/klint/pkg/update"
)

// targetVersion is the Kubernetes version the engine built from o judges
// against (charts are rendered for it), worked out without the engine.
func targetVersion(o engine.Options) string {
	kv := o.KubeVersion
	if kv == "" && o.Config != nil {
		kv = o.Config.KubeVersion
	}
	if kv == "" {
		kv = schema.DefaultKubeVersion
	}
	if v, err := schema.ParseVersion(kv); err == nil {
		return v.String()
	}
	return ""
}

// readBase reads the inputs that changed as they are at the git revision
// ref (--base), from a snapshot of the repository's objects in a
// temporary directory, removed by remove, or on SIGINT or SIGTERM before
// the process exits. Charts and kustomizations are rendered at the
// revision with the run's values and options, reading only inside the
// snapshot (and what the run's boundary allows outside the repository).
func readBase(ref string, bound *boundary.Boundary, args []string, files []inputs.Input, opts helm.Options, watchdog func(string)) (*baseupdate.Base, func(), error) {
	root := "."
	for _, a := range args {
		if a != "-" {
			root = a
			break
		}
	}
	if abs, err := filepath.Abs(root); err == nil {
		root = boundary.RepositoryRoot(abs)
	}
	snap, err := gitbase.Take(root, ref, args)
	if err != nil {
		return nil, nil, err
	}
	stop := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-stop:
			snap.Remove()
			exitProcess(130)
		case <-done:
		}
	}()
	remove := func() {
		signal.Stop(stop)
		close(done)
		snap.Remove()
	}
	// The snapshot is its own repository; what the run may read outside
	// its repository, it may read outside the snapshot.
	b := boundary.New(snap.Dir)
	for _, r := range bound.Roots() {
		if !boundary.New(r).Contains(snap.Root) {
			b.Allow(r)
		}
	}
	opts.Boundary = b
	return baseupdate.Read(snap, files, render.FuncWatched(opts, watchdog)), remove, nil
}
