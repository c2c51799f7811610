package engine

import (
	"context"
	"testing"
	"time"

	"github.com/klint-dev/klint/pkg/manifest"
)

// A policy still evaluating when the run's context ends is stopped: the
// run returns at once, interrupted, instead of when the policy is done
// (here, after a hundred million iterations).
func TestContextEndStopsAPolicyEvaluating(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "slow.rego", `package klint.slow

import rego.v1

deny contains "never" if {
	some i in numbers.range(1, 10000)
	some j in numbers.range(1, 10000)
	i * j == -1
}
`)
	e, err := New(context.Background(), Options{PolicyDirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	objs, probs := manifest.Parse("pod.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan *Result, 1)
	start := time.Now()
	go func() { done <- e.RunObjects(ctx, objs, probs) }()
	select {
	case res := <-done:
		if res.Interrupted == nil {
			t.Errorf("the run was not interrupted: %+v", res.Summary)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("the run returned %v after its context ended", d-200*time.Millisecond)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the policy kept evaluating after the run's context ended")
	}
}
