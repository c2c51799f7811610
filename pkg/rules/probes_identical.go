package rules

import (
	"fmt"
	"reflect"
)

var _ = register(&Rule{
	ID: "probes-identical", Theme: ThemeWorkloads, NoFix: "how the two probes should differ is the application's",
	Severity:    Warning,
	Source:      SourceGo,
	Description: "A container's readiness and liveness probes are the same probe.",
	Rationale:   "Readiness takes a pod out of the Service while it cannot serve; liveness restarts it. The same check for both restarts pods that are only busy or waiting for a slow dependency, which turns a slowdown into an outage.",
	Remediation: "Make the liveness probe check only that the process is alive (a cheap endpoint, a longer period or failureThreshold), and leave dependencies to readiness.",
	Check:       checkProbesIdentical,
})

func checkProbesIdentical(o *Object, _ *Run, _ Params) []Report {
	var reps []Report
	for _, c := range longRunningContainers(o) {
		if c.C.LivenessProbe != nil && c.C.ReadinessProbe != nil && reflect.DeepEqual(c.C.LivenessProbe, c.C.ReadinessProbe) {
			reps = append(reps, Report{Path: c.Path + ".livenessProbe", Container: c.C.Name,
				Message: fmt.Sprintf("container %q has the same livenessProbe as readinessProbe", c.C.Name)})
		}
	}
	return reps
}
