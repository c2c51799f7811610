package admission

import (
	"fmt"
	"slices"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/rules"
)

// Compiled is a rule as a ValidatingAdmissionPolicy and its binding.
type Compiled struct {
	Rule    string
	Policy  *admissionregistrationv1.ValidatingAdmissionPolicy
	Binding *admissionregistrationv1.ValidatingAdmissionPolicyBinding
}

// NotCompiled is a rule klint admission-policies leaves out, and why.
type NotCompiled struct {
	Rule, Reason string
}

// notCompiled says why the rules of a source are not compiled.
var notCompiled = map[rules.Source]string{
	rules.SourceInput:     "about the files read, not about an object",
	rules.SourceSchema:    "the API server judges it itself, with the same code",
	rules.SourceUpdate:    "about a change between two revisions of the repository",
	rules.SourceRego:      "a Rego policy: the API server runs CEL",
	rules.SourceAdmission: "about the cluster's own admission policies",
}

// PolicyPrefix starts the names of the policies klint writes.
const PolicyPrefix = "klint-"

// Policies compiles the enabled rules said in CEL (Rule.CEL) to
// ValidatingAdmissionPolicies, each bound as the webhook would act on
// its findings: Deny when the webhook would deny (admission.actions, else
// the rule's severity at or above admission.denyAt, and not dryRun), Warn
// otherwise; not in admission.excludedNamespaces; not for an object that
// carries the rule's suppression annotation. The rules it leaves out are
// returned with the reason.
func (r *Reviewer) Policies() ([]Compiled, []NotCompiled) {
	var out []Compiled
	var left []NotCompiled
	for _, rule := range r.engine.Rules() {
		switch {
		case !r.engine.Enabled(rule.ID):
			continue
		case r.cfg.Actions[rule.ID] == "off":
			continue
		case rule.Source != rules.SourceGo && rule.Source != rules.SourceCEL:
			left = append(left, NotCompiled{rule.ID, notCompiled[rule.Source]})
			continue
		case rule.CrossObject || rule.ReadsRun:
			left = append(left, NotCompiled{rule.ID, "reads other objects of the run, which a policy does not see"})
			continue
		case rule.CEL == nil:
			left = append(left, NotCompiled{rule.ID, "judges one object, but is not written in CEL yet"})
			continue
		case rule.CEL.Expression == "":
			left = append(left, NotCompiled{rule.ID, "the API server refuses what it finds by itself (its fix is a MutatingAdmissionPolicy, with admission.mutate)"})
			continue
		}
		action := admissionregistrationv1.Warn
		if r.action(rules.Finding{Rule: rule.ID, Severity: r.engine.Severity(rule.ID)}) == "deny" && !r.cfg.DryRun {
			action = admissionregistrationv1.Deny
		}
		c, err := r.compile(rule, action)
		if err != nil {
			left = append(left, NotCompiled{rule.ID, err.Error()})
			continue
		}
		out = append(out, c)
	}
	return out, left
}

func (r *Reviewer) compile(rule *rules.Rule, action admissionregistrationv1.ValidationAction) (Compiled, error) {
	name := PolicyPrefix + rule.ID
	p, err := rule.CEL.Policy(name, r.engine.Params(rule.ID))
	if err != nil {
		return Compiled{}, err
	}
	ignore := admissionregistrationv1.Ignore
	p.Labels = map[string]string{"app.kubernetes.io/managed-by": "klint"}
	p.Spec.FailurePolicy = &ignore
	p.Spec.MatchConditions = []admissionregistrationv1.MatchCondition{{
		Name:       "not-suppressed",
		Expression: fmt.Sprintf("!has(object.metadata.annotations) || !('%s%s' in object.metadata.annotations)", engine.SuppressAnnotationPrefix, rule.ID),
	}}
	excluded := make([]string, 0, len(r.excluded))
	for ns := range r.excluded {
		excluded = append(excluded, ns)
	}
	slices.Sort(excluded)
	b := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingAdmissionPolicyBinding"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app.kubernetes.io/managed-by": "klint"}},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicyBindingSpec{
			PolicyName:        name,
			ValidationActions: []admissionregistrationv1.ValidationAction{action},
		},
	}
	if len(excluded) > 0 {
		b.Spec.MatchResources = &admissionregistrationv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpNotIn, Values: excluded}},
		}}
	}
	return Compiled{Rule: rule.ID, Policy: p, Binding: b}, nil
}

// CompiledFix is a rule's fix as a MutatingAdmissionPolicy and its
// binding.
type CompiledFix struct {
	Rule    string
	Policy  *admissionregistrationv1.MutatingAdmissionPolicy
	Binding *admissionregistrationv1.MutatingAdmissionPolicyBinding
}

// MutatingPolicies compiles the fixes of the rules the webhook mutates
// for (admission.mutate) that are said in CEL (Rule.CEL.Fix) to
// MutatingAdmissionPolicies (admissionregistration.k8s.io/v1), each
// bound outside admission.excludedNamespaces and skipping an object with
// the rule's suppression annotation, as the mutating webhook does.
func (r *Reviewer) MutatingPolicies() ([]CompiledFix, []NotCompiled) {
	var out []CompiledFix
	var left []NotCompiled
	for _, id := range r.cfg.Mutate {
		rule := r.engine.Rule(id)
		if rule == nil || rule.CEL == nil || rule.CEL.Fix == "" {
			left = append(left, NotCompiled{id, "its fix is not written in CEL"})
			continue
		}
		v, err := r.compile(rule, admissionregistrationv1.Warn)
		if err != nil {
			left = append(left, NotCompiled{id, err.Error()})
			continue
		}
		never := admissionregistrationv1.NeverReinvocationPolicy
		p := &admissionregistrationv1.MutatingAdmissionPolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "MutatingAdmissionPolicy"},
			ObjectMeta: v.Policy.ObjectMeta,
			Spec: admissionregistrationv1.MutatingAdmissionPolicySpec{
				FailurePolicy:      v.Policy.Spec.FailurePolicy,
				MatchConstraints:   v.Policy.Spec.MatchConstraints,
				MatchConditions:    v.Policy.Spec.MatchConditions,
				Variables:          v.Policy.Spec.Variables,
				ReinvocationPolicy: never,
				Mutations: []admissionregistrationv1.Mutation{{
					PatchType: admissionregistrationv1.PatchTypeJSONPatch,
					JSONPatch: &admissionregistrationv1.JSONPatch{Expression: rule.CEL.Fix},
				}},
			},
		}
		b := &admissionregistrationv1.MutatingAdmissionPolicyBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "MutatingAdmissionPolicyBinding"},
			ObjectMeta: v.Binding.ObjectMeta,
			Spec: admissionregistrationv1.MutatingAdmissionPolicyBindingSpec{
				PolicyName:     v.Binding.Spec.PolicyName,
				MatchResources: v.Binding.Spec.MatchResources,
			},
		}
		out = append(out, CompiledFix{Rule: id, Policy: p, Binding: b})
	}
	return out, left
}
