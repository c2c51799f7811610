package rules

import (
	"fmt"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

var _ = register(&Rule{
	ID: "ssh-port", Theme: ThemeSecurity, NoFix: "whether the port is needed is the author's call",
	Severity:         Warning,
	SecuritySeverity: 4.0,
	Source:           SourceGo,
	Description:      "A container declares port 22, or a Service exposes port 22 or targets it.",
	Rationale:        "An SSH server in a container is a second way in that bypasses kubectl's authentication, audit and RBAC; containers are replaced, not logged into.",
	Remediation:      "Remove the SSH server; use kubectl exec or an ephemeral debug container for access.",
	CEL: &CEL{Resources: append(slices.Clone(WorkloadResources), CELResources{Group: "", Resources: []string{"services"}}), Workload: true,
		Expression: "object.kind == 'Service' ? (!has(object.spec.ports) || object.spec.ports.all(p, p.port != 22 && !(has(p.targetPort) && p.targetPort == 22))) : " +
			"variables.containers.all(c, !has(c.ports) || c.ports.all(p, p.containerPort != 22))",
		Message: "no container declares, and no Service exposes or targets, port 22 (klint ssh-port)"},
	Check: checkSSHPort,
})

func checkSSHPort(o *Object, _ *Run, _ Params) []Report {
	var reps []Report
	if o.Workload != nil {
		for _, c := range o.Workload.Containers() {
			for j, p := range c.C.Ports {
				if p.ContainerPort == 22 {
					reps = append(reps, Report{Path: c.Path + ".ports[" + strconv.Itoa(j) + "].containerPort", Container: c.C.Name,
						Message: fmt.Sprintf("container %q declares port 22 (SSH)", c.C.Name)})
				}
			}
		}
	}
	if svc, ok := o.Typed.(*corev1.Service); ok {
		for i, p := range svc.Spec.Ports {
			switch {
			case p.Port == 22:
				reps = append(reps, Report{Path: "spec.ports[" + strconv.Itoa(i) + "].port", Message: fmt.Sprintf("Service %q exposes port 22 (SSH)", o.Name)})
			case p.TargetPort.IntValue() == 22:
				reps = append(reps, Report{Path: "spec.ports[" + strconv.Itoa(i) + "].targetPort", Message: fmt.Sprintf("Service %q targets port 22 (SSH)", o.Name)})
			}
		}
	}
	return reps
}
