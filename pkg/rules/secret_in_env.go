package rules

import (
	"fmt"
	"strconv"
)

var _ = register(&Rule{
	ID: "secret-in-env", Theme: ThemeSecurity, NoFix: "reading the Secret from a file needs a change to the application",
	Severity:    Warning,
	Source:      SourceGo,
	Off:         true,
	Description: "A container reads a Secret through its environment (env valueFrom.secretKeyRef, or envFrom secretRef) rather than a volume (CIS Kubernetes Benchmark 5.4.1).",
	Rationale:   "Environment variables leak: into crash reports, child processes, /proc of the container, and logs that print the environment; a mounted file does not, and is updated when the Secret changes.",
	Remediation: "Mount the Secret as a volume and read the file.",
	Check:       checkSecretInEnv,
})

func checkSecretInEnv(o *Object, _ *Run, _ Params) []Report {
	if o.Workload == nil {
		return nil
	}
	var reps []Report
	for _, c := range o.Workload.Containers() {
		for j, e := range c.C.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				reps = append(reps, Report{Path: c.Path + ".env[" + strconv.Itoa(j) + "].valueFrom.secretKeyRef", Container: c.C.Name,
					Message: fmt.Sprintf("container %q reads Secret %q into env %s", c.C.Name, e.ValueFrom.SecretKeyRef.Name, e.Name)})
			}
		}
		for j, e := range c.C.EnvFrom {
			if e.SecretRef != nil {
				reps = append(reps, Report{Path: c.Path + ".envFrom[" + strconv.Itoa(j) + "].secretRef", Container: c.C.Name,
					Message: fmt.Sprintf("container %q reads Secret %q into its environment", c.C.Name, e.SecretRef.Name)})
			}
		}
	}
	return reps
}
