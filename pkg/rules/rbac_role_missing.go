package rules

import (
	"fmt"
	"maps"
	"strings"
)

var _ = register(&Rule{
	ID: "rbac-role-missing", Theme: ThemeRBAC, NoFix: "the role meant is not in the manifest",
	Severity:    Info,
	Source:      SourceGo,
	CrossObject: true,
	Kinds:       []string{"RoleBinding", "ClusterRoleBinding"},
	Indexes:     []*IndexSpec{rolesIndex},
	Description: "A RoleBinding or ClusterRoleBinding names a Role or ClusterRole that is neither among the objects checked nor one the API server defines (cluster-admin, admin, edit, view, system:…).",
	Rationale:   "A binding to a role that does not exist grants nothing, silently; usually the role was renamed or lives in another namespace.",
	Remediation: "Point roleRef at the role's kind and name (a Role must be in the binding's namespace). When the role lives in files not checked in this run, run klint on the whole directory.",
	Check:       checkRBACRoleMissing,
})

// rolesIndex is the run's Roles (by namespace) and ClusterRoles.
var rolesIndex = &IndexSpec{Name: "roles", New: func() Index { return roleNames{} }}

type roleNames map[roleKey]bool

func (ix roleNames) Add(o *Object) {
	switch o.Kind {
	case "Role":
		ix[roleKey{"Role", o.Namespace, o.Name}] = true
	case "ClusterRole":
		ix[roleKey{"ClusterRole", "", o.Name}] = true
	}
}

func (ix roleNames) Merge(later Index) { maps.Copy(ix, later.(roleNames)) }

// builtinClusterRoles are the user-facing ClusterRoles the API server
// bootstraps; every system: one is its own too.
var builtinClusterRoles = map[string]bool{"cluster-admin": true, "admin": true, "edit": true, "view": true}

// builtinRole reports a Role the API server bootstraps in kube-system
// (and kube-public): extension-apiserver-authentication-reader, which
// every aggregated API server binds, and the system: ones.
func builtinRole(ns, name string) bool {
	switch ns {
	case "kube-system", "kube-public", "":
		return name == "extension-apiserver-authentication-reader" || strings.HasPrefix(name, "system:")
	}
	return false
}

func checkRBACRoleMissing(o *Object, run *Run, _ Params) []Report {
	ref, _, ok := bindingOf(o)
	if !ok {
		return nil
	}
	roles := indexOf[roleNames](run, rolesIndex)
	switch ref.Kind {
	case "ClusterRole":
		if builtinClusterRoles[ref.Name] || strings.HasPrefix(ref.Name, "system:") || roles[roleKey{"ClusterRole", "", ref.Name}] {
			return nil
		}
	case "Role":
		if roles[roleKey{"Role", o.Namespace, ref.Name}] || builtinRole(o.Namespace, ref.Name) {
			return nil
		}
		if o.Namespace == "" { // left to kubectl: a Role of that name in any namespace will do
			for k := range roles {
				if k.kind == "Role" && k.name == ref.Name {
					return nil
				}
			}
		}
	default:
		return nil
	}
	return []Report{{Path: "roleRef.name", Message: fmt.Sprintf("%s %q binds %s %q, which is not in this run and is not built in", o.Kind, o.Name, ref.Kind, ref.Name)}}
}
