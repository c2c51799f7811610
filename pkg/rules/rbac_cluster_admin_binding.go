package rules

import (
	"fmt"
	"slices"
)

var _ = register(&Rule{
	ID: "rbac-cluster-admin-binding", Theme: ThemeRBAC, NoFix: "narrowing a grant may break whoever uses it; the author decides",
	Severity:         Warning,
	SecuritySeverity: 7.5,
	Source:           SourceGo,
	CrossObject:      true,
	Kinds:            []string{"RoleBinding", "ClusterRoleBinding"},
	Indexes:          []*IndexSpec{allPowerfulRolesIndex},
	Description:      "A RoleBinding or ClusterRoleBinding binds cluster-admin, or a Role or ClusterRole of the run that grants every verb (* or each written out) on every resource.",
	Rationale:        "Its subjects can do anything (in the namespace, for a RoleBinding): read every Secret, change every workload, grant themselves more. A binding named system:… is judged like any other (Polaris exempts those): a repository can give its own binding that name.",
	Remediation:      "Bind a role that lists what the subjects need; keep cluster-admin for break-glass accounts outside manifests.",
	Check:            checkRBACClusterAdminBinding,
})

type roleKey struct{ kind, ns, name string }

// allPowerfulRolesIndex is the run's Roles and ClusterRoles that grant
// every verb (* or each of them written out) on * (a ClusterRole is kept
// with no namespace), with where each is.
var allPowerfulRolesIndex = &IndexSpec{Name: "all-powerful roles", New: func() Index { return allPowerfulRoles{} }, Kinds: rbacKinds}

type allPowerfulRoles map[roleKey]string

func (ix allPowerfulRoles) Add(o *Object) {
	for _, r := range roleRules(o) {
		if allVerbs(r.Verbs) && slices.Contains(r.Resources, "*") && slices.Contains(r.APIGroups, "*") {
			ns := o.Namespace
			if o.Kind == "ClusterRole" {
				ns = ""
			}
			ix[roleKey{o.Kind, ns, o.Name}] = fmt.Sprintf("%s:%d", o.File, o.Start().Line)
			return
		}
	}
}

func (ix allPowerfulRoles) Merge(later Index) { mergeFirst(ix, later.(allPowerfulRoles)) }

func checkRBACClusterAdminBinding(o *Object, run *Run, _ Params) []Report {
	ref, _, ok := bindingOf(o)
	if !ok {
		return nil
	}
	if ref.Kind == "ClusterRole" && ref.Name == "cluster-admin" {
		return []Report{{Path: "roleRef.name", Message: fmt.Sprintf("%s %q binds cluster-admin", o.Kind, o.Name)}}
	}
	ns := o.Namespace
	if ref.Kind == "ClusterRole" {
		ns = ""
	}
	if at, ok := indexOf[allPowerfulRoles](run, allPowerfulRolesIndex)[roleKey{ref.Kind, ns, ref.Name}]; ok {
		return []Report{{Path: "roleRef.name", Message: fmt.Sprintf("%s %q binds %s %q (%s), which grants every verb on every resource", o.Kind, o.Name, ref.Kind, ref.Name, at)}}
	}
	return nil
}

// everyVerb is every verb of a resource: a rule granting each of them
// grants as much as one granting *.
var everyVerb = []string{"get", "list", "watch", "create", "update", "patch", "delete"}

func allVerbs(verbs []string) bool {
	if slices.Contains(verbs, "*") {
		return true
	}
	for _, v := range everyVerb {
		if !slices.Contains(verbs, v) {
			return false
		}
	}
	return true
}
