package schema

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/klint-dev/klint/pkg/manifest"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// RuleImmutableField is the rule of an update the API server refuses
// because it changes a field that cannot change.
const RuleImmutableField = "immutable-field"

// Base is the previous version of a run's objects (klint --base): an
// object that has one, and differs from it, is validated as the API
// server validates the update of the old object to it.
type Base interface {
	// Old is o's previous version when o changed; data is o's JSON.
	Old(o *manifest.Object, data []byte) (*Previous, bool)
}

// Previous is an object's previous version.
type Previous struct {
	GVK  schema.GroupVersionKind
	Data []byte
	// Object is the old manifest, its File the working tree's name of
	// the file it was read from at Ref.
	Object *manifest.Object
	// Ref names the revision ("origin/main").
	Ref string
	// Where is a field's place in the old version (exact false when the
	// field is not there and the place is its parent's).
	Where func(path string) (Place, bool)
}

// UpdateValidator validates an update of an object of a built-in kind as
// the API server does (pkg/apivalidation).
type UpdateValidator interface {
	ValidateUpdate(gvk schema.GroupVersionKind, data []byte, oldGVK schema.GroupVersionKind, oldData []byte) (errs field.ErrorList, warnings []string, ok bool)
}

// DefinitionUpdates validates an update of a CustomResourceDefinition
// (pkg/crd).
type DefinitionUpdates interface {
	ValidateDefinitionUpdate(data, oldData []byte) (errs field.ErrorList, ok bool)
}

// Place is a second place a finding is about.
type Place struct {
	File         string
	Line, Column int
	Message      string
}

// WithBase makes the checker judge changed objects as updates of their
// previous versions in b.
func (c *Checker) WithBase(b Base) *Checker {
	c.base = b
	return c
}

// validateUpdate validates o (data) as the update of its previous
// version, when it has one and the validators judge its kind; ok is false
// otherwise (o is then judged as a create).
func (c *Checker) validateUpdate(o *manifest.Object, gvk schema.GroupVersionKind, data []byte, def *Definition) (issues []Issue, warnings []string, ok bool) {
	if c.base == nil || data == nil {
		return nil, nil, false
	}
	prev, changed := c.base.Old(o, data)
	if !changed {
		return nil, nil, false
	}
	var errs field.ErrorList
	switch {
	case def != nil:
		du, can := c.crds.(DefinitionUpdates)
		if !can {
			return nil, nil, false
		}
		if errs, ok = du.ValidateDefinitionUpdate(data, prev.Data); !ok {
			return nil, nil, false
		}
	default:
		uv, can := c.api.(UpdateValidator)
		if !can {
			return nil, nil, false
		}
		if errs, warnings, ok = uv.ValidateUpdate(gvk, data, prev.GVK, prev.Data); !ok {
			return nil, nil, false
		}
	}
	var other field.ErrorList
	for _, e := range errs {
		if !immutable(e) {
			other = append(other, e)
			continue
		}
		path := changedPath(prev.Object.Value, o.Value, manifest.SplitPath(e.Field))
		is := Issue{Rule: RuleImmutableField, Path: path, Message: immutableMessage(o, e.Field, prev.Ref)}
		if strings.HasPrefix(e.Field, "status.storedVersions") {
			path = "spec.versions"
			is.Path, is.Message = path, fmt.Sprintf("spec.versions no longer lists %v, a version objects are stored in (status.storedVersions) since %s: kubectl apply fails. Keep it, with served: false, until a storage migration has rewritten every object and removed it from status.storedVersions.", e.BadValue, prev.Ref)
		}
		if p, exact := prev.Where(path); p.Line > 0 {
			p.Message = "its value at " + prev.Ref
			if !exact {
				p.Message = "where it was at " + prev.Ref
			}
			is.Related = append(is.Related, p)
		}
		issues = append(issues, is)
	}
	return append(issues, apiIssues(o, other)...), warnings, true
}

// immutable reports an error that says a field cannot change on update:
// "field is immutable" (apimachinery's message), a claim's "spec is
// immutable after creation", a Service's cluster IP that "may not change
// once set", a Pod's "may not change fields other than", a binding's
// roleRef, a CRD's stored version dropped, and the StatefulSet's
// "updates to statefulset spec for fields other than … are forbidden".
func immutable(e *field.Error) bool {
	for _, says := range []string{"field is immutable", " is immutable after creation", "may not change once set", "may not change fields other than", "cannot change roleRef"} {
		if strings.Contains(e.Detail, says) {
			return true
		}
	}
	return strings.HasPrefix(e.Field, "status.storedVersions") ||
		e.Type == field.ErrorTypeForbidden && strings.Contains(e.Detail, "updates to ") && strings.Contains(e.Detail, " are forbidden")
}

// changedPath is the first field under at (the path the API server
// named, or its nearest parent the manifest has) whose value differs
// between old and new, as deep as new still has it: the line a person
// changed.
func changedPath(old, new any, at []manifest.PathSegment) string {
	// A field the manifest does not write (clusterIPs, which the server
	// fills from clusterIP): the change is under its parent.
	for len(at) > 0 && segValue(new, at) == nil {
		at = at[:len(at)-1]
	}
	o, n := segValue(old, at), segValue(new, at)
	path := at
	for {
		next, ok := firstDifference(o, n)
		if !ok {
			return manifest.JoinPath(path)
		}
		nv := segValue(n, []manifest.PathSegment{next})
		if nv == nil {
			return manifest.JoinPath(path) // removed in new: its parent
		}
		path = append(path, next)
		o, n = segValue(o, []manifest.PathSegment{next}), nv
	}
}

// firstDifference is the first key (in sorted order) or index where a
// and b, maps or lists, differ.
func firstDifference(a, b any) (manifest.PathSegment, bool) {
	switch bv := b.(type) {
	case map[string]any:
		av, _ := a.(map[string]any)
		if av == nil {
			return manifest.PathSegment{}, false
		}
		keys := make([]string, 0, len(bv)+len(av))
		for k := range bv {
			keys = append(keys, k)
		}
		for k := range av {
			if _, in := bv[k]; !in {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			if !reflect.DeepEqual(av[k], bv[k]) {
				return manifest.PathSegment{Key: k, Index: -1}, true
			}
		}
	case []any:
		av, _ := a.([]any)
		if av == nil {
			return manifest.PathSegment{}, false
		}
		for i := range max(len(av), len(bv)) {
			if i >= len(av) || i >= len(bv) || !reflect.DeepEqual(av[i], bv[i]) {
				return manifest.PathSegment{Index: i}, true
			}
		}
	}
	return manifest.PathSegment{}, false
}

func segValue(v any, segs []manifest.PathSegment) any {
	for _, s := range segs {
		switch c := v.(type) {
		case map[string]any:
			if s.Index >= 0 {
				return nil
			}
			v = c[s.Key]
		case []any:
			if s.Index < 0 || s.Index >= len(c) {
				return nil
			}
			v = c[s.Index]
		default:
			return nil
		}
	}
	return v
}

// immutableMessage says which field cannot change, why apply fails, and
// what to do instead, for the kinds where it is most often met.
func immutableMessage(o *manifest.Object, field, ref string) string {
	what := o.Kind + " " + name(o)
	msg := fmt.Sprintf("%s cannot change on update, and %s exists with another value (at %s): kubectl apply fails with \"field is immutable\". ", field, what, ref)
	switch {
	case strings.HasPrefix(field, "spec.selector") && (o.Kind == "Deployment" || o.Kind == "DaemonSet" || o.Kind == "ReplicaSet" || o.Kind == "StatefulSet"):
		return msg + fmt.Sprintf("Give the %s a new name (the old one and its pods keep running until it is deleted), or delete it and apply again (its pods go away first: downtime).", o.Kind)
	case o.Kind == "StatefulSet":
		return fmt.Sprintf("%s cannot change on update (a StatefulSet's spec is immutable except replicas, template, updateStrategy, persistentVolumeClaimRetentionPolicy, minReadySeconds, ordinals and revisionHistoryLimit), and %s exists with another value (at %s): kubectl apply fails. Delete it with --cascade=orphan and apply again: its pods keep running and the new StatefulSet adopts them (their volume claims keep the old template).", field, what, ref)
	case o.Kind == "Job":
		return msg + "A Job cannot be changed once created: delete it before applying (kubectl delete job), give it a new name, or let ttlSecondsAfterFinished remove a finished one."
	case o.Kind == "ConfigMap" || o.Kind == "Secret":
		return msg + fmt.Sprintf("An immutable %s cannot change: create it under a new name (a kustomize generator's hash suffix does) and point its users at it.", o.Kind)
	case o.Kind == "PersistentVolumeClaim":
		return msg + "A claim's spec cannot change once created, except a larger resources.requests.storage where the storage class allows expansion: create a new claim and copy the data."
	case o.Kind == "CustomResourceDefinition":
		return msg + "Deleting and recreating the CRD deletes every object of it: define a new group or kind instead, or keep the value."
	}
	return msg + "Delete the object and apply again (kubectl replace --force), or give it a new name."
}

func name(o *manifest.Object) string {
	md, _ := o.Value["metadata"].(map[string]any)
	n, _ := md["name"].(string)
	if ns, _ := md["namespace"].(string); ns != "" {
		return ns + "/" + n
	}
	return n
}
