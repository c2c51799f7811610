// Package schema checks objects the way the API server would, offline:
// strict decoding against the k8s.io/api types (unknown, duplicate and
// mistyped fields), metadata and field validation, and removed or
// deprecated apiVersions for a target Kubernetes version.
package schema

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/workload"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	kjson "sigs.k8s.io/json"
)

// Rule IDs of the findings this package makes.
const (
	RuleSchema      = "schema"
	RuleRemovedAPI  = "removed-api"
	RuleDeprecated  = "deprecated-api"
	RuleUnknownKind = "unknown-kind"
	RuleUnreleased  = "unreleased-api"
	RuleAPIWarning  = "api-warning"
)

// Issue is one thing the API server would reject or warn about.
type Issue struct {
	Rule    string
	Path    string // field path in field.Path notation; "" for the object
	Message string
	// CoveredBy names a rule that reports the same problem, better (with
	// its fix); the engine leaves the issue out while that rule is on.
	CoveredBy string
	// Related are other places the issue is about: for an update, the
	// field's line in the previous version.
	Related []Place
}

// Result is what Check learned about one object.
type Result struct {
	// Typed is the object decoded into its k8s.io/api type, or nil for
	// kinds the bundled API does not know (custom resources).
	Typed runtime.Object
	// Workload is the pod view of a pod-bearing Typed, or nil.
	Workload *workload.Workload
	Issues   []Issue
	// Custom is set, with a CRD catalog (WithCRDs), for an object of a
	// kind that is not built in: a custom resource, which
	// CheckCustomResource judges once the run's CRDs are known.
	Custom bool
	// Definition is, with a CRD catalog, a CustomResourceDefinition, for
	// the run's custom resources to be checked against (Where unset).
	Definition *Definition
}

// Checker is safe for concurrent use.
type Checker struct {
	scheme *runtime.Scheme
	target Version
	api    APIValidator
	crds   CRDs
	base   Base
}

// APIValidator validates an object of a built-in kind as the API server
// validates its create, with the API server's own code
// (pkg/apivalidation). The CLI supplies one; the webhook does not link it:
// the API server has validated an object before a webhook sees it.
type APIValidator interface {
	// ValidateCreate validates data, the object's JSON; ok is false when
	// the validator does not judge the kind.
	// The warnings are those the server sends back on create, each
	// "field.path: text".
	ValidateCreate(gvk schema.GroupVersionKind, data []byte) (errs field.ErrorList, warnings []string, ok bool)
	// EmulateVersion sets the validation's feature gates to their
	// defaults in Kubernetes major.minor (for the whole process: the
	// gates are the API server code's).
	EmulateVersion(major, minor int) error
}

// WithAPIValidator makes the checker validate built-in objects with v, its
// feature gates at the checker's target version.
func (c *Checker) WithAPIValidator(v APIValidator) *Checker {
	c.api = v
	// An error (a version the gates cannot emulate) leaves them as
	// they were.
	_ = v.EmulateVersion(c.target.Major, c.target.Minor)
	return c
}

// CRDs validates CustomResourceDefinitions, and custom resources against
// the CRDs of a catalog and of a run, with the API server's own code
// (pkg/crd). The CLI supplies it; the webhook does not link it.
type CRDs interface {
	// ValidateDefinition validates a CRD, strictly decoded (typed) from
	// def's JSON, as the API server validates its create (defaulting
	// typed in place), and keeps its JSON for WithRun, by its key. The
	// errors returned are not to be changed.
	ValidateDefinition(typed runtime.Object, def Definition) (errs field.ErrorList, ok bool)
	// WithRun is the catalog with the CRDs found in a run in front of
	// it, in the order given: of two CRDs of one kind, the first wins.
	WithRun(defs []Definition) CustomResources
}

// Definition is a CRD found in a run: its JSON (nil once given to
// ValidateDefinition, which keeps it), the sha256 of its JSON, its group
// and kind, its name, and where it is ("crds/widget.yaml:1"), for
// messages.
type Definition struct {
	Data  []byte
	Key   [32]byte
	GK    schema.GroupKind
	Name  string
	Where string
}

// CustomResources validates custom resources against the CRDs it knows.
type CustomResources interface {
	// ValidateCustomResource validates a custom resource's JSON as the
	// API server validates its create with strict field validation; ok
	// is false when no CRD defines its group and kind.
	ValidateCustomResource(gvk schema.GroupVersionKind, data []byte) (res CustomResourceResult, ok bool)
	// Defines reports whether a CRD defines the group and kind.
	Defines(gk schema.GroupKind) bool
}

// CustomResourceResult is what validating one custom resource found.
type CustomResourceResult struct {
	// Unknown are the paths of fields the CRD's schema does not have.
	Unknown []string
	Errs    field.ErrorList
	// CRD names the CRD and where it was read:
	// "widgets.example.com (crds/widget.yaml:1)".
	CRD string
}

// WithCRDs makes the checker validate CRDs with d, and leave custom
// resources to CheckCustomResource (Result.Custom).
func (c *Checker) WithCRDs(d CRDs) *Checker {
	c.crds = d
	return c
}

// CRDs is the checker's CRD catalog, or nil.
func (c *Checker) CRDs() CRDs { return c.crds }

// scheme is the API types' scheme, built once per process: it does not
// depend on the target version, and a scheme is safe for concurrent use.
var scheme = sync.OnceValue(newScheme)

// known is the groups and kinds of the scheme (and the groups of APIs
// no longer in it), worked out once per process.
var known = sync.OnceValues(func() (map[string]bool, map[schema.GroupKind]bool) {
	return knownKinds(scheme())
})

// BuiltIn reports whether group and kind name a kind built into the API
// server (in any version klint knows), as opposed to a custom resource.
func BuiltIn(group, kind string) bool {
	_, kinds := known()
	return kinds[schema.GroupKind{Group: group, Kind: kind}]
}

func knownKinds(s *runtime.Scheme) (map[string]bool, map[schema.GroupKind]bool) {
	groups, kinds := map[string]bool{}, map[schema.GroupKind]bool{}
	for gvk := range s.AllKnownTypes() {
		groups[gvk.Group] = true
		if !strings.HasSuffix(gvk.Kind, "List") && !strings.HasSuffix(gvk.Kind, "Options") {
			kinds[gvk.GroupKind()] = true
		}
	}
	for gvk := range goneAPIs {
		groups[gvk.Group] = true
	}
	return groups, kinds
}

// New returns a Checker for the target Kubernetes version ("" for
// DefaultKubeVersion).
func New(kubeVersion string) (*Checker, error) {
	if kubeVersion == "" {
		kubeVersion = DefaultKubeVersion
	}
	v, err := ParseVersion(kubeVersion)
	if err != nil {
		return nil, err
	}
	if err := v.Known(); err != nil {
		return nil, err
	}
	return &Checker{scheme: scheme(), target: v}, nil
}

// Target is the Kubernetes version the checker judges against.
func (c *Checker) Target() Version { return c.target }

// Check decodes and validates one object.
func (c *Checker) Check(o *manifest.Object) Result {
	var r Result
	gv, err := schema.ParseGroupVersion(o.APIVersion)
	if err != nil {
		r.Issues = append(r.Issues, Issue{Rule: RuleSchema, Path: "apiVersion", Message: fmt.Sprintf("apiVersion %q is not of the form group/version", o.APIVersion)})
		return r
	}
	gvk := gv.WithKind(o.Kind)

	if l, gone := goneAPIs[gvk]; gone {
		r.Issues = append(r.Issues, c.lifecycleIssues(gvk, l)...)
		return r
	}
	typed, err := c.scheme.New(gvk)
	if err != nil {
		switch groups, _ := known(); {
		case groups[gvk.Group]:
			r.Issues = append(r.Issues, Issue{Rule: RuleSchema, Path: "kind", Message: c.noSuchKind(gvk)})
		case c.crds != nil:
			r.Custom = true
		default:
			r.Issues = append(r.Issues, Issue{Rule: RuleUnknownKind, Path: "kind", Message: fmt.Sprintf("%s %s is not a built-in kind (a custom resource?); its schema is not checked", o.APIVersion, o.Kind)})
		}
		return r
	}
	if l, ok := lifecycleOf(typed); ok {
		r.Issues = append(r.Issues, c.lifecycleIssues(gvk, l)...)
	}
	if v, ok := introducedIn(typed); ok && !c.target.atLeast(v.Major, v.Minor) {
		r.Issues = append(r.Issues, Issue{Rule: RuleUnreleased, Path: "apiVersion", Message: c.unreleased(gvk, v)})
	} else if offByDefault(gvk, typed) {
		r.Issues = append(r.Issues, Issue{Rule: RuleUnreleased, Path: "apiVersion", Message: c.notServedByDefault(gvk)})
	}
	decodeIssues, data, whole := decodeStrict(o, typed)
	r.Issues = append(r.Issues, decodeIssues...)
	r.Typed = typed
	// A field whose value could not be decoded is left at its zero value;
	// validation would then complain about that zero a second time.
	undecoded := map[string]bool{}
	for _, is := range decodeIssues {
		undecoded[is.Path] = true
	}
	if w, ok := workload.Of(typed); ok {
		r.Workload = &w
	}
	if c.crds != nil && data != nil && gvk.GroupKind() == crdKind {
		if crd, ok := typed.(*apiextensionsv1.CustomResourceDefinition); ok {
			r.Definition = &Definition{Data: data, Key: sha256.Sum256(data), Name: crd.Name,
				GK: schema.GroupKind{Group: crd.Spec.Group, Kind: crd.Spec.Names.Kind}}
		}
	}
	// A changed object of a run with a base is judged as the update of
	// its previous version; the rest as a create.
	issues, warnings, updated := c.validateUpdate(o, gvk, data, r.Definition)
	if !updated || r.Definition != nil {
		var errs field.ErrorList
		var w []string
		errs, w = c.apiValidate(gvk, typed, whole, data, r.Definition)
		if !updated {
			issues, warnings = apiIssues(o, errs), w
		}
	}
	if r.Definition != nil {
		r.Definition.Data = nil // kept by the catalog
	}
	for _, is := range issues {
		if !undecoded[is.Path] {
			r.Issues = append(r.Issues, is)
		}
	}
	r.Issues = append(r.Issues, warningIssues(warnings)...)
	return r
}

// crdKind is the kind of CustomResourceDefinitions.
var crdKind = schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}

func (c *Checker) apiValidate(gvk schema.GroupVersionKind, typed runtime.Object, whole bool, data []byte, def *Definition) (field.ErrorList, []string) {
	if def != nil {
		errs, _ := c.crds.ValidateDefinition(typed, *def)
		return errs, nil
	}
	if c.api == nil || data == nil {
		return nil, nil
	}
	if d, ok := c.api.(decodedValidator); ok && whole {
		errs, warnings, _ := d.ValidateCreateDecoded(gvk, typed)
		return errs, warnings
	}
	errs, warnings, _ := c.api.ValidateCreate(gvk, data)
	return errs, warnings
}

// decodedValidator is an APIValidator that also validates an object
// already decoded from its JSON, which spares the JSON a second decoding
// (apivalidation's is one).
type decodedValidator interface {
	ValidateCreateDecoded(gvk schema.GroupVersionKind, decoded runtime.Object) (errs field.ErrorList, warnings []string, ok bool)
}

// CheckCustomResource checks a custom resource (Result.Custom) against
// the CRDs of crs, nil when the run has none: its schema issues, or
// unknown-kind when no CRD defines its kind.
func (c *Checker) CheckCustomResource(crs CustomResources, o *manifest.Object) []Issue {
	gvk := schema.FromAPIVersionAndKind(o.APIVersion, o.Kind)
	var res CustomResourceResult
	ok := false
	if crs != nil && crs.Defines(gvk.GroupKind()) {
		data, err := marshal(o.Value)
		if err != nil {
			return []Issue{{Rule: RuleSchema, Message: "object cannot be represented as JSON: " + err.Error()}}
		}
		res, ok = crs.ValidateCustomResource(gvk, data)
	}
	if !ok {
		return []Issue{{Rule: RuleUnknownKind, Path: "kind", Message: fmt.Sprintf("%s %s is not a built-in kind, and no CustomResourceDefinition in the run or the --crd catalog defines it; its schema is not checked", o.APIVersion, o.Kind)}}
	}
	var issues []Issue
	for _, path := range res.Unknown {
		if strings.HasPrefix(path, "metadata.") {
			issues = append(issues, strictIssue(fmt.Errorf("unknown field %q", path)))
			continue
		}
		issues = append(issues, Issue{Rule: RuleSchema, Path: path, Message: fmt.Sprintf("unknown field %q: the CustomResourceDefinition %s does not declare it; the API server rejects it under strict field validation and drops it otherwise", path, res.CRD)})
	}
	return append(issues, apiIssues(o, res.Errs)...)
}

// noSuchKind explains a kind that a built-in group does not have in that
// version, naming the versions that do have it.
func (c *Checker) noSuchKind(gvk schema.GroupVersionKind) string {
	var have []string
	for known := range c.scheme.AllKnownTypes() {
		if known.Kind == gvk.Kind && !strings.HasSuffix(known.Kind, "List") {
			if _, err := c.scheme.New(known); err == nil {
				have = append(have, apiVersionOf(known))
			}
		}
	}
	msg := fmt.Sprintf("no kind %q in apiVersion %q; the API server rejects it", gvk.Kind, gvk.GroupVersion().String())
	if len(have) > 0 {
		slices.Sort(have)
		msg += " (" + gvk.Kind + " is served by " + strings.Join(have, ", ") + ")"
	}
	return msg
}

// unreleased explains an apiVersion the target version does not serve
// yet, naming those of the kind that it does serve.
func (c *Checker) unreleased(gvk schema.GroupVersionKind, v Version) string {
	return fmt.Sprintf("%s %s is served from Kubernetes %s on; the target %s does not serve it yet and rejects it", apiVersionOf(gvk), gvk.Kind, v, c.target) + c.servedAs(gvk)
}

// servedAs names the apiVersions the target serves the kind as, by
// default: " (Kubernetes 1.37 serves Ingress as networking.k8s.io/v1)",
// or "" when it serves none.
func (c *Checker) servedAs(gvk schema.GroupVersionKind) string {
	var served []string
	for known := range c.scheme.AllKnownTypes() {
		if known.Kind != gvk.Kind {
			continue
		}
		obj, err := c.scheme.New(known)
		if err != nil || offByDefault(known, obj) {
			continue
		}
		if in, ok := introducedIn(obj); ok && !c.target.atLeast(in.Major, in.Minor) {
			continue
		}
		if l, ok := lifecycleOf(obj); ok && l.removed.Major > 0 && c.target.atLeast(l.removed.Major, l.removed.Minor) {
			continue
		}
		served = append(served, apiVersionOf(known))
	}
	if len(served) == 0 {
		return ""
	}
	slices.Sort(served)
	return fmt.Sprintf(" (Kubernetes %s serves %s as %s)", c.target, gvk.Kind, strings.Join(served, ", "))
}

// offByDefault reports an API version the API server does not serve
// unless --runtime-config turns it on: every alpha, and every beta
// introduced from 1.24 on (new beta APIs are off by default since then;
// flowcontrol's v1beta3 was the exception).
func offByDefault(gvk schema.GroupVersionKind, obj runtime.Object) bool {
	switch {
	case strings.Contains(gvk.Version, "alpha"):
		return true
	case strings.Contains(gvk.Version, "beta"):
		if gvk.Group == "flowcontrol.apiserver.k8s.io" && gvk.Version == "v1beta3" {
			return false
		}
		v, ok := introducedIn(obj)
		return ok && v.atLeast(1, 24)
	}
	return false
}

func (c *Checker) notServedByDefault(gvk schema.GroupVersionKind) string {
	return fmt.Sprintf("%s is not served unless the cluster turns it on (kube-apiserver --runtime-config=%s=true); the API server rejects %s there by default", apiVersionOf(gvk), apiVersionOf(gvk), gvk.Kind) + c.servedAs(gvk)
}

func (c *Checker) lifecycleIssues(gvk schema.GroupVersionKind, l lifecycle) []Issue {
	instead := ""
	if !l.replacement.Empty() {
		instead = "; use " + apiVersionOf(l.replacement)
		if l.replacement.Kind != gvk.Kind {
			instead += " " + l.replacement.Kind
		}
	} else {
		instead = "; it has no direct replacement"
	}
	what := apiVersionOf(gvk) + " " + gvk.Kind
	if l.removed.Major > 0 && c.target.atLeast(l.removed.Major, l.removed.Minor) {
		return []Issue{{Rule: RuleRemovedAPI, Path: "apiVersion", Message: fmt.Sprintf("%s was removed in Kubernetes %s (target %s)%s", what, l.removed, c.target, instead)}}
	}
	if l.deprecated.Major > 0 && c.target.atLeast(l.deprecated.Major, l.deprecated.Minor) {
		msg := fmt.Sprintf("%s is deprecated since Kubernetes %s", what, l.deprecated)
		if l.removed.Major > 0 {
			msg += fmt.Sprintf(" and is removed in %s", l.removed)
		}
		return []Issue{{Rule: RuleDeprecated, Path: "apiVersion", Message: msg + instead}}
	}
	return nil
}

// decodeStrict decodes like the API server with field validation Strict:
// unknown fields, duplicate fields and values of the wrong type are
// errors. A type error stops the JSON decoder from reporting strict errors,
// so each one is recorded, its value dropped, and decoding tried again, so
// that every problem in the object is reported in one run.
//
// It returns the JSON it decoded last (values it could not decode left
// out), or nil when the object cannot be decoded, and whether typed
// holds that JSON decoded in one pass (no value had to be dropped), as
// the API server's decoder would decode it.
func decodeStrict(o *manifest.Object, typed runtime.Object) ([]Issue, []byte, bool) {
	var issues []Issue
	// value is copied before the first change: o.Value belongs to the
	// object and the rules still read it.
	value, copied := any(o.Value), false
	if _, sops := o.Value["sops"]; sops {
		value, copied = withoutSOPSCiphertext(o.Value), true
	}
	if bad := invalidBase64(o); len(bad) > 0 {
		value, copied = deepCopy(value), true
		for _, path := range bad {
			issues = append(issues, Issue{Rule: RuleSchema, Path: path, Message: "value is not valid base64 (Secret data must be base64-encoded; use stringData for plain text)"})
			deletePath(value, path)
		}
	}
	for attempt := 0; attempt < 20; attempt++ {
		data, err := marshal(value)
		if err != nil {
			return append(issues, Issue{Rule: RuleSchema, Path: "", Message: "object cannot be represented as JSON: " + err.Error()}), nil, false
		}
		strict, err := kjson.UnmarshalStrict(data, typed, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
		if err == nil {
			for _, s := range strict {
				issues = append(issues, strictIssue(s))
			}
			return issues, data, attempt == 0
		}
		path, ok := pathAtOffset(data, errOffset(err))
		if errOffset(err) < 0 {
			// A type's own decoder (a quantity, a time) does not say
			// where it failed: find the value that makes it fail.
			path, ok = locateValueError(value, typed, err)
		}
		msg := typeErrorMessage(err)
		// The field is named (replicas, args[1]), as the API server does.
		if field := path[strings.LastIndexByte(path, '.')+1:]; field != "" {
			if strings.Contains(msg, "a bool where a string is expected") {
				msg = fmt.Sprintf("wrong type: %s is a bool where a string is expected; unquoted y, n, yes, no, on, off, true and false are booleans in YAML (as kubectl reads it): quote the value", field)
			} else if rest, ok := strings.CutPrefix(msg, "wrong type: "); ok {
				msg = "wrong type: " + field + " is " + rest
			}
		}
		issues = append(issues, Issue{Rule: RuleSchema, Path: path, Message: msg})
		if !ok || path == "" {
			return issues, nil, false
		}
		if !copied {
			value, copied = deepCopy(value), true
		}
		if !deletePath(value, path) {
			return issues, nil, false
		}
	}
	return issues, nil, false
}

// withoutSOPSCiphertext copies a SOPS-encrypted object with its encrypted
// values blanked: they are ciphertext until decrypted before apply, and
// the sops key holds SOPS's own metadata.
func withoutSOPSCiphertext(v map[string]any) map[string]any {
	c := deepCopy(v).(map[string]any)
	delete(c, "sops")
	for _, f := range []string{"data", "stringData", "binaryData"} {
		if m, ok := c[f].(map[string]any); ok {
			for k := range m {
				m[k] = ""
			}
		}
	}
	return c
}

// invalidBase64 finds the byte fields (Secret data, ConfigMap binaryData)
// whose values are not base64; encoding/json reports those without saying
// where.
func invalidBase64(o *manifest.Object) []string {
	if _, sops := o.Value["sops"]; sops {
		return nil // values are SOPS ciphertext, decrypted before apply
	}
	field := map[string]string{"Secret": "data", "ConfigMap": "binaryData"}[o.Kind]
	m, _ := o.Value[field].(map[string]any)
	var bad []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		s, ok := m[k].(string)
		if !ok {
			continue
		}
		s = strings.NewReplacer("\n", "", "\r", "").Replace(s)
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			bad = append(bad, manifest.KeyPath(field, k))
		}
	}
	return bad
}

func strictIssue(err error) Issue {
	msg := err.Error()
	for _, prefix := range []string{"unknown field ", "duplicate field "} {
		if rest, ok := strings.CutPrefix(msg, prefix); ok {
			path, uerr := strconv.Unquote(rest)
			if uerr != nil {
				path = rest
			}
			if prefix == "unknown field " {
				return Issue{Rule: RuleSchema, Path: path, Message: fmt.Sprintf("unknown field %q: the API server rejects it (a typo, or a key indented under the wrong parent?)", path)}
			}
			return Issue{Rule: RuleSchema, Path: path, Message: fmt.Sprintf("duplicate field %q", path)}
		}
	}
	return Issue{Rule: RuleSchema, Path: "", Message: msg}
}

func errOffset(err error) int64 {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Offset
	}
	if ok, off := kjson.SyntaxErrorOffset(err); ok {
		return off
	}
	return -1
}

// typeErrorMessage says what type was expected without echoing the value:
// the value may be a secret.
func typeErrorMessage(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("wrong type: %s where %s is expected", jsonKindName(te.Value), goTypeName(te.Type.String()))
	}
	var pe *time.ParseError
	if errors.As(err, &pe) {
		return "invalid value: not a time in RFC 3339 form, such as 2024-05-01T12:00:00Z"
	}
	msg := err.Error()
	if strings.Contains(msg, "base64") {
		return "value is not valid base64 (this field holds base64-encoded bytes)"
	}
	if i := strings.Index(msg, ": "); i >= 0 && strings.Contains(msg[:i], "json") {
		msg = msg[i+2:]
	}
	return "invalid value: " + msg
}

func jsonKindName(v string) string {
	switch {
	case v == "string", v == "bool":
		return "a " + v
	case v == "object":
		return "a mapping"
	case v == "array":
		return "a list"
	case strings.HasPrefix(v, "number"):
		return "a number"
	}
	return "a value"
}

func goTypeName(t string) string {
	switch t {
	case "int32", "int64", "int", "uint32", "uint64":
		return "an integer"
	case "string":
		return "a string"
	case "bool":
		return "a boolean (true or false)"
	case "float64", "float32":
		return "a number"
	}
	switch {
	case strings.HasPrefix(t, "map["):
		return "a mapping"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	}
	return "a " + t[strings.LastIndex(t, ".")+1:]
}

// pathAtOffset finds the field path of the first JSON value that ends at
// or after byte offset off (where encoding/json reports a type error).
func pathAtOffset(data []byte, off int64) (string, bool) {
	if off < 0 {
		return "", false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []jsonFrame
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		top := len(stack) - 1
		if top >= 0 && stack[top].object && stack[top].wantKey {
			if k, ok := tok.(string); ok {
				stack[top].key, stack[top].wantKey = k, false
				continue
			}
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:top]
			valueDone(stack)
			continue
		}
		if dec.InputOffset() >= off {
			return renderPath(stack), true
		}
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, jsonFrame{object: d == '{', wantKey: d == '{'})
			continue
		}
		valueDone(stack)
	}
}

type jsonFrame struct {
	object  bool
	wantKey bool
	key     string
	index   int
}

func valueDone(stack []jsonFrame) {
	if len(stack) == 0 {
		return
	}
	f := &stack[len(stack)-1]
	if f.object {
		f.wantKey = true
	} else {
		f.index++
	}
}

func renderPath(stack []jsonFrame) string {
	segs := make([]manifest.PathSegment, 0, len(stack))
	for _, f := range stack {
		switch {
		case !f.object:
			segs = append(segs, manifest.PathSegment{Index: f.index})
		case f.wantKey: // an object whose key is not read yet: the object itself
		default:
			segs = append(segs, manifest.PathSegment{Key: f.key, Index: -1})
		}
	}
	return manifest.JoinPath(segs)
}

// deletePath removes the value at path from a JSON-compatible value (a
// sequence item becomes null, keeping the indexes of the others).
func deletePath(v any, path string) bool {
	return atPath(v, path, func(m map[string]any, key string) bool {
		_, ok := m[key]
		delete(m, key)
		return ok
	})
}

// setNil replaces the value at path with null (which every field decodes
// as its zero value), keeping the shape of v.
func setNil(v any, path string) {
	atPath(v, path, func(m map[string]any, key string) bool {
		m[key] = nil
		return true
	})
}

// atPath walks v to path; at a mapping key it calls inMap, and it sets a
// sequence item to null. It reports what inMap reports, or whether the
// item exists.
func atPath(v any, path string, inMap func(m map[string]any, key string) bool) bool {
	segs := splitPath(path)
	for i, s := range segs {
		last := i == len(segs)-1
		switch c := v.(type) {
		case map[string]any:
			if last {
				return inMap(c, s)
			}
			v = c[s]
		case []any:
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 || n >= len(c) {
				return false
			}
			if last {
				c[n] = nil
				return true
			}
			v = c[n]
		default:
			return false
		}
	}
	return false
}

// splitPath splits a field path into keys and indexes (as text), with
// manifest's one path parser.
func splitPath(p string) []string {
	segs := manifest.SplitPath(p)
	out := make([]string, len(segs))
	for i, s := range segs {
		if s.Index >= 0 {
			out[i] = strconv.Itoa(s.Index)
		} else {
			out[i] = s.Key
		}
	}
	return out
}

func deepCopy(v any) any {
	switch c := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(c))
		for k, x := range c {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		s := make([]any, len(c))
		for i, x := range c {
			s[i] = deepCopy(x)
		}
		return s
	}
	return v
}

// leafPaths lists the paths of the scalar values in v, in a stable order.
func leafPaths(v any, prefix []manifest.PathSegment, out []string) []string {
	switch c := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(c))
		for k := range c {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = leafPaths(c[k], append(prefix, manifest.PathSegment{Key: k, Index: -1}), out)
		}
	case []any:
		for i, x := range c {
			out = leafPaths(x, append(prefix, manifest.PathSegment{Index: i}), out)
		}
	default:
		out = append(out, manifest.JoinPath(prefix))
	}
	return out
}

// locateValueError finds the scalar whose value a type's own decoder
// rejected with err (such errors carry no offset). The decoder reports
// the first failing value in the order json.Marshal writes keys, which
// is leafPaths' order: nulling the scalars before it keeps err, nulling
// it too changes err. A binary search, so a handful of decodes.
func locateValueError(value any, typed runtime.Object, err error) (string, bool) {
	leaves := leafPaths(value, nil, nil)
	same := func(k int) bool { // err still, with the first k scalars nulled
		v := deepCopy(value)
		for _, p := range leaves[:k] {
			setNil(v, p)
		}
		data, merr := marshal(v)
		if merr != nil {
			return false
		}
		fresh := reflect.New(reflect.TypeOf(typed).Elem()).Interface()
		_, e := kjson.UnmarshalStrict(data, fresh, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
		return e != nil && e.Error() == err.Error()
	}
	if len(leaves) == 0 || same(len(leaves)) {
		return "", false
	}
	k := sort.Search(len(leaves)+1, func(k int) bool { return !same(k) })
	if k == 0 {
		return "", false
	}
	return leaves[k-1], true
}
