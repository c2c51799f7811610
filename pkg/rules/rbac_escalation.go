package rules

import (
	"fmt"
	"strings"
)

var _ = register(&Rule{
	ID: "rbac-escalation", Theme: ThemeRBAC, NoFix: "narrowing a grant may break whoever uses it; the author decides",
	Severity:         Error,
	SecuritySeverity: 8.5,
	Source:           SourceGo,
	Kinds:            rbacKinds,
	Description:      "A Role or ClusterRole allows privilege escalation: the bind, escalate or impersonate verbs; writing admission webhook configurations or admission policies; approving CertificateSigningRequests; nodes/proxy; creating service account tokens.",
	Rationale:        "Each lets the subject grant itself more than the role says: bind any role, act as another user, switch off admission control, sign its own client certificate, reach the kubelet's API, or mint tokens for any service account.",
	Remediation:      "Remove the grant; a controller that needs one of these deserves a role of its own, reviewed as cluster-admin would be.",
	Check:            checkRBACEscalation,
})

var writeVerbs = []string{"create", "update", "patch", "delete", "deletecollection"}

func checkRBACEscalation(o *Object, _ *Run, _ Params) []Report {
	var reps []Report
	for _, r := range roleRules(o) {
		var what []string
		for _, v := range []string{"bind", "escalate"} {
			if r.grants([]string{v}, "rbac.authorization.k8s.io", "roles", "clusterroles") {
				what = append(what, v)
			}
		}
		if r.grants([]string{"impersonate"}, "", "users", "groups", "serviceaccounts") || r.grants([]string{"impersonate"}, "authentication.k8s.io", "userextras/scopes", "uids") {
			what = append(what, "impersonate")
		}
		if r.grants(writeVerbs, "admissionregistration.k8s.io", "validatingwebhookconfigurations", "mutatingwebhookconfigurations", "validatingadmissionpolicies", "validatingadmissionpolicybindings", "mutatingadmissionpolicies", "mutatingadmissionpolicybindings") {
			what = append(what, "write admission configuration")
		}
		if r.grants([]string{"update", "patch"}, "certificates.k8s.io", "certificatesigningrequests/approval") || r.grants([]string{"approve"}, "certificates.k8s.io", "signers") {
			what = append(what, "approve certificate requests")
		}
		if r.grants([]string{"get", "create", "*"}, "", "nodes/proxy") {
			what = append(what, "nodes/proxy")
		}
		if r.grants([]string{"create"}, "", "serviceaccounts/token") {
			what = append(what, "create service account tokens")
		}
		if len(what) > 0 {
			reps = append(reps, Report{Path: r.path, Message: fmt.Sprintf("%s %q allows privilege escalation: %s", o.Kind, o.Name, strings.Join(what, ", "))})
		}
	}
	return reps
}
