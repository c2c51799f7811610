package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/klint-dev/klint/pkg/rules"
)

// Flags override the config's failOn, baseline and kubeVersion, add to
// its excludes (after them), and leave what they do not set to it.
func TestFlagsMergeOverConfig(t *testing.T) {
	cfg := &rules.Config{FailOn: "error", Exclude: []string{"vendor/**"}, Baseline: "base.yaml"}
	cfg.Helm.ValuesSets = "ci/*.yaml"
	s, err := resolve(lintFlags{}, cfg)
	if err != nil || s.failOn != rules.Error || s.baseline != "base.yaml" || s.helm.ValuesSets != "ci/*.yaml" ||
		!reflect.DeepEqual(s.exclude, []string{"vendor/**"}) || s.engine.Config != cfg {
		t.Errorf("config alone: %+v, %v", s, err)
	}
	f := lintFlags{failOn: "info", exclude: []string{"tmp"}, baseline: "other.yaml", kubeVersion: "1.30", enable: []string{"allowed-registries"}}
	f.helm.ValuesSets = "none"
	s, err = resolve(f, cfg)
	if err != nil || s.failOn != rules.Info || s.baseline != "other.yaml" || s.helm.ValuesSets != "none" ||
		!reflect.DeepEqual(s.exclude, []string{"vendor/**", "tmp"}) || s.engine.KubeVersion != "1.30" || len(s.engine.Enable) != 1 {
		t.Errorf("flags over config: %+v, %v", s, err)
	}
	if s, err := resolve(lintFlags{}, nil); err != nil || s.failOn != rules.Warning || len(s.exclude) != 0 {
		t.Errorf("defaults: %+v, %v", s, err)
	}
	if _, err := resolve(lintFlags{failOn: "fatal"}, nil); err == nil || !strings.HasPrefix(err.Error(), "--fail-on: ") {
		t.Errorf("bad --fail-on: %v", err)
	}
}
