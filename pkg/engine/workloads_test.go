package engine

import (
	"path/filepath"
	"slices"
	"testing"
)

// Pod rules run on custom resources that carry a pod template: the
// built-in kinds (Argo Rollout, OpenKruise CloneSet, KEDA ScaledJob,
// Knative Service) and those the configuration names, with findings at the
// custom resource's own lines.
func TestCustomWorkloadKinds(t *testing.T) {
	file := filepath.Join(testdata, "workloads", "custom.yaml")
	opts := Options{Disable: []string{"recommended-labels", "writable-root-filesystem", "missing-resource-requests", "missing-resource-limits", "unknown-kind", "missing-readiness-probe"}}
	run := func(opts Options) []string {
		var out []string
		for _, f := range runFiles(t, newEngine(t, opts), file).Findings {
			out = append(out, f.Rule+" "+itoa(f.Line)+":"+itoa(f.Column)+" "+f.Object.Kind)
		}
		return out
	}
	want := []string{
		"missing-liveness-probe 14:11 Rollout",
		"image-latest-tag 15:11 Rollout",
		"workload-selector-mismatch 26:19 CloneSet",
		"missing-liveness-probe 32:11 CloneSet",
		"pod-security-baseline 34:29 CloneSet",
		// ScaledJob: a job's pods run to completion, no probes asked.
		"image-latest-tag 47:13 ScaledJob",
		"image-latest-tag 58:11 Service",
		"missing-liveness-probe 58:11 Service",
	}
	if got := run(opts); !slices.Equal(got, want) {
		t.Errorf("findings:\n%q\nwant:\n%q", got, want)
	}
	opts.Config = parseConfig(t, "workloads:\n  - group: example.klint.dev\n    kind: Batch\n    template: spec.podTemplate\n    runsToCompletion: true\n")
	want = append(want, "image-latest-tag 69:11 Batch")
	if got := run(opts); !slices.Equal(got, want) {
		t.Errorf("with config, findings:\n%q\nwant:\n%q", got, want)
	}
}
