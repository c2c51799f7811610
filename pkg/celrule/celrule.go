// Package celrule evaluates one CEL validation as a ValidatingAdmissionPolicy
// evaluates it, with the API server's own CEL compiler and evaluator
// (k8s.io/apiserver's admission CEL plugin: its environment, variables,
// message expressions and cost budget), without its policy machinery:
// the rule already knows what it matches. The webhook judges CEL rules
// with it and links none of the policy plugins' informers and clients;
// package admissionpolicy judges a cluster's policies with the whole
// plugin, and a test holds the two to the same verdicts.
package celrule

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/cel"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	apiservercel "k8s.io/apiserver/pkg/cel"
	"k8s.io/apiserver/pkg/cel/environment"

	celtypes "github.com/google/cel-go/common/types"
)

// EnvSet is the CEL environment the API server compiles admission
// policies in, built once.
var EnvSet = sync.OnceValue(func() *environment.EnvSet {
	return environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion())
})

// Validation is a policy's validation: an expression true when the
// object passes, and what to say when it does not.
type Validation struct {
	Expression, Message, MessageExpression string
}

// Program is a compiled validation with its variables.
type Program struct {
	v                  Validation
	validate, messages cel.ConditionEvaluator
}

// accessor declares a condition the way the policy plugin's
// ValidationCondition and MessageExpressionCondition do.
type accessor struct {
	expression string
	message    bool
}

func (a accessor) GetExpression() string { return a.expression }
func (a accessor) ReturnTypes() []*celtypes.Type {
	if a.message {
		return []*celtypes.Type{celtypes.StringType}
	}
	return []*celtypes.Type{celtypes.BoolType}
}

type variable struct{ name, expression string }

func (v variable) GetExpression() string { return v.expression }
func (v variable) ReturnTypes() []*celtypes.Type {
	return []*celtypes.Type{celtypes.AnyType, celtypes.DynType}
}
func (v variable) GetName() string { return v.name }

// declarations are what a validation may read besides object, oldObject,
// request, namespaceObject and variables: the authorizer (a message
// expression may not).
var (
	validationVars = cel.OptionalVariableDeclarations{HasAuthorizer: true}
	messageVars    = cel.OptionalVariableDeclarations{}
)

// Compile compiles v with the variables (name, expression, in order), or
// says why the API server would not.
func Compile(v Validation, variables [][2]string) (*Program, error) {
	c, err := cel.NewCompositedCompiler(EnvSet())
	if err != nil {
		return nil, err
	}
	for _, vr := range variables {
		if r := c.CompileAndStoreVariable(variable{vr[0], vr[1]}, validationVars, environment.StoredExpressions); r.Error != nil {
			return nil, fmt.Errorf("variable %s: %s", vr[0], r.Error.Detail)
		}
	}
	if r := c.Compiler.CompileCELExpression(accessor{v.Expression, false}, validationVars, environment.StoredExpressions); r.Error != nil {
		return nil, errors.New(r.Error.Detail)
	}
	p := &Program{v: v, validate: c.CompileCondition([]cel.ExpressionAccessor{accessor{v.Expression, false}}, validationVars, environment.StoredExpressions)}
	if v.MessageExpression != "" {
		if r := c.Compiler.CompileCELExpression(accessor{v.MessageExpression, true}, messageVars, environment.StoredExpressions); r.Error != nil {
			return nil, fmt.Errorf("messageExpression: %s", r.Error.Detail)
		}
		p.messages = c.CompileCondition([]cel.ExpressionAccessor{accessor{v.MessageExpression, true}}, messageVars, environment.StoredExpressions)
	}
	return p, nil
}

// Eval judges object (a create) as the policy plugin's validator does:
// failed when the expression is not true, with the message the API server
// would give (the message expression's, else the message, else the
// expression), or the error when it cannot be evaluated (a policy that
// fails closed denies with it).
func (p *Program) Eval(ctx context.Context, object map[string]any) (failed bool, message string) {
	attrs := Attributes(&unstructured.Unstructured{Object: object}, nil)
	gvk := attrs.GetKind()
	versioned := &admission.VersionedAttributes{Attributes: attrs, VersionedKind: gvk, VersionedObject: admission.NewLazyObject(attrs.GetObject())}
	req := cel.CreateAdmissionRequest(attrs, metav1.GroupVersionResource(attrs.GetResource()), metav1.GroupVersionKind(gvk))
	var namespace *corev1.Namespace
	if ns := attrs.GetNamespace(); ns != "" {
		// What every namespace has; a CEL rule is not bound by namespace.
		namespace = &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{corev1.LabelMetadataName: ns}}}
	}
	vars := cel.OptionalVariableBindings{Authorizer: NoOpinion{}}
	results, remaining, err := p.validate.ForInput(ctx, versioned, req, vars, namespace, celconfig.RuntimeCELCostBudget)
	switch {
	case err != nil:
		return true, err.Error()
	case len(results) != 1:
		return false, ""
	case results[0].Error != nil:
		return true, results[0].Error.Error()
	case results[0].EvalResult == celtypes.True:
		return false, ""
	}
	if p.messages != nil {
		msgs, _, err := p.messages.ForInput(ctx, versioned, req, cel.OptionalVariableBindings{}, namespace, remaining)
		if errors.Is(err, apiservercel.ErrInternal) || errors.Is(err, apiservercel.ErrOutOfBudget) {
			return true, "failed messageExpression: " + err.Error()
		}
		if len(msgs) == 1 && msgs[0].Error == nil && msgs[0].EvalResult != nil {
			if m, ok := msgs[0].EvalResult.Value().(string); ok {
				if m = strings.TrimSpace(m); m != "" && len(m) <= celconfig.MaxEvaluatedMessageExpressionSizeBytes && !strings.Contains(m, "\n") {
					return true, m
				}
			}
		}
	}
	if m := strings.TrimSpace(p.v.Message); m != "" {
		return true, m
	}
	return true, "failed expression: " + strings.TrimSpace(p.v.Expression)
}

// Attributes are the admission attributes of obj's create, or of its
// update from old (JSON) when old is not nil. An object of a namespaced
// kind without a namespace is in "default", as kubectl sends it (on a
// copy: obj is not changed).
func Attributes(obj *unstructured.Unstructured, old []byte) admission.Attributes {
	gvk := obj.GroupVersionKind()
	if obj.GetNamespace() == "" && Namespaced(gvk.Kind) {
		obj = obj.DeepCopy()
		obj.SetNamespace("default")
	}
	var oldObj runtime.Object
	op := admission.Create
	var opts runtime.Object = &metav1.CreateOptions{}
	if old != nil {
		u := &unstructured.Unstructured{}
		if u.UnmarshalJSON(old) == nil {
			oldObj, op, opts = u, admission.Update, &metav1.UpdateOptions{}
		}
	}
	gvr, _ := meta.UnsafeGuessKindToResource(gvk)
	return admission.NewAttributesRecord(obj, oldObj, gvk, obj.GetNamespace(), obj.GetName(), gvr, "", op, opts, false, &user.DefaultInfo{Name: "klint"})
}

// clusterScoped are the built-in kinds that are not namespaced.
var clusterScoped = map[string]bool{"Namespace": true, "Node": true, "PersistentVolume": true, "ClusterRole": true, "ClusterRoleBinding": true,
	"CustomResourceDefinition": true, "StorageClass": true, "PriorityClass": true, "IngressClass": true, "RuntimeClass": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true, "MutatingAdmissionPolicy": true, "MutatingAdmissionPolicyBinding": true,
	"ValidatingWebhookConfiguration": true, "MutatingWebhookConfiguration": true, "APIService": true, "CSIDriver": true, "CSINode": true,
	"VolumeAttachment": true, "FlowSchema": true, "PriorityLevelConfiguration": true, "CertificateSigningRequest": true, "ClusterTrustBundle": true,
	"DeviceClass": true, "VolumeAttributesClass": true, "ServiceCIDR": true, "IPAddress": true}

// Namespaced reports whether objects of a built-in kind (or a custom
// one) live in a namespace.
func Namespaced(kind string) bool { return !clusterScoped[kind] }

// NoOpinion is an authorizer with no opinion: the cluster's
// authorization is not klint's to know.
type NoOpinion struct{}

func (NoOpinion) Authorize(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
	return authorizer.DecisionNoOpinion, "", nil
}
