package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/rules"
)

// Flags override the config's failOn, baseline and kubeVersion, add to
// its excludes (after them), and leave what they do not set to it.
func TestFlagsMergeOverConfig(t *testing.T) {
	cfg := &engine.Config{FailOn: "error", Exclude: []string{"vendor/**"}, Baseline: "base.yaml"}
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

// The API server's feature gates follow the target version, whether it
// comes from the flag or the config, and go back to the default's in a
// later run of the same process.
func TestFeatureGatesFollowKubeVersion(t *testing.T) {
	dir := t.TempDir()
	pod := filepath.Join(dir, "pod.yaml")
	os.WriteFile(pod, []byte(`apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: c
      image: nginx:1.27
      env:
        - name: 1VAR
          value: x
`), 0o644)
	cfg := filepath.Join(dir, "klint.yaml")
	os.WriteFile(cfg, []byte("kubeVersion: \"1.31\"\n"), 0o644)
	want := pod + ":10:11: error schema: spec.containers[0].env[0].name: Invalid value"
	for _, c := range []struct {
		args    []string
		flagged bool
	}{
		{[]string{"--kube-version", "1.31"}, true},
		{nil, false},
		{[]string{"--config", cfg}, true},
		{[]string{"--config", cfg, "--kube-version", "1.32"}, false},
	} {
		_, out, stderr := klint(t, "", append(c.args, "--fail-on", "error", pod)...)
		if strings.Contains(out, want) != c.flagged {
			t.Errorf("%v: flagged %v, want %v\n%s%s", c.args, !c.flagged, c.flagged, out, stderr)
		}
	}
}
