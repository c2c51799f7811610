package rules

import (
	"fmt"
	"strconv"
)

var _ = register(&Rule{
	ID: "writable-host-mount", Theme: ThemeSecurity, NoFix: "whether the container must write there is the author's to say",
	Severity:         Warning,
	SecuritySeverity: 5.0,
	Source:           SourceGo,
	Off:              true,
	Description:      "A container mounts a hostPath volume without readOnly.",
	Rationale:        "A writable host directory lets the container change what the node and other pods read: logs, configuration, binaries.",
	Remediation:      "Set readOnly: true on the volumeMount, or use a volume type that is not the node's file system.",
	CEL: &CEL{Resources: WorkloadResources, Workload: true,
		Expression: "!has(variables.podSpec.volumes) || variables.containers.all(c, !has(c.volumeMounts) || c.volumeMounts.all(m, " +
			"(has(m.readOnly) && m.readOnly) || !variables.podSpec.volumes.exists(v, v.name == m.name && has(v.hostPath))))",
		Message: "no container mounts a hostPath volume writable (klint writable-host-mount)"},
	Check: checkWritableHostMount,
})

func checkWritableHostMount(o *Object, _ *Run, _ Params) []Report {
	if o.Workload == nil {
		return nil
	}
	host := map[string]bool{}
	for _, v := range o.Workload.Spec.Volumes {
		if v.HostPath != nil {
			host[v.Name] = true
		}
	}
	var reps []Report
	for _, c := range o.Workload.Containers() {
		for j, m := range c.C.VolumeMounts {
			if host[m.Name] && !m.ReadOnly {
				reps = append(reps, Report{Path: c.Path + ".volumeMounts[" + strconv.Itoa(j) + "]", Container: c.C.Name,
					Message: fmt.Sprintf("container %q mounts hostPath volume %q writable", c.C.Name, m.Name)})
			}
		}
	}
	return reps
}
