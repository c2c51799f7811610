package rules

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// CEL says a rule in CEL, as a ValidatingAdmissionPolicy validation
// (klint admission-policies writes one policy per rule): the resources it
// matches and an expression that is true when the object passes. A rule
// keeps its CEL in its own file, next to its Check, and a test holds the
// two to the same verdict on the rule's fixtures.
type CEL struct {
	// Resources are the resources the policy matches.
	Resources []CELResources
	// Workload adds the variables of a pod-bearing object: podSpec,
	// containers (init containers, then containers) and longRunning
	// (the containers of a long-running pod: regular ones and sidecars;
	// none for Jobs, CronJobs and Pods that run to completion).
	Workload bool
	// Expression is true when the object passes.
	Expression string
	// Message is the policy's message when it does not;
	// MessageExpression, when set, a CEL expression that says it.
	Message, MessageExpression string
	// Fix, when set, is the rule's fix as a MutatingAdmissionPolicy
	// mutation: a CEL expression giving the JSON Patch operations (the
	// Kubernetes JSONPatch type) that make the object what klint fix
	// makes it. A rule with a Fix and no Expression is compiled to a
	// mutating policy only.
	Fix string
}

// CELResources are resources of one API group.
type CELResources struct {
	Group     string
	Resources []string
}

// WorkloadResources are the built-in pod-bearing resources.
var WorkloadResources = []CELResources{
	{Group: "", Resources: []string{"pods", "replicationcontrollers"}},
	{Group: "apps", Resources: []string{"deployments", "replicasets", "statefulsets", "daemonsets"}},
	{Group: "batch", Resources: []string{"jobs", "cronjobs"}},
}

// WorkloadVariables are the variables of CEL.Workload, by name, in order.
var WorkloadVariables = [][2]string{
	{"specPath", "object.kind == 'Pod' ? '/spec' : (object.kind == 'CronJob' ? '/spec/jobTemplate/spec/template/spec' : '/spec/template/spec')"},
	{"podSpec", "object.kind == 'Pod' ? object.spec : (object.kind == 'CronJob' ? object.spec.jobTemplate.spec.template.spec : object.spec.template.spec)"},
	{"containers", "(has(variables.podSpec.initContainers) ? variables.podSpec.initContainers : []) + variables.podSpec.containers"},
	{"longRunning", "object.kind in ['Job', 'CronJob'] || (object.kind == 'Pod' && has(object.spec.restartPolicy) && object.spec.restartPolicy != 'Always') ? [] : " +
		"(has(variables.podSpec.initContainers) ? variables.podSpec.initContainers.filter(c, has(c.restartPolicy) && c.restartPolicy == 'Always') : []) + variables.podSpec.containers"},
}

// Variables are the variables a rule's policy declares, in order: each
// of the rule's parameters (p: its defaults with config on top) by its
// own name, its value as a CEL literal, so that the expression reads
// variables.min and the policy needs no params object; then, for a
// workload rule, WorkloadVariables.
func (c *CEL) Variables(p Params) ([][2]string, error) {
	var out [][2]string
	for _, name := range slices.Sorted(maps.Keys(p)) {
		if !celIdentifier.MatchString(name) {
			return nil, fmt.Errorf("parameter %q is not a CEL identifier (letters, digits and _)", name)
		}
		if c.Workload && slices.ContainsFunc(WorkloadVariables, func(v [2]string) bool { return v[0] == name }) {
			return nil, fmt.Errorf("parameter %q has the name of a workload variable", name)
		}
		lit, err := json.Marshal(p[name])
		if err != nil {
			return nil, fmt.Errorf("parameter %q: %w", name, err)
		}
		// JSON's literals are CEL's, but for null, which CEL types as
		// null_type: a list or map parameter left unset reads as empty.
		if string(lit) == "null" {
			lit = []byte("[]")
		}
		out = append(out, [2]string{name, string(lit)})
	}
	if c.Workload {
		out = append(out, WorkloadVariables...)
	}
	return out, nil
}

var celIdentifier = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// Policy is the ValidatingAdmissionPolicy named name that says the rule:
// its resources (CREATE and UPDATE, every version), its variables
// (Variables with p) and its validation. What acts on it (failure policy,
// match conditions, the binding) is the caller's.
func (c *CEL) Policy(name string, p Params) (*admissionregistrationv1.ValidatingAdmissionPolicy, error) {
	vars, err := c.Variables(p)
	if err != nil {
		return nil, err
	}
	policy := &admissionregistrationv1.ValidatingAdmissionPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingAdmissionPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: admissionregistrationv1.ValidatingAdmissionPolicySpec{
			MatchConstraints: &admissionregistrationv1.MatchResources{},
			Validations:      []admissionregistrationv1.Validation{{Expression: c.Expression, Message: c.Message, MessageExpression: c.MessageExpression}},
		},
	}
	for _, res := range c.Resources {
		policy.Spec.MatchConstraints.ResourceRules = append(policy.Spec.MatchConstraints.ResourceRules, admissionregistrationv1.NamedRuleWithOperations{RuleWithOperations: admissionregistrationv1.RuleWithOperations{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule:       admissionregistrationv1.Rule{APIGroups: []string{res.Group}, APIVersions: []string{"*"}, Resources: slices.Clone(res.Resources)},
		}})
	}
	for _, v := range vars {
		policy.Spec.Variables = append(policy.Spec.Variables, admissionregistrationv1.Variable{Name: v[0], Expression: v[1]})
	}
	return policy, nil
}
