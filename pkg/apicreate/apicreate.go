// Package apicreate is the API server's create path around an object's
// validation, shared by the validation of built-in kinds
// (pkg/apivalidation) and of CRDs and custom resources (pkg/crd): what the
// server gives an object before its strategy validates it, then the
// strategy's PrepareForCreate and rest.ValidateCreate.
package apicreate

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/warning"
)

// generatedSuffix stands for the five random characters the server
// appends to a generateName: fixed, so that a run's output does not change
// between runs.
const generatedSuffix = "x7k2q"

// Validate runs the create path of strategy on obj, served as resource:
// a namespaced object without a namespace is created in "default" (a
// cluster-scoped one has its namespace cleared), a generateName gets its
// suffix, the system fields are filled, and the request context carries
// the namespace and the request information declarative validation
// reads; then PrepareForCreate and rest.ValidateCreate. An error about a
// generated name is said about the generateName it came from. ok is false
// when obj has no object metadata.
func Validate(obj runtime.Object, strategy rest.RESTCreateStrategy, resource schema.GroupVersionResource) (errs field.ErrorList, ok bool) {
	errs, _, ok = ValidateWithWarnings(obj, strategy, resource)
	return errs, ok
}

// ValidateWithWarnings is Validate, with the warnings the strategy gives
// the client on create (WarningsOnCreate: deprecated annotations and
// node labels, duplicate env names and ports…), each "field.path: text".
func ValidateWithWarnings(obj runtime.Object, strategy rest.RESTCreateStrategy, resource schema.GroupVersionResource) (errs field.ErrorList, warnings []string, ok bool) {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil, false
	}
	ns := ""
	if strategy.NamespaceScoped() {
		if ns = acc.GetNamespace(); ns == "" {
			ns = "default"
			acc.SetNamespace(ns)
		}
	} else {
		acc.SetNamespace("")
	}
	generated := acc.GetName() == "" && acc.GetGenerateName() != ""
	if generated {
		acc.SetName(acc.GetGenerateName() + generatedSuffix)
	}
	rest.FillObjectMetaSystemFields(acc)
	var added recorder
	ctx := request("create", ns, acc.GetName(), resource, &added)
	strategy.PrepareForCreate(ctx, obj)
	errs = rest.ValidateCreate(ctx, obj, strategy)
	if generated {
		errs = aboutGenerateName(errs)
	}
	if len(errs) == 0 {
		// The server warns only about what it creates.
		warnings = append(added, strategy.WarningsOnCreate(ctx, obj)...)
	}
	return errs, warnings, true
}

// request is the context of a request: its namespace, the request
// information declarative validation reads, and a recorder of the
// warnings the strategy adds to it (the Pod strategy's about AppArmor
// annotations), as the server's handler collects them.
func request(verb, ns, name string, resource schema.GroupVersionResource, added *recorder) context.Context {
	ctx := genericapirequest.WithNamespace(context.Background(), ns)
	ctx = genericapirequest.WithRequestInfo(ctx, &genericapirequest.RequestInfo{
		IsResourceRequest: true, Verb: verb, APIPrefix: "apis", APIGroup: resource.Group, APIVersion: resource.Version,
		Resource: resource.Resource, Namespace: ns, Name: name,
	})
	return warning.WithWarningRecorder(ctx, added)
}

// recorder keeps the warnings added to a request's context.
type recorder []string

func (r *recorder) AddWarning(_, text string) { *r = append(*r, text) }

// aboutGenerateName says what is wrong with a generated name about the
// generateName it came from, the field a person writes: an error the
// server reports for both is said once.
func aboutGenerateName(errs field.ErrorList) field.ErrorList {
	onPrefix := false
	for _, e := range errs {
		onPrefix = onPrefix || e.Field == "metadata.generateName"
	}
	out := errs[:0]
	for _, e := range errs {
		if e.Field == "metadata.name" {
			if onPrefix {
				continue
			}
			e.Field = "metadata.generateName"
			e.BadValue = field.OmitValueType{}
		}
		out = append(out, e)
	}
	return out
}

// ValidateUpdate runs the update path of strategy on obj over old, the
// object as the server stored it when it was created (Validate's result),
// served as resource, as the server's rest.BeforeUpdate does: the object
// keeps the old one's namespace, generation, UID and creation time; then
// PrepareForUpdate and rest.ValidateUpdate (hand-written validation,
// object metadata's update rules, and declarative validation with its
// ratcheting). warnings are WarningsOnUpdate's, given when the update
// validates, each "field.path: text". ok is false when either object has
// no object metadata.
func ValidateUpdate(obj, old runtime.Object, strategy rest.RESTUpdateStrategy, resource schema.GroupVersionResource) (errs field.ErrorList, warnings []string, ok bool) {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return nil, nil, false
	}
	oldAcc, err := meta.Accessor(old)
	if err != nil {
		return nil, nil, false
	}
	ns := oldAcc.GetNamespace()
	acc.SetNamespace(ns)
	// The stored object has a resource version, and an apply sends it.
	if oldAcc.GetResourceVersion() == "" {
		oldAcc.SetResourceVersion("1")
	}
	if acc.GetResourceVersion() == "" {
		acc.SetResourceVersion(oldAcc.GetResourceVersion())
	}
	acc.SetGeneration(oldAcc.GetGeneration())
	var added recorder
	ctx := request("update", ns, acc.GetName(), resource, &added)
	strategy.PrepareForUpdate(ctx, obj, old)
	if acc.GetUID() == "" {
		acc.SetUID(oldAcc.GetUID())
	}
	acc.SetCreationTimestamp(oldAcc.GetCreationTimestamp())
	errs = rest.ValidateUpdate(ctx, obj, old, strategy)
	if len(errs) == 0 {
		warnings = append(added, strategy.WarningsOnUpdate(ctx, obj, old)...)
	}
	return errs, warnings, true
}

// Apply is the object an apply of modified makes of live, the object the
// server holds, when original was applied before (the manifest at the
// previous revision): what original set and modified does not is
// removed, what modified sets is set, and what neither set (what the
// server allocated or generated: a cluster IP, node ports, a Job's
// selector) is kept. Lists merge by the keys dataStruct's type declares
// (containers by name), as kubectl apply merges them. All three are JSON.
func Apply(original, modified, live []byte, dataStruct any) ([]byte, error) {
	lookup, err := strategicpatch.NewPatchMetaFromStruct(dataStruct)
	if err != nil {
		return nil, err
	}
	patch, err := strategicpatch.CreateThreeWayMergePatch(original, modified, live, lookup, true)
	if err != nil {
		return nil, err
	}
	return strategicpatch.StrategicMergePatchUsingLookupPatchMeta(live, patch, lookup)
}
