package rules

import (
	"fmt"
	"slices"
)

var _ = register(&Rule{
	ID: "rbac-wildcard", Theme: ThemeRBAC, NoFix: "the resources and verbs needed are not in the manifest",
	Severity:         Warning,
	SecuritySeverity: 6.0,
	Source:           SourceGo,
	Kinds:            rbacKinds,
	Description:      "A Role or ClusterRole rule uses * in its verbs, resources or apiGroups.",
	Rationale:        "A wildcard grants what exists now and everything added later (new resources, new verbs such as escalate): the role's reach cannot be reviewed.",
	Remediation:      "List the verbs, resources and API groups the subject needs.",
	Check:            checkRBACWildcard,
})

func checkRBACWildcard(o *Object, _ *Run, _ Params) []Report {
	var reps []Report
	for _, r := range roleRules(o) {
		for _, f := range []struct {
			name   string
			values []string
		}{{"verbs", r.Verbs}, {"resources", r.Resources}, {"apiGroups", r.APIGroups}} {
			if slices.Contains(f.values, "*") {
				reps = append(reps, Report{Path: r.path + "." + f.name, Message: fmt.Sprintf("%s %q grants * in %s", o.Kind, o.Name, f.name)})
			}
		}
	}
	return reps
}
