// Package crd validates CustomResourceDefinitions and custom resources
// the way the API server does, with k8s.io/apiextensions-apiserver's own
// code. A CRD goes through the CRD registry strategy (structural schema,
// CEL rules compiled and costed, names, versions). A custom resource of a
// CRD of the run or of the --crd catalog goes through what the API server
// does on a create with strict field validation: the served version,
// unknown fields pruned and reported, defaults applied, then the custom
// resource strategy (OpenAPI schema: types, required, enums, patterns,
// formats; embedded objects; list types; x-kubernetes-validations CEL
// rules) and object metadata. It is the only package that imports the
// apiextensions-apiserver's validation; only the CLI links it.
package crd

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"k8s.io/apiextensions-apiserver/pkg/apihelpers"
	apiextensions "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsinstall "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/install"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apiextensions-apiserver/pkg/crdserverscheme"
	"k8s.io/apiextensions-apiserver/pkg/registry/customresource"
	"k8s.io/apiextensions-apiserver/pkg/registry/customresourcedefinition"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/klint-dev/klint/pkg/apicreate"

	kschema "github.com/klint-dev/klint/pkg/schema"
)

// scheme is the apiextensions group's, with its defaults and conversions;
// codecs decode a CRD as the API server does: defaults of its version,
// then conversion to the internal version its validation reads.
var (
	scheme = sync.OnceValue(func() *runtime.Scheme {
		s := runtime.NewScheme()
		apiextensionsinstall.Install(s)
		return s
	})
	codecs      = sync.OnceValue(func() serializer.CodecFactory { return serializer.NewCodecFactory(scheme()) })
	crdStrategy = sync.OnceValue(func() rest.RESTCreateStrategy { return customresourcedefinition.NewStrategy(scheme()) })
	typer       = crdserverscheme.NewUnstructuredObjectTyper()
)

// ValidateDefinition validates a CustomResourceDefinition, as strictly
// decoded (apiextensions.k8s.io/v1), as the API server validates its
// create: it is defaulted (in place) and converted to the internal
// version, then the CRD strategy prepares and validates it. ok is false
// for another type.
func ValidateDefinition(obj runtime.Object) (errs field.ErrorList, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			errs, ok = nil, false
		}
	}()
	in, isCRD := obj.(*apiextensionsv1.CustomResourceDefinition)
	if !isCRD {
		return nil, false
	}
	scheme().Default(in)
	def := &apiextensions.CustomResourceDefinition{}
	if err := scheme().Convert(in, def, nil); err != nil {
		return nil, false
	}
	errs, ok = apicreate.Validate(def, crdStrategy(), apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions"))
	for _, e := range errs {
		e.Field = v1Path(e.Field)
	}
	return errs, ok
}

// Catalog is the CRDs of --crd, read before a run; a run's own CRDs go
// in front of it (WithRun). Of two CRDs of one group and kind, the first
// added wins. A CRD's decoded form and the validation built for its
// versions are kept by content: a chart rendered with several values sets
// renders its CRDs alike each time, and each is decoded and built once.
type Catalog struct {
	defs      map[schema.GroupKind]entry
	byKey     sync.Map // sha256 of a CRD's JSON → *definition
	validated sync.Map // sha256 of a CRD's JSON → its field.ErrorList
}

// entry is a CRD of one group and kind, and where it was read.
type entry struct {
	def         *definition
	name, where string
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog { return &Catalog{defs: map[schema.GroupKind]entry{}} }

// Len is how many CRDs the catalog holds.
func (c *Catalog) Len() int { return len(c.defs) }

// Add adds a CRD, its JSON; where names it in messages
// ("crds/widget.yaml:1"). A CRD that names no kind is an error.
func (c *Catalog) Add(data []byte, where string) error {
	var head struct {
		Metadata struct{ Name string }
		Spec     struct {
			Group string
			Names struct{ Kind string }
		}
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return fmt.Errorf("%s: not a CustomResourceDefinition klint can read: %w", where, err)
	}
	gk := schema.GroupKind{Group: head.Spec.Group, Kind: head.Spec.Names.Kind}
	if gk.Kind == "" {
		return fmt.Errorf("%s: CustomResourceDefinition %q names no kind (spec.names.kind)", where, head.Metadata.Name)
	}
	if _, dup := c.defs[gk]; !dup {
		c.defs[gk] = entry{def: c.definition(sha256.Sum256(data), data), name: head.Metadata.Name, where: where}
	}
	return nil
}

// definition is the CRD of that content, made once.
func (c *Catalog) definition(key [32]byte, data []byte) *definition {
	if d, ok := c.byKey.Load(key); ok {
		return d.(*definition)
	}
	d, _ := c.byKey.LoadOrStore(key, &definition{data: data})
	return d.(*definition)
}

// ValidateDefinition implements schema.CRDs: a CRD of the same JSON is
// validated once, and its JSON kept once, for WithRun.
func (c *Catalog) ValidateDefinition(obj runtime.Object, def kschema.Definition) (field.ErrorList, bool) {
	c.definition(def.Key, def.Data)
	if v, ok := c.validated.Load(def.Key); ok {
		return v.(field.ErrorList), true
	}
	errs, ok := ValidateDefinition(obj)
	if ok {
		c.validated.Store(def.Key, errs)
	}
	return errs, ok
}

// WithRun implements schema.CRDs: a view of the catalog with a run's
// CRDs in front. A definition without JSON is one ValidateDefinition
// was given.
func (c *Catalog) WithRun(defs []kschema.Definition) kschema.CustomResources {
	s := &set{run: map[schema.GroupKind]entry{}, catalog: c.defs}
	for _, d := range defs {
		if _, dup := s.run[d.GK]; d.GK.Kind != "" && !dup {
			s.run[d.GK] = entry{def: c.definition(d.Key, d.Data), name: d.Name, where: d.Where}
		}
	}
	return s
}

// set is a catalog with a run's CRDs in front of it.
type set struct {
	run, catalog map[schema.GroupKind]entry
}

// Defines implements schema.CustomResources.
func (s *set) Defines(gk schema.GroupKind) bool {
	_, ok := s.lookup(gk)
	return ok
}

func (s *set) lookup(gk schema.GroupKind) (entry, bool) {
	if e, ok := s.run[gk]; ok {
		return e, true
	}
	e, ok := s.catalog[gk]
	return e, ok
}

// definition is one CRD, decoded the first time a custom resource asks
// for it; the validation of each of its versions is built the first time
// a custom resource of that version asks.
type definition struct {
	data     []byte
	once     sync.Once
	crd      *apiextensionsv1.CustomResourceDefinition
	versions map[string]*version
	err      error
}

func (d *definition) load() error {
	d.once.Do(func() {
		obj, _, err := codecs().UniversalDecoder(apiextensionsv1.SchemeGroupVersion).Decode(d.data, nil, nil)
		d.data = nil
		if err != nil {
			d.err = err
			return
		}
		c, ok := obj.(*apiextensionsv1.CustomResourceDefinition)
		if !ok {
			d.err = fmt.Errorf("not a CustomResourceDefinition but %T", obj)
			return
		}
		d.crd = c
		d.versions = map[string]*version{}
		for _, v := range c.Spec.Versions {
			d.versions[v.Name] = &version{}
		}
	})
	return d.err
}

type version struct {
	once       sync.Once
	strategy   rest.RESTCreateStrategy
	structural *structuralschema.Structural
	err        error
}

// ValidateCustomResource implements schema.CustomResources: data, a
// custom resource's JSON, validated as the API server validates its
// create with strict field validation. ok is false when no CRD defines
// its group and kind.
func (s *set) ValidateCustomResource(gvk schema.GroupVersionKind, data []byte) (res kschema.CustomResourceResult, ok bool) {
	e, found := s.lookup(gvk.GroupKind())
	if !found {
		return res, false
	}
	d := e.def
	res.CRD = fmt.Sprintf("%s (%s)", e.name, e.where)
	if err := d.load(); err != nil {
		res.Errs = field.ErrorList{field.Invalid(field.NewPath("kind"), gvk.Kind, fmt.Sprintf("the CustomResourceDefinition %s cannot be read: %v", res.CRD, err))}
		return res, true
	}
	v := d.versions[gvk.Version]
	if v == nil || !apihelpers.HasServedCRDVersion(d.crd, gvk.Version) {
		res.Errs = field.ErrorList{field.NotSupported(field.NewPath("apiVersion"), gvk.GroupVersion().String(), d.served())}
		return res, true
	}
	v.once.Do(func() { v.strategy, v.structural, v.err = d.build(gvk.Version) })
	if v.err != nil {
		res.Errs = field.ErrorList{field.Invalid(field.NewPath("apiVersion"), gvk.GroupVersion().String(), fmt.Sprintf("the CustomResourceDefinition %s cannot serve it: %v", res.CRD, v.err))}
		return res, true
	}
	defer func() {
		if r := recover(); r != nil {
			res.Errs = append(res.Errs, field.InternalError(field.NewPath("kind"), fmt.Errorf("the validation of its CRD failed on this object: %v", r)))
		}
	}()
	u := &unstructured.Unstructured{}
	// Integers stay integers (int64), as the API server decodes them:
	// CEL rules and defaults compare typed values.
	if err := u.UnmarshalJSON(data); err != nil {
		return res, false
	}
	res.Unknown = coerce(u, v.structural, d.crd.Spec.PreserveUnknownFields)
	if v.structural != nil && !d.crd.Spec.PreserveUnknownFields {
		structuraldefaulting.Default(u.Object, v.structural)
	}
	errs, validated := apicreate.Validate(u, v.strategy, gvk.GroupVersion().WithResource(d.crd.Spec.Names.Plural))
	if !validated {
		return res, false
	}
	for _, e := range errs {
		// The server adds a note that CEL rules were skipped because of
		// the errors before it; klint reports the errors themselves.
		if e.Field == "<nil>" && strings.HasPrefix(e.Detail, "some validation rules were not checked") {
			continue
		}
		res.Errs = append(res.Errs, e)
	}
	return res, true
}

func (d *definition) served() []string {
	var out []string
	for _, v := range d.crd.Spec.Versions {
		if v.Served {
			out = append(out, d.crd.Spec.Group+"/"+v.Name)
		}
	}
	sort.Strings(out)
	return out
}

// coerce does what the API server's decoder does to a custom resource
// before anything validates it: metadata read as ObjectMeta, fields the
// structural schema does not have pruned, nulls without defaults dropped,
// embedded objects' metadata coerced. It returns the paths of the fields
// it pruned.
func coerce(u *unstructured.Unstructured, s *structuralschema.Structural, preserve bool) []string {
	kind, apiVersion := u.GetKind(), u.GetAPIVersion()
	om, found, unknown, err := schemaobjectmeta.GetObjectMetaWithOptions(u.Object, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		return nil // the metadata does not decode; validation says so
	}
	if s != nil && !preserve {
		unknown = append(unknown, structuralpruning.PruneWithOptions(u.Object, s, true, structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})...)
		structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u.Object, s)
	}
	if s != nil {
		if _, paths := schemaobjectmeta.CoerceWithOptions(nil, u.Object, s, false, schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: true}); len(paths) > 0 {
			unknown = append(unknown, paths...)
		}
	}
	u.SetKind(kind)
	u.SetAPIVersion(apiVersion)
	if found {
		_ = schemaobjectmeta.SetObjectMeta(u.Object, om)
	}
	return unknown
}

// build makes the strategy the API server serves a version of the CRD
// with, as its CRD handler does.
func (d *definition) build(name string) (rest.RESTCreateStrategy, *structuralschema.Structural, error) {
	crd := d.crd
	val, err := apihelpers.GetSchemaForVersion(crd, name)
	if err != nil {
		return nil, nil, err
	}
	var internal *apiextensions.CustomResourceValidation
	var props *apiextensions.JSONSchemaProps
	var structural *structuralschema.Structural
	if val != nil {
		internal = &apiextensions.CustomResourceValidation{}
		if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(val, internal, nil); err != nil {
			return nil, nil, err
		}
		props = internal.OpenAPIV3Schema
		s, err := structuralschema.NewStructural(props)
		if err != nil && !crd.Spec.PreserveUnknownFields {
			return nil, nil, fmt.Errorf("its schema is not structural: %w", err)
		}
		if err == nil {
			s = s.DeepCopy()
			if !crd.Spec.PreserveUnknownFields {
				if err := structuraldefaulting.PruneDefaults(s); err != nil {
					return nil, nil, err
				}
			}
			structural = s
		}
	}
	validator, _, err := apiservervalidation.NewSchemaValidator(props)
	if err != nil {
		return nil, nil, err
	}
	subresources, err := apihelpers.GetSubresourcesForVersion(crd, name)
	if err != nil {
		return nil, nil, err
	}
	var status *apiextensions.CustomResourceSubresourceStatus
	var statusValidator apiservervalidation.SchemaValidator
	if subresources != nil && subresources.Status != nil {
		status = &apiextensions.CustomResourceSubresourceStatus{}
		if err := apiextensionsv1.Convert_v1_CustomResourceSubresourceStatus_To_apiextensions_CustomResourceSubresourceStatus(subresources.Status, status, nil); err != nil {
			return nil, nil, err
		}
		if props != nil {
			if st, ok := props.Properties["status"]; ok {
				if statusValidator, _, err = apiservervalidation.NewSchemaValidator(&st); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	var scale *apiextensions.CustomResourceSubresourceScale
	if subresources != nil && subresources.Scale != nil {
		scale = &apiextensions.CustomResourceSubresourceScale{}
		if err := apiextensionsv1.Convert_v1_CustomResourceSubresourceScale_To_apiextensions_CustomResourceSubresourceScale(subresources.Scale, scale, nil); err != nil {
			return nil, nil, err
		}
	}
	var selectable []apiextensionsv1.SelectableField
	for _, v := range crd.Spec.Versions {
		if v.Name == name {
			selectable = v.SelectableFields
		}
	}
	kind := schema.GroupVersionKind{Group: crd.Spec.Group, Version: name, Kind: crd.Spec.Names.Kind}
	strategy := customresource.NewStrategy(typer, crd.Spec.Scope == apiextensionsv1.NamespaceScoped, kind,
		validator, statusValidator, structural, status, scale, selectable)
	return strategy, structural, nil
}

// hoisted are the fields of a v1 CRD's versions that the internal
// version, which validation reads, keeps once for the whole CRD when
// every version has the same: the server's errors name them there
// (spec.validation.openAPIV3Schema…), where a v1 manifest has no such
// field. They are said about the first version, where they are written.
var hoisted = []struct{ internal, v1 string }{
	{"spec.validation", "spec.versions[0].schema"},
	{"spec.subresources", "spec.versions[0].subresources"},
	{"spec.additionalPrinterColumns", "spec.versions[0].additionalPrinterColumns"},
}

func v1Path(p string) string {
	for _, h := range hoisted {
		if rest, ok := strings.CutPrefix(p, h.internal); ok && (rest == "" || rest[0] == '.' || rest[0] == '[') {
			return h.v1 + rest
		}
	}
	return p
}

// ValidateDefinitionUpdate validates data, a CRD's JSON, as the API
// server validates an apply of it over oldData, its previous manifest,
// which the server created (with the storage version in
// status.storedVersions): the strategy's PrepareForUpdate and
// ValidateUpdate (scope, names, stored versions, CEL rule transitions).
// ok is false when either does not decode or the old one would not have
// been created.
func ValidateDefinitionUpdate(data, oldData []byte) (errs field.ErrorList, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			errs, ok = nil, false
		}
	}()
	resource := apiextensionsv1.SchemeGroupVersion.WithResource("customresourcedefinitions")
	internal := func(b []byte) (*apiextensions.CustomResourceDefinition, bool) {
		in := &apiextensionsv1.CustomResourceDefinition{}
		if err := json.Unmarshal(b, in); err != nil {
			return nil, false
		}
		scheme().Default(in)
		def := &apiextensions.CustomResourceDefinition{}
		if err := scheme().Convert(in, def, nil); err != nil {
			return nil, false
		}
		return def, true
	}
	old, ok := internal(oldData)
	if !ok {
		return nil, false
	}
	if errs, ok := apicreate.Validate(old, crdStrategy(), resource); !ok || len(errs) > 0 {
		return nil, false
	}
	// Moments after the create, the API server's controllers accept
	// the names and establish the CRD; its update rules (a scope that
	// no longer changes) read that.
	old.Status.AcceptedNames = old.Spec.Names
	old.Status.Conditions = []apiextensions.CustomResourceDefinitionCondition{
		{Type: apiextensions.NamesAccepted, Status: apiextensions.ConditionTrue, Reason: "NoConflicts"},
		{Type: apiextensions.Established, Status: apiextensions.ConditionTrue, Reason: "InitialNamesAccepted"},
	}
	stored := &apiextensionsv1.CustomResourceDefinition{}
	if err := scheme().Convert(old, stored, nil); err != nil {
		return nil, false
	}
	stored.APIVersion, stored.Kind = apiextensionsv1.SchemeGroupVersion.String(), "CustomResourceDefinition"
	live, err := json.Marshal(stored)
	if err != nil {
		return nil, false
	}
	merged, err := apicreate.Apply(oldData, data, live, &apiextensionsv1.CustomResourceDefinition{})
	if err != nil {
		return nil, false
	}
	def, ok := internal(merged)
	if !ok {
		return nil, false
	}
	errs, _, ok = apicreate.ValidateUpdate(def, old, crdStrategy().(rest.RESTUpdateStrategy), resource)
	for _, e := range errs {
		e.Field = v1Path(e.Field)
	}
	return errs, ok
}

// ValidateDefinitionUpdate implements schema.DefinitionUpdates.
func (c *Catalog) ValidateDefinitionUpdate(data, oldData []byte) (field.ErrorList, bool) {
	return ValidateDefinitionUpdate(data, oldData)
}
