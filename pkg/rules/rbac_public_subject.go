package rules

import (
	"fmt"
	"strconv"

	rbacv1 "k8s.io/api/rbac/v1"
)

var _ = register(&Rule{
	ID: "rbac-public-subject", Theme: ThemeRBAC, NoFix: "the subject meant is not in the manifest",
	Severity:         Error,
	SecuritySeverity: 9.0,
	Source:           SourceGo,
	Kinds:            []string{"RoleBinding", "ClusterRoleBinding"},
	Description:      "A RoleBinding or ClusterRoleBinding grants its role to system:anonymous, system:unauthenticated or system:authenticated.",
	Rationale:        "Those subjects are everyone who can reach the API server, with or without credentials (system:authenticated includes every service account and, on some providers, any account of the provider).",
	Remediation:      "Bind the role to the users, groups or service accounts that need it.",
	Check:            checkRBACPublicSubject,
})

var publicSubjects = map[string]bool{"system:anonymous": true, "system:unauthenticated": true, "system:authenticated": true}

func checkRBACPublicSubject(o *Object, _ *Run, _ Params) []Report {
	_, subjects, _ := bindingOf(o)
	var reps []Report
	for i, s := range subjects {
		if (s.Kind == rbacv1.GroupKind || s.Kind == rbacv1.UserKind) && publicSubjects[s.Name] {
			reps = append(reps, Report{Path: "subjects[" + strconv.Itoa(i) + "].name", Message: fmt.Sprintf("%s %q grants its role to %s", o.Kind, o.Name, s.Name)})
		}
	}
	return reps
}
