package rules

import "fmt"

var _ = register(&Rule{
	ID: "rbac-secrets-access", Theme: ThemeRBAC, NoFix: "narrowing a grant may break whoever uses it; the author decides",
	Severity:         Warning,
	SecuritySeverity: 6.5,
	Source:           SourceGo,
	Kinds:            rbacKinds,
	Description:      "A Role or ClusterRole allows get, list or watch on Secrets.",
	Rationale:        "Reading Secrets is reading every credential they hold (service account tokens, registry and database passwords); list and watch return their contents too.",
	Remediation:      "Mount the Secrets the workload needs instead of reading them through the API; if reading is needed, name them in resourceNames.",
	Check:            checkRBACSecretsAccess,
})

func checkRBACSecretsAccess(o *Object, _ *Run, _ Params) []Report {
	var reps []Report
	for _, r := range roleRules(o) {
		if len(r.ResourceNames) == 0 && r.grants([]string{"get", "list", "watch"}, "", "secrets") {
			reps = append(reps, Report{Path: r.path, Message: fmt.Sprintf("%s %q can read Secrets", o.Kind, o.Name)})
		}
	}
	return reps
}
