// Package admissionpolicy judges objects by a cluster's
// ValidatingAdmissionPolicies offline, with the API server's own code
// (k8s.io/apiserver's validating policy plugin: its matcher, its CEL
// compilation and evaluation, its dispatcher): the policies, their
// bindings, their params and the Namespaces they select by are objects
// klint read (the run's, or --admission-policies'), and each object of the
// run is judged as the API server judges its create, or its update when
// klint --base knows its previous version. Only the CLI links it (the
// webhook judges CEL rules with package celrule, the plugin's CEL
// evaluator alone).
package admissionpolicy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	k8serrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/generic"
	"k8s.io/apiserver/pkg/admission/plugin/policy/matching"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/matchconditions"
	auditinternal "k8s.io/apiserver/pkg/apis/audit"
	"k8s.io/apiserver/pkg/cel/environment"
	"k8s.io/apiserver/pkg/warning"
	"k8s.io/client-go/informers"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	listersv1 "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/klint-dev/klint/pkg/celrule"
	"github.com/klint-dev/klint/pkg/manifest"
)

// Action is what a binding does with a violation.
type Action string

const (
	Deny  Action = "Deny"
	Warn  Action = "Warn"
	Audit Action = "Audit"
)

// Verdict is one violation of a policy through a binding.
type Verdict struct {
	Action Action
	// Message is the API server's ("… denied request: replicas must be
	// at most 3"); Reason the policy's own words in it.
	Message, Reason string
	// Path is the field of the object the failed validation reads, as
	// far as the object has it ("spec.replicas"), or "".
	Path             string
	Policy, Binding  string
	PolicyAt, BindAt string // "file:line"
}

// Set is the admission policies of a run. It is safe for concurrent use.
type Set struct {
	hooks      []validating.PolicyHook
	dispatcher generic.Dispatcher[validating.PolicyHook]
	where      map[string]string // "policy/NAME", "binding/NAME" → "file:line"
	scheme     *runtime.Scheme
	// mutator applies the MutatingAdmissionPolicies among the policies
	// first: the API server mutates before it validates.
	mutator *Mutator
}

// Holds reports whether data (a file's bytes) may hold what New reads: a
// validating or mutating admission policy or binding.
func Holds(data []byte) bool {
	return bytes.Contains(data, []byte("AdmissionPolicy"))
}

// New reads the policies, bindings, params and Namespaces among objs.
// Params are the objects of a policy's paramKind; a Namespace the run
// does not define is one with only its kubernetes.io/metadata.name label,
// as every namespace has. types are the schemas mutating policies'
// apply configurations are merged with.
func New(objs []*manifest.Object, types Types) *Set {
	s := &Set{where: map[string]string{}, scheme: clientscheme.Scheme}
	var policies []*admissionregistrationv1.ValidatingAdmissionPolicy
	bindings := map[string][]*admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
	namespaces := namespacesOf(objs)
	policyObj := map[string]bool{}
	for _, o := range objs {
		if !policyVersion(o.APIVersion) {
			continue
		}
		at := fmt.Sprintf("%s:%d", o.File, o.Start().Line)
		switch o.Kind {
		case "ValidatingAdmissionPolicy":
			p := &admissionregistrationv1.ValidatingAdmissionPolicy{}
			if decode(o, p) != nil {
				continue
			}
			defaultPolicy(p)
			if _, dup := policyObj[p.Name]; dup {
				continue
			}
			policies, policyObj[p.Name], s.where["policy/"+p.Name] = append(policies, p), true, at
		case "ValidatingAdmissionPolicyBinding":
			b := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
			if decode(o, b) != nil {
				continue
			}
			defaultMatch(b.Spec.MatchResources)
			bindings[b.Spec.PolicyName] = append(bindings[b.Spec.PolicyName], b)
			s.where["binding/"+b.Name] = at
		}
	}
	sort.Slice(policies, func(i, j int) bool { return policies[i].Name < policies[j].Name })
	for _, p := range policies {
		hook := validating.PolicyHook{Policy: p, Bindings: bindings[p.Name], Evaluator: compile(p)}
		sort.Slice(hook.Bindings, func(i, j int) bool { return hook.Bindings[i].Name < hook.Bindings[j].Name })
		if pk := p.Spec.ParamKind; pk != nil {
			hook.ParamInformer, hook.ParamScope = paramsOf(pk, objs)
		}
		s.hooks = append(s.hooks, hook)
	}
	s.dispatcher = validating.NewDispatcher(celrule.NoOpinion{}, generic.NewPolicyMatcher(matching.NewMatcher(namespaces, nil)))
	s.mutator = newMutator(objs, namespaces, types)
	return s
}

// policyVersion reports whether apiVersion is one New reads policies
// and bindings of: admissionregistration.k8s.io/v1, or v1beta1, whose
// kinds have the same fields (a cluster before 1.30 for validating
// policies, 1.34-1.35 for mutating ones).
func policyVersion(apiVersion string) bool {
	return apiVersion == "admissionregistration.k8s.io/v1" || apiVersion == "admissionregistration.k8s.io/v1beta1"
}

// namespacesOf are the Namespaces among objs, each with the
// kubernetes.io/metadata.name label the API server gives it.
func namespacesOf(objs []*manifest.Object) namespaceLister {
	namespaces := namespaceLister{}
	for _, o := range objs {
		if o.APIVersion != "v1" || o.Kind != "Namespace" {
			continue
		}
		n := &corev1.Namespace{}
		if decode(o, n) == nil {
			if n.Labels == nil {
				n.Labels = map[string]string{}
			}
			n.Labels[corev1.LabelMetadataName] = n.Name
			namespaces[n.Name] = n
		}
	}
	return namespaces
}

// Match reports whether a policy's matchConstraints may match objects of
// the kind (by their resource rules' groups and resources; the rest of
// the matching is Judge's).
func (s *Set) Match(apiVersion, kind string) bool {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return false
	}
	gvr, _ := meta.UnsafeGuessKindToResource(gv.WithKind(kind))
	var constraints []*admissionregistrationv1.MatchResources
	for _, h := range s.hooks {
		constraints = append(constraints, h.Policy.Spec.MatchConstraints)
	}
	if s.mutator != nil {
		for _, h := range s.mutator.hooks {
			constraints = append(constraints, h.Policy.Spec.MatchConstraints)
		}
	}
	for _, mc := range constraints {
		if mc == nil {
			continue
		}
		for _, r := range mc.ResourceRules {
			if anyOf(r.APIGroups, gv.Group) && anyOf(r.Resources, gvr.Resource) {
				return true
			}
		}
	}
	return false
}

// anyOf reports whether a rule's list holds v or "*" (a resource rule's
// "*/*" and "*/subresource" count as "*").
func anyOf(list []string, v string) bool {
	for _, x := range list {
		if x == v || x == "*" || strings.HasPrefix(x, "*/") {
			return true
		}
	}
	return false
}

// defaultPolicy gives a policy the API server's defaults, as it stores
// it: failurePolicy Fail, and its match's.
func defaultPolicy(p *admissionregistrationv1.ValidatingAdmissionPolicy) {
	if p.Spec.FailurePolicy == nil {
		fail := admissionregistrationv1.Fail
		p.Spec.FailurePolicy = &fail
	}
	defaultMatch(p.Spec.MatchConstraints)
}

// defaultMatch gives match resources the API server's defaults:
// matchPolicy Equivalent, empty selectors, rules of every scope.
func defaultMatch(m *admissionregistrationv1.MatchResources) {
	if m == nil {
		return
	}
	if m.MatchPolicy == nil {
		eq := admissionregistrationv1.Equivalent
		m.MatchPolicy = &eq
	}
	if m.NamespaceSelector == nil {
		m.NamespaceSelector = &metav1.LabelSelector{}
	}
	if m.ObjectSelector == nil {
		m.ObjectSelector = &metav1.LabelSelector{}
	}
	for _, rs := range [][]admissionregistrationv1.NamedRuleWithOperations{m.ResourceRules, m.ExcludeResourceRules} {
		for i := range rs {
			if rs[i].Scope == nil {
				all := admissionregistrationv1.AllScopes
				rs[i].Scope = &all
			}
		}
	}
}

// Len is how many policies the set has.
func (s *Set) Len() int { return len(s.hooks) }

func decode(o *manifest.Object, into any) error {
	data, err := json.Marshal(o.Value)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, into)
}

// compile compiles a policy as the API server's plugin does.
func compile(p *admissionregistrationv1.ValidatingAdmissionPolicy) validating.Validator {
	hasParam := p.Spec.ParamKind != nil
	vars := cel.OptionalVariableDeclarations{HasParams: hasParam, HasAuthorizer: true}
	messageVars := cel.OptionalVariableDeclarations{HasParams: hasParam, HasAuthorizer: false}
	c, matcher, err := compileCommon(p.Name, p.Spec.Variables, p.Spec.MatchConditions, p.Spec.FailurePolicy, vars)
	if err != nil {
		return validating.NewValidator(nil, nil, nil, nil, p.Spec.FailurePolicy, err)
	}
	validations := make([]cel.ExpressionAccessor, len(p.Spec.Validations))
	messages := make([]cel.ExpressionAccessor, len(p.Spec.Validations))
	for i, v := range p.Spec.Validations {
		validations[i] = &validating.ValidationCondition{Expression: v.Expression, Message: v.Message, Reason: v.Reason}
		if v.MessageExpression != "" {
			messages[i] = &validating.MessageExpressionCondition{MessageExpression: v.MessageExpression}
		}
	}
	audits := make([]cel.ExpressionAccessor, len(p.Spec.AuditAnnotations))
	for i, a := range p.Spec.AuditAnnotations {
		audits[i] = &validating.AuditAnnotationCondition{Key: a.Key, ValueExpression: a.ValueExpression}
	}
	return validating.NewValidator(c.CompileCondition(validations, vars, environment.StoredExpressions), matcher,
		c.CompileCondition(audits, vars, environment.StoredExpressions), c.CompileCondition(messages, messageVars, environment.StoredExpressions),
		p.Spec.FailurePolicy, nil)
}

// compileCommon compiles what validating and mutating policies share, as
// the API server's plugins do: the variables, stored in the compiler
// the rest of the policy is compiled with, and the match conditions.
func compileCommon(name string, vs []admissionregistrationv1.Variable, mcs []admissionregistrationv1.MatchCondition, failure *admissionregistrationv1.FailurePolicyType, vars cel.OptionalVariableDeclarations) (*cel.CompositedCompiler, matchconditions.Matcher, error) {
	c, err := cel.NewCompositedCompiler(celrule.EnvSet())
	if err != nil {
		return nil, nil, err
	}
	variables := make([]cel.NamedExpressionAccessor, len(vs))
	for i, v := range vs {
		variables[i] = &validating.Variable{Name: v.Name, Expression: v.Expression}
	}
	c.CompileAndStoreVariables(variables, vars, environment.StoredExpressions)
	if len(mcs) == 0 {
		return c, nil, nil
	}
	conds := make([]cel.ExpressionAccessor, len(mcs))
	for i := range mcs {
		conds[i] = (*matchconditions.MatchCondition)(&mcs[i])
	}
	return c, matchconditions.NewMatcher(c.CompileCondition(conds, vars, environment.StoredExpressions), failure, "policy", "validate", name), nil
}

// Judge is what the policies say of object (as created, or as the update
// of old, its previous version's JSON, when it is not nil): the denial the
// API server returns (the first, as the server returns one), its
// warnings, and the audit annotations' failures.
func (s *Set) Judge(ctx context.Context, object map[string]any, old []byte) []Verdict {
	if s.mutator != nil {
		mutated, err := s.mutator.Mutate(ctx, object, old)
		if err != nil {
			v := denial(err)
			v.PolicyAt, v.BindAt = s.mutator.where["policy/"+v.Policy], s.mutator.where["binding/"+v.Binding]
			return []Verdict{v}
		}
		object = mutated
	}
	if len(s.hooks) == 0 {
		return nil
	}
	attrs := &recorded{Attributes: celrule.Attributes(&unstructured.Unstructured{Object: object}, old)}
	var warned warnings
	ctx = warning.WithWarningRecorder(ctx, &warned)
	err := s.dispatcher.Dispatch(ctx, attrs, admission.NewObjectInterfacesFromScheme(s.scheme), s.hooks)
	var out []Verdict
	if err != nil {
		out = append(out, denial(err))
	}
	for _, w := range warned {
		v := Verdict{Action: Warn, Message: w}
		v.Policy, v.Binding = names(w)
		_, v.Reason, _ = strings.Cut(w, "': ")
		out = append(out, v)
	}
	for _, f := range attrs.failures() {
		if !contains(f.ValidationActions, admissionregistrationv1.Audit) {
			continue
		}
		out = append(out, Verdict{Action: Audit, Message: fmt.Sprintf("ValidatingAdmissionPolicy '%s' with binding '%s' audits: %s", f.Policy, f.Binding, f.Message), Reason: f.Message, Policy: f.Policy, Binding: f.Binding})
	}
	for i := range out {
		out[i].PolicyAt, out[i].BindAt = s.where["policy/"+out[i].Policy], s.where["binding/"+out[i].Binding]
		out[i].Path = s.fieldOf(out[i], object)
	}
	return out
}

func contains(as []admissionregistrationv1.ValidationAction, a admissionregistrationv1.ValidationAction) bool {
	for _, x := range as {
		if x == a {
			return true
		}
	}
	return false
}

// denial is the verdict of a plugin's error: the API server's message,
// the policy and binding it names, and the policy's own words.
func denial(err error) Verdict {
	v := Verdict{Action: Deny, Message: err.Error()}
	var se *k8serrors.StatusError
	if errors.As(err, &se) {
		v.Message = se.ErrStatus.Message
	}
	v.Policy, v.Binding = names(v.Message)
	_, v.Reason, _ = strings.Cut(v.Message, "denied request: ")
	return v
}

// names are the policy and binding a message of the plugins names:
// "ValidatingAdmissionPolicy 'p' with binding 'b' ...", "policy 'p' with
// binding 'b' denied request" (a mutating policy's).
func names(msg string) (policy, binding string) {
	i := strings.Index(msg, "ValidatingAdmissionPolicy '")
	if i < 0 {
		i = strings.Index(msg, "policy '")
	}
	if i < 0 {
		return "", ""
	}
	if _, rest, ok := strings.Cut(msg[i:], "'"); ok {
		policy, rest, _ = strings.Cut(rest, "'")
		if _, rest, ok = strings.Cut(rest, "binding '"); ok {
			binding, _, _ = strings.Cut(rest, "'")
		}
	}
	return policy, binding
}

// warnings records what the plugin warns the client of.
type warnings []string

func (w *warnings) AddWarning(_, text string) { *w = append(*w, text) }

// recorded keeps the audit annotations the plugin adds.
type recorded struct {
	admission.Attributes
	annotations map[string]string
}

func (r *recorded) AddAnnotation(key, value string) error {
	if r.annotations == nil {
		r.annotations = map[string]string{}
	}
	r.annotations[key] = value
	return nil
}

func (r *recorded) AddAnnotationWithLevel(key, value string, _ auditinternal.Level) error {
	return r.AddAnnotation(key, value)
}

// failures are the validation failures the plugin recorded for audit.
func (r *recorded) failures() []validating.ValidationFailureValue {
	var out []validating.ValidationFailureValue
	if v, ok := r.annotations["validation.policy.admission.k8s.io/validation_failure"]; ok {
		_ = json.Unmarshal([]byte(v), &out)
	}
	return out
}

// paramsOf is a lister of the objects of a paramKind among objs.
func paramsOf(pk *admissionregistrationv1.ParamKind, objs []*manifest.Object) (informers.GenericInformer, meta.RESTScope) {
	idx := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	for _, o := range objs {
		if o.APIVersion == pk.APIVersion && o.Kind == pk.Kind {
			_ = idx.Add(&unstructured.Unstructured{Object: o.Value})
		}
	}
	scope := meta.RESTScopeNamespace
	if !celrule.Namespaced(pk.Kind) {
		scope = meta.RESTScopeRoot
	}
	gv, _ := schema.ParseGroupVersion(pk.APIVersion)
	gvr, _ := meta.UnsafeGuessKindToResource(gv.WithKind(pk.Kind))
	return &params{lister: cache.NewGenericLister(idx, gvr.GroupResource())}, scope
}

// params is a GenericInformer over objects read, always synced.
type params struct{ lister cache.GenericLister }

func (p *params) Informer() cache.SharedIndexInformer { return synced{} }
func (p *params) Lister() cache.GenericLister         { return p.lister }

type synced struct{ cache.SharedIndexInformer }

func (synced) HasSynced() bool { return true }

// namespaceLister lists the run's Namespaces, and gives any other the
// labels every namespace has.
type namespaceLister map[string]*corev1.Namespace

func (l namespaceLister) List(selector labels.Selector) ([]*corev1.Namespace, error) {
	var out []*corev1.Namespace
	for _, n := range l {
		if selector.Matches(labels.Set(n.Labels)) {
			out = append(out, n)
		}
	}
	return out, nil
}

func (l namespaceLister) Get(name string) (*corev1.Namespace, error) {
	if n, ok := l[name]; ok {
		return n, nil
	}
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelMetadataName: name}}}, nil
}

var _ listersv1.NamespaceLister = namespaceLister(nil)

// objectRef is a field the expression reads of the object.
var objectRef = regexp.MustCompile(`\bobject((?:\.[A-Za-z_][A-Za-z0-9_]*)+)`)

// variableRef is a variable an expression reads.
var variableRef = regexp.MustCompile(`\bvariables\.([A-Za-z_][A-Za-z0-9_]*)`)

// fieldOf is the field of object the validation that failed reads: its
// expression is found by its message (or is the policy's only one); the
// deepest of the fields it (or a variable it reads) names that the object
// has.
func (s *Set) fieldOf(v Verdict, object map[string]any) string {
	var policy *admissionregistrationv1.ValidatingAdmissionPolicy
	for _, h := range s.hooks {
		if h.Policy.Name == v.Policy {
			policy = h.Policy
		}
	}
	if policy == nil {
		return ""
	}
	expr := ""
	for _, val := range policy.Spec.Validations {
		if val.Message != "" && val.Message == v.Reason || strings.Contains(v.Reason, val.Expression) {
			expr = val.Expression
		}
	}
	if expr == "" && len(policy.Spec.Validations) == 1 {
		expr = policy.Spec.Validations[0].Expression
	}
	for _, m := range variableRef.FindAllStringSubmatch(expr, -1) {
		for _, vr := range policy.Spec.Variables {
			if vr.Name == m[1] {
				expr += " " + vr.Expression
			}
		}
	}
	best := ""
	for _, m := range objectRef.FindAllStringSubmatch(expr, -1) {
		var path []string
		cur := any(object)
		for _, seg := range strings.Split(strings.TrimPrefix(m[1], "."), ".") {
			next, ok := cur.(map[string]any)[seg]
			if !ok {
				break
			}
			path, cur = append(path, seg), next
			if _, isMap := cur.(map[string]any); !isMap {
				break
			}
		}
		if p := strings.Join(path, "."); len(p) > len(best) {
			best = p
		}
	}
	return best
}
