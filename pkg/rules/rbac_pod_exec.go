package rules

import "fmt"

var _ = register(&Rule{
	ID: "rbac-pod-exec", Theme: ThemeRBAC, NoFix: "narrowing a grant may break whoever uses it; the author decides",
	Severity:         Warning,
	SecuritySeverity: 6.5,
	Source:           SourceGo,
	Kinds:            rbacKinds,
	Description:      "A Role or ClusterRole allows exec, attach or port-forward into pods (create or get on pods/exec, pods/attach, pods/portforward).",
	Rationale:        "Exec into a pod is running code as that pod, with its service account, its mounted Secrets and its network position.",
	Remediation:      "Grant it only to people who debug, through a separate role bound for the time it is needed.",
	Check:            checkRBACPodExec,
})

func checkRBACPodExec(o *Object, _ *Run, _ Params) []Report {
	var reps []Report
	for _, r := range roleRules(o) {
		if r.grants([]string{"create", "get"}, "", "pods/exec", "pods/attach", "pods/portforward") {
			reps = append(reps, Report{Path: r.path, Message: fmt.Sprintf("%s %q can exec, attach or port-forward into pods", o.Kind, o.Name)})
		}
	}
	return reps
}
