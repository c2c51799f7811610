package rules

import "fmt"

var _ = register(&Rule{
	ID: "rbac-create-pods", Theme: ThemeRBAC, NoFix: "narrowing a grant may break whoever uses it; the author decides",
	Severity:         Info,
	SecuritySeverity: 4.0,
	Source:           SourceGo,
	Kinds:            rbacKinds,
	Description:      "A Role or ClusterRole allows creating pods or the workloads that create them.",
	Rationale:        "Whoever creates a pod chooses its service account, the Secrets it mounts and, where Pod Security allows, its privileges: it can act as any service account of the namespace.",
	Remediation:      "Keep pod creation with controllers and deploy pipelines; make sure the namespace enforces a Pod Security level.",
	Check:            checkRBACCreatePods,
})

func checkRBACCreatePods(o *Object, _ *Run, _ Params) []Report {
	var reps []Report
	for _, r := range roleRules(o) {
		if r.grants([]string{"create"}, "", "pods") || r.grants([]string{"create"}, "apps", "deployments", "replicasets", "statefulsets", "daemonsets") ||
			r.grants([]string{"create"}, "batch", "jobs", "cronjobs") {
			reps = append(reps, Report{Path: r.path, Message: fmt.Sprintf("%s %q can create pods or workloads", o.Kind, o.Name)})
		}
	}
	return reps
}
