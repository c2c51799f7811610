package rules

import (
	"fmt"
	"strconv"
)

var _ = register(&Rule{
	ID: "privileged-port", Theme: ThemeSecurity, NoFix: "the port the process listens on is the image's",
	Severity:    Warning,
	Source:      SourceGo,
	Off:         true,
	Description: "A container declares a containerPort below 1024.",
	Rationale:   "Binding a port below 1024 needs root or NET_BIND_SERVICE inside the container; a non-root image then fails to start, or the pod is given a capability it would not otherwise need.",
	Remediation: "Listen on a port of 1024 or above and map it with the Service's port.",
	CEL: &CEL{Resources: WorkloadResources, Workload: true,
		Expression: "variables.containers.all(c, !has(c.ports) || c.ports.all(p, p.containerPort <= 0 || p.containerPort >= 1024))",
		Message:    "no container listens on a port below 1024 (klint privileged-port)"},
	Check: checkPrivilegedPort,
})

func checkPrivilegedPort(o *Object, _ *Run, _ Params) []Report {
	if o.Workload == nil {
		return nil
	}
	var reps []Report
	for _, c := range o.Workload.Containers() {
		for j, p := range c.C.Ports {
			if p.ContainerPort > 0 && p.ContainerPort < 1024 {
				reps = append(reps, Report{Path: c.Path + ".ports[" + strconv.Itoa(j) + "].containerPort", Container: c.C.Name,
					Message: fmt.Sprintf("container %q listens on privileged port %d", c.C.Name, p.ContainerPort)})
			}
		}
	}
	return reps
}
