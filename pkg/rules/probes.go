package rules

import (
	"fmt"

	"github.com/klint-dev/klint/pkg/workload"
	corev1 "k8s.io/api/core/v1"
)

// longRunningContainers are the containers of a long-running pod: regular
// containers and sidecars (init containers with restartPolicy Always), not
// ordinary init containers, and nothing in Jobs, CronJobs or Pods that run
// to completion.
func longRunningContainers(o *Object) []workload.Container {
	if o.Workload == nil || o.Workload.RunsToCompletion {
		return nil
	}
	var out []workload.Container
	for _, c := range o.Workload.Containers() {
		sidecar := c.C.RestartPolicy != nil && *c.C.RestartPolicy == corev1.ContainerRestartPolicyAlways
		if !c.Init || sidecar {
			out = append(out, c)
		}
	}
	return out
}

func missingProbe(o *Object, kind string, probe func(*corev1.Container) *corev1.Probe) []Report {
	var reps []Report
	for _, c := range longRunningContainers(o) {
		if probe(c.C) == nil {
			reps = append(reps, Report{Path: c.Path, Container: c.C.Name, Message: fmt.Sprintf("container %q has no %s", c.C.Name, kind)})
		}
	}
	return reps
}
