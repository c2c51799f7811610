package main

import (
	"fmt"
	"os"

	"github.com/klint-dev/klint/pkg/apivalidation"
	"github.com/klint-dev/klint/pkg/crd"
	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/helm"
	"github.com/klint-dev/klint/pkg/rules"
)

// settings are the lint flags merged over the config file: the one place
// where a flag overrides a config key (or adds to it).
type settings struct {
	// engine carries the config, with the flags that override it
	// (--kube-version, --enable, --disable) and add to it (--policy,
	// --crd).
	engine engine.Options
	// failOn is --fail-on, else failOn, else warning.
	failOn rules.Severity
	// exclude is the config's globs, then --exclude's.
	exclude []string
	// baseline is --baseline, else baseline.
	baseline string
	// base is --base, else KLINT_BASE, else base.
	base string
	// helm is the Helm flags, with helm.valuesSets from the config
	// unless set already.
	helm helm.Options
}

func resolve(f lintFlags, cfg *engine.Config) (settings, error) {
	if cfg == nil {
		cfg = &engine.Config{}
	}
	s := settings{
		engine:   engine.Options{Config: cfg, KubeVersion: f.kubeVersion, PolicyDirs: f.policies, Enable: f.enable, Disable: f.disable, APIValidator: apivalidation.New(), TypeCheckCEL: apivalidation.TypeCheck},
		exclude:  append(append([]string{}, cfg.Exclude...), f.exclude...),
		baseline: cfg.Baseline,
		helm:     f.helm,
	}
	catalog, err := crd.LoadCatalog(append(append([]string{}, cfg.CRDs...), f.crds...))
	if err != nil {
		return s, err
	}
	s.engine.CRDs = catalog
	if f.baseline != "" {
		s.baseline = f.baseline
	}
	s.base = cfg.Base
	if env := os.Getenv("KLINT_BASE"); env != "" {
		s.base = env
	}
	if f.base != "" {
		s.base = f.base
	}
	if s.helm.ValuesSets == "" {
		s.helm.ValuesSets = cfg.Helm.ValuesSets
	}
	failOn := "warning"
	if cfg.FailOn != "" {
		failOn = cfg.FailOn
	}
	if f.failOn != "" {
		failOn = f.failOn
	}
	if s.failOn, err = rules.ParseSeverity(failOn); err != nil {
		return s, fmt.Errorf("--fail-on: %w", err)
	}
	return s, nil
}
