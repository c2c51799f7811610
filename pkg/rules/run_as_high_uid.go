package rules

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

var _ = register(&Rule{
	ID: "run-as-high-uid", Theme: ThemeSecurity, NoFix: "the user the image runs as is the image's",
	Severity:    Warning,
	Source:      SourceGo,
	Off:         true,
	Description: "A pod or container sets runAsUser or runAsGroup at or below the min parameter (default 10000).",
	Rationale:   "Low IDs are the node's own users and groups: a process that escapes its container as one of them can read or write what they own on the host.",
	Remediation: "Run as a user and group above the threshold (for instance 10001), chosen for the image.",
	Params:      map[string]any{"min": 10000},
	CEL: &CEL{Resources: WorkloadResources, Workload: true,
		Expression: "[has(variables.podSpec.securityContext) ? variables.podSpec.securityContext : {}].all(sc, " +
			"(!has(sc.runAsUser) || sc.runAsUser > variables.min) && (!has(sc.runAsGroup) || sc.runAsGroup > variables.min)) && " +
			"variables.containers.all(c, !has(c.securityContext) || " +
			"((!has(c.securityContext.runAsUser) || c.securityContext.runAsUser > variables.min) && (!has(c.securityContext.runAsGroup) || c.securityContext.runAsGroup > variables.min)))",
		MessageExpression: "'runAsUser and runAsGroup must be above ' + string(variables.min) + ' (klint run-as-high-uid)'"},
	Check: checkRunAsHighUID,
})

func checkRunAsHighUID(o *Object, _ *Run, p Params) []Report {
	if o.Workload == nil {
		return nil
	}
	min := int64(p.Int("min"))
	var reps []Report
	low := func(path, what, container string, id *int64) {
		if id != nil && *id <= min {
			reps = append(reps, Report{Path: path, Container: container, Message: fmt.Sprintf("%s %d is at or below %d", what, *id, min)})
		}
	}
	if sc := o.Workload.Spec.SecurityContext; sc != nil {
		low(o.Workload.SpecPath+".securityContext.runAsUser", "runAsUser", "", sc.RunAsUser)
		low(o.Workload.SpecPath+".securityContext.runAsGroup", "runAsGroup", "", sc.RunAsGroup)
	}
	for _, c := range o.Workload.Containers() {
		sc := c.C.SecurityContext
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		low(c.Path+".securityContext.runAsUser", fmt.Sprintf("container %q runAsUser", c.C.Name), c.C.Name, sc.RunAsUser)
		low(c.Path+".securityContext.runAsGroup", fmt.Sprintf("container %q runAsGroup", c.C.Name), c.C.Name, sc.RunAsGroup)
	}
	return reps
}
