package rules

import (
	"slices"
	"strconv"

	rbacv1 "k8s.io/api/rbac/v1"
)

// policyRule is one rule of a Role or ClusterRole with its field path.
type policyRule struct {
	rbacv1.PolicyRule
	path string
}

// roleRules lists the rules of a Role or ClusterRole.
func roleRules(o *Object) []policyRule {
	var rules []rbacv1.PolicyRule
	switch r := o.Typed.(type) {
	case *rbacv1.Role:
		rules = r.Rules
	case *rbacv1.ClusterRole:
		rules = r.Rules
	default:
		return nil
	}
	out := make([]policyRule, len(rules))
	for i, r := range rules {
		out[i] = policyRule{r, "rules[" + strconv.Itoa(i) + "]"}
	}
	return out
}

// grants reports whether the rule allows one of verbs on one of
// resources (as group/resource; "" is the core group), wildcards
// included.
func (r policyRule) grants(verbs []string, group string, resources ...string) bool {
	if !slices.Contains(r.APIGroups, "*") && !slices.Contains(r.APIGroups, group) {
		return false
	}
	if !slices.Contains(r.Verbs, "*") && !slices.ContainsFunc(verbs, func(v string) bool { return slices.Contains(r.Verbs, v) }) {
		return false
	}
	return slices.Contains(r.Resources, "*") || slices.ContainsFunc(resources, func(res string) bool { return slices.Contains(r.Resources, res) })
}

var rbacKinds = []string{"Role", "ClusterRole"}

// bindingOf is a RoleBinding's or ClusterRoleBinding's role and subjects.
func bindingOf(o *Object) (rbacv1.RoleRef, []rbacv1.Subject, bool) {
	switch b := o.Typed.(type) {
	case *rbacv1.RoleBinding:
		return b.RoleRef, b.Subjects, true
	case *rbacv1.ClusterRoleBinding:
		return b.RoleRef, b.Subjects, true
	}
	return rbacv1.RoleRef{}, nil, false
}
