package admissionpolicy

import (
	"context"
	"fmt"
	"sort"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/generic"
	"k8s.io/apiserver/pkg/admission/plugin/policy/matching"
	"k8s.io/apiserver/pkg/admission/plugin/policy/mutating"
	"k8s.io/apiserver/pkg/admission/plugin/policy/mutating/patch"
	"k8s.io/apiserver/pkg/cel/environment"
	clientscheme "k8s.io/client-go/kubernetes/scheme"

	"github.com/klint-dev/klint/pkg/celrule"
	"github.com/klint-dev/klint/pkg/manifest"
)

// Mutator applies MutatingAdmissionPolicies (admissionregistration.k8s.io
// v1, or v1beta1 of the same fields)
// with the API server's own code: its compiler, matcher and dispatcher.
type Mutator struct {
	hooks      []mutating.PolicyHook
	dispatcher generic.Dispatcher[mutating.PolicyHook]
	where      map[string]string // "policy/NAME", "binding/NAME" → "file:line"
}

// NewMutator reads the MutatingAdmissionPolicies and bindings among objs
// (and their Namespaces, for namespace selectors).
func NewMutator(objs []*manifest.Object, types Types) *Mutator {
	return newMutator(objs, namespacesOf(objs), types)
}

// Types gives the schema an apply configuration of a mutating policy is
// merged with, for a kind: the API server merges a list such as
// containers by its key. nil, or nil for a kind, merges with a schema
// deduced from the object, where every list is replaced whole.
type Types func(schema.GroupVersionKind) managedfields.TypeConverter

func newMutator(objs []*manifest.Object, namespaces namespaceLister, types Types) *Mutator {
	var policies []*admissionregistrationv1.MutatingAdmissionPolicy
	bindings := map[string][]*admissionregistrationv1.MutatingAdmissionPolicyBinding{}
	m := &Mutator{where: map[string]string{}}
	seen := map[string]bool{}
	for _, o := range objs {
		if !policyVersion(o.APIVersion) {
			continue
		}
		at := fmt.Sprintf("%s:%d", o.File, o.Start().Line)
		switch o.Kind {
		case "MutatingAdmissionPolicy":
			p := &admissionregistrationv1.MutatingAdmissionPolicy{}
			if decode(o, p) == nil && !seen[p.Name] {
				if p.Spec.FailurePolicy == nil {
					fail := admissionregistrationv1.Fail
					p.Spec.FailurePolicy = &fail
				}
				defaultMatch(p.Spec.MatchConstraints)
				policies, seen[p.Name], m.where["policy/"+p.Name] = append(policies, p), true, at
			}
		case "MutatingAdmissionPolicyBinding":
			b := &admissionregistrationv1.MutatingAdmissionPolicyBinding{}
			if decode(o, b) == nil {
				defaultMatch(b.Spec.MatchResources)
				bindings[b.Spec.PolicyName] = append(bindings[b.Spec.PolicyName], b)
				m.where["binding/"+b.Name] = at
			}
		}
	}
	sort.Slice(policies, func(i, j int) bool { return policies[i].Name < policies[j].Name })
	for _, p := range policies {
		hook := mutating.PolicyHook{Policy: p, Bindings: bindings[p.Name], Evaluator: compileMutating(p)}
		sort.Slice(hook.Bindings, func(i, j int) bool { return hook.Bindings[i].Name < hook.Bindings[j].Name })
		if pk := p.Spec.ParamKind; pk != nil {
			hook.ParamInformer, hook.ParamScope = paramsOf(pk, objs)
		}
		m.hooks = append(m.hooks, hook)
	}
	m.dispatcher = mutating.NewDispatcher(celrule.NoOpinion{}, matching.NewMatcher(namespaces, nil), typed{types})
	return m
}

// compileMutating compiles a policy as the API server's plugin does.
func compileMutating(p *admissionregistrationv1.MutatingAdmissionPolicy) mutating.PolicyEvaluator {
	opts := cel.OptionalVariableDeclarations{HasParams: p.Spec.ParamKind != nil, HasAuthorizer: true}
	c, matcher, err := compileCommon(p.Name, p.Spec.Variables, p.Spec.MatchConditions, p.Spec.FailurePolicy, opts)
	if err != nil {
		return mutating.PolicyEvaluator{Error: err}
	}
	patchOpts := opts
	patchOpts.HasPatchTypes = true
	var patchers []patch.Patcher
	for _, m := range p.Spec.Mutations {
		switch {
		case m.PatchType == admissionregistrationv1.PatchTypeJSONPatch && m.JSONPatch != nil:
			patchers = append(patchers, patch.NewJSONPatcher(c.CompileMutatingEvaluator(&patch.JSONPatchCondition{Expression: m.JSONPatch.Expression}, patchOpts, environment.StoredExpressions)))
		case m.PatchType == admissionregistrationv1.PatchTypeApplyConfiguration && m.ApplyConfiguration != nil:
			patchers = append(patchers, patch.NewApplyConfigurationPatcher(c.CompileMutatingEvaluator(&patch.ApplyConfigurationCondition{Expression: m.ApplyConfiguration.Expression}, patchOpts, environment.StoredExpressions)))
		}
	}
	return mutating.PolicyEvaluator{Matcher: matcher, Mutators: patchers, CompositedCompiler: c}
}

// typed gives the dispatcher the type converter an apply configuration
// is merged with: Types', else one deduced from the object.
type typed struct{ types Types }

func (t typed) GetTypeConverter(gvk schema.GroupVersionKind) managedfields.TypeConverter {
	if t.types != nil {
		if tc := t.types(gvk); tc != nil {
			return tc
		}
	}
	return managedfields.NewDeducedTypeConverter()
}
func (typed) Run(context.Context) {}

// Len is how many mutating policies there are.
func (m *Mutator) Len() int { return len(m.hooks) }

// Mutate is object as the mutating policies leave it on its create, or
// on its update when old (the previous version's JSON) is not nil.
func (m *Mutator) Mutate(ctx context.Context, object map[string]any, old []byte) (map[string]any, error) {
	if len(m.hooks) == 0 {
		return object, nil
	}
	attrs := celrule.Attributes((&unstructured.Unstructured{Object: object}).DeepCopy(), old)
	if err := m.dispatcher.Dispatch(ctx, attrs, admission.NewObjectInterfacesFromScheme(clientscheme.Scheme), m.hooks); err != nil {
		return nil, err
	}
	out := attrs.GetObject().(*unstructured.Unstructured)
	if (&unstructured.Unstructured{Object: object}).GetNamespace() == "" {
		out.SetNamespace("") // the request's, not the object's
	}
	return out.Object, nil
}
