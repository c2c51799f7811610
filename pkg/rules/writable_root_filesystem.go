package rules

import "fmt"

var _ = register(&Rule{
	ID: "writable-root-filesystem", Theme: ThemeSecurity, NoFix: "whether the image writes to its root file system only a run of it tells",
	Severity:         Warning,
	SecuritySeverity: 4.0,
	Source:           SourceGo,
	Description:      "A container (or init container) does not set securityContext.readOnlyRootFilesystem: true.",
	Rationale:        "A writable root file system lets an attacker who gets code execution in the container drop tools and change binaries or configuration the process reads later; it also hides writes that should go to a volume.",
	Remediation:      "Set securityContext.readOnlyRootFilesystem: true on the container and mount an emptyDir where the process must write (/tmp, caches). No fix is offered: whether the image writes to its root file system only a run of it tells.",
	CEL: &CEL{Resources: WorkloadResources, Workload: true,
		Expression: "variables.containers.all(c, has(c.securityContext) && has(c.securityContext.readOnlyRootFilesystem) && c.securityContext.readOnlyRootFilesystem)",
		Message:    "every container sets securityContext.readOnlyRootFilesystem: true (klint writable-root-filesystem)"},
	Check: checkWritableRootFilesystem,
})

func checkWritableRootFilesystem(o *Object, _ *Run, _ Params) []Report {
	if o.Workload == nil {
		return nil
	}
	var reps []Report
	for _, c := range o.Workload.Containers() {
		sc := c.C.SecurityContext
		if sc != nil && sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
			continue
		}
		reps = append(reps, Report{Path: c.Path + ".securityContext.readOnlyRootFilesystem", Container: c.C.Name,
			Message: fmt.Sprintf("container %q does not set readOnlyRootFilesystem: true", c.C.Name)})
	}
	return reps
}
