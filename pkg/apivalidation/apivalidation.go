// Package apivalidation validates built-in objects the way the API server
// validates a create, with the API server's own code: the object is
// decoded with the API server's scheme (defaulting, conversion to the
// internal version), then the registry strategy of its resource prepares
// and validates it (generateName, PrepareForCreate, rest.ValidateCreate:
// hand-written and declarative validation, object metadata). It is the
// only package that imports k8s.io/kubernetes, and only the CLI links it:
// a validating webhook sees objects the API server has already validated.
//
// What the API server does before validation and that is not part of a
// strategy is emulated: privileged containers are allowed (the
// --allow-privileged=true that kubeadm and kind run with), a Pod without
// a service account gets "default" (the ServiceAccount admission plugin),
// a Service gets the cluster IPs, IP families and node ports its storage
// would allocate, and a namespaced object without a namespace is created
// in "default".
package apivalidation

import (
	"encoding/json"
	"flag"
	"io"
	"slices"
	"sync"

	"github.com/klint-dev/klint/pkg/apicreate"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta/testrestmapper"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/util/version"
	validatingpolicy "k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/cel/openapi/resolver"
	"k8s.io/apiserver/pkg/registry/rest"
	utilfeature "k8s.io/apiserver/pkg/util/feature"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/klog/v2"
	apiregistrationinstall "k8s.io/kube-aggregator/pkg/apis/apiregistration/install"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	api "k8s.io/kubernetes/pkg/apis/core"
	"k8s.io/kubernetes/pkg/capabilities"
	generatedopenapi "k8s.io/kubernetes/pkg/generated/openapi"

	_ "k8s.io/kubernetes/pkg/apis/admissionregistration/install"
	_ "k8s.io/kubernetes/pkg/apis/apiserverinternal/install"
	_ "k8s.io/kubernetes/pkg/apis/apps/install"
	_ "k8s.io/kubernetes/pkg/apis/autoscaling/install"
	_ "k8s.io/kubernetes/pkg/apis/batch/install"
	_ "k8s.io/kubernetes/pkg/apis/certificates/install"
	_ "k8s.io/kubernetes/pkg/apis/coordination/install"
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	_ "k8s.io/kubernetes/pkg/apis/discovery/install"
	_ "k8s.io/kubernetes/pkg/apis/flowcontrol/install"
	_ "k8s.io/kubernetes/pkg/apis/networking/install"
	_ "k8s.io/kubernetes/pkg/apis/node/install"
	_ "k8s.io/kubernetes/pkg/apis/policy/install"
	_ "k8s.io/kubernetes/pkg/apis/rbac/install"
	_ "k8s.io/kubernetes/pkg/apis/resource/install"
	_ "k8s.io/kubernetes/pkg/apis/scheduling/install"
	_ "k8s.io/kubernetes/pkg/apis/storage/install"
	_ "k8s.io/kubernetes/pkg/apis/storagemigration/install"
)

// Validator is safe for concurrent use.
type Validator struct {
	decoder runtime.Decoder
}

var setup = sync.OnceFunc(func() {
	// The API server's code logs through klog; klint's output is its own.
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	_ = fs.Set("logtostderr", "false")
	_ = fs.Set("alsologtostderr", "false")
	_ = fs.Set("stderrthreshold", "FATAL")
	klog.SetOutput(io.Discard)
	capabilities.Initialize(capabilities.Capabilities{AllowPrivileged: true})
	// APIService is served by the aggregator inside every kube-apiserver,
	// from its own scheme.
	apiregistrationinstall.Install(legacyscheme.Scheme)
	codeVersion()
})

// EmulateVersion implements schema.APIValidator.
func (v *Validator) EmulateVersion(major, minor int) error { return emulateVersion(major, minor) }

// emulateVersion sets the feature gates of the API server's code to
// their defaults at Kubernetes major.minor (the target version), as
// kube-apiserver --emulated-version does: a gate that was alpha then is
// off, one not yet introduced is off, one now GA but beta-off then is off.
// The gates are the process's: one process judges against one version.
// A version newer than the bundled code's keeps the code's defaults.
func emulateVersion(major, minor int) error {
	setup()
	v := version.MajorMinor(uint(major), uint(minor))
	if v.GreaterThan(codeVersion()) {
		v = codeVersion()
	}
	return utilfeature.DefaultMutableFeatureGate.SetEmulationVersion(v)
}

// codeVersion is the version the bundled API server code emulates by
// default: its own.
var codeVersion = sync.OnceValue(func() *version.Version {
	return utilfeature.DefaultMutableFeatureGate.EmulationVersion()
})

// New returns a Validator.
func New() *Validator {
	setup()
	return &Validator{decoder: legacyscheme.Codecs.UniversalDecoder()}
}

// ValidateCreate validates data, the JSON of an object of a built-in kind,
// as the API server validates its create, with the warnings the server
// returns when it creates it; ok is false when the kind is
// not one the validator knows, or data does not decode (the strict
// decoding that runs before it reports why).
func (v *Validator) ValidateCreate(gvk schema.GroupVersionKind, data []byte) (errs field.ErrorList, warnings []string, ok bool) {
	return validateCreate(gvk, func() (runtime.Object, bool) { return v.decode(gvk, data) })
}

// ValidateCreateDecoded is ValidateCreate of an object already decoded
// into its versioned type from that JSON as the API server's decoder
// decodes it (case-sensitive, unknown fields dropped: what the strict
// decoding of the schema stage leaves when it succeeds), sparing the
// JSON a second decoding. decoded is not changed: a copy of it is
// defaulted and converted to the internal version.
func (v *Validator) ValidateCreateDecoded(gvk schema.GroupVersionKind, decoded runtime.Object) (errs field.ErrorList, warnings []string, ok bool) {
	return validateCreate(gvk, func() (runtime.Object, bool) {
		versioned := decoded.DeepCopyObject()
		versioned.GetObjectKind().SetGroupVersionKind(gvk)
		legacyscheme.Scheme.Default(versioned)
		internal, err := legacyscheme.Scheme.ConvertToVersion(versioned, runtime.InternalGroupVersioner)
		if err != nil {
			return nil, false
		}
		return prepare(internal)
	})
}

// validateCreate validates the internal object that internal makes (false:
// none) with its kind's strategy.
func validateCreate(gvk schema.GroupVersionKind, internal func() (runtime.Object, bool)) (errs field.ErrorList, warnings []string, ok bool) {
	res, known := strategies[gvk.GroupKind()]
	if !known {
		return nil, nil, false
	}
	defer func() {
		// A strategy that panics on an object the server would not have
		// let reach it (a nil the decoder never leaves) is not a verdict.
		if r := recover(); r != nil {
			errs, warnings, ok = nil, nil, false
		}
	}()
	obj, ok := internal()
	if !ok {
		return nil, nil, false
	}
	return apicreate.ValidateWithWarnings(obj, res.strategy, gvk.GroupVersion().WithResource(res.name))
}

// decode decodes data as the API server does (defaults, conversion to the
// internal version) and does what the admission plugins and the Service
// storage do before the strategy validates a create (the rest of the
// create path is apicreate's).
func (v *Validator) decode(gvk schema.GroupVersionKind, data []byte) (runtime.Object, bool) {
	obj, _, err := v.decoder.Decode(data, &gvk, nil)
	if err != nil {
		return nil, false
	}
	return prepare(obj)
}

// prepare does to a decoded object what the admission plugins and the
// Service storage do before the strategy validates a create.
func prepare(obj runtime.Object) (runtime.Object, bool) {
	switch o := obj.(type) {
	case *api.Pod:
		if o.Spec.ServiceAccountName == "" {
			o.Spec.ServiceAccountName = "default"
			o.Spec.DeprecatedServiceAccount = "default" //nolint:staticcheck // set by the admission plugin too
		}
	case *api.Service:
		allocate(o)
	}
	return obj, true
}

// ValidateUpdate validates data, the JSON of an object of a built-in
// kind, as the API server validates an apply of it over oldData, the
// object's previous manifest (of kind oldGVK), which the server created:
// the old object goes through the create path (defaults, what the server
// allocates and generates), the new manifest is applied over it as
// kubectl apply does (what the old manifest set and the new one does not
// is removed; what neither set is kept), and the strategy's update path
// judges the result against the old object. The warnings are those the
// server sends back on the update. ok is false when the kind is not one
// the validator knows, either side does not decode, or the old object
// would not have been created (then the change is judged as a create).
func (v *Validator) ValidateUpdate(gvk schema.GroupVersionKind, data []byte, oldGVK schema.GroupVersionKind, oldData []byte) (errs field.ErrorList, warnings []string, ok bool) {
	res, known := strategies[gvk.GroupKind()]
	if !known || oldGVK.GroupKind() != gvk.GroupKind() {
		return nil, nil, false
	}
	us, updatable := res.strategy.(rest.RESTUpdateStrategy)
	if !updatable {
		return nil, nil, false
	}
	defer func() {
		if r := recover(); r != nil {
			errs, warnings, ok = nil, nil, false
		}
	}()
	resource := gvk.GroupVersion().WithResource(res.name)
	old, ok := v.decode(oldGVK, oldData)
	if !ok {
		return nil, nil, false
	}
	if errs, _, ok := apicreate.ValidateWithWarnings(old, res.strategy, resource); !ok || len(errs) > 0 {
		return nil, nil, false
	}
	live, err := runtime.Encode(legacyscheme.Codecs.LegacyCodec(gvk.GroupVersion()), old)
	if err != nil {
		return nil, nil, false
	}
	versioned, err := legacyscheme.Scheme.New(gvk)
	if err != nil {
		return nil, nil, false
	}
	merged, err := apicreate.Apply(oldData, data, live, versioned)
	if err != nil {
		return nil, nil, false
	}
	obj, _, err := v.decoder.Decode(merged, &gvk, nil)
	if err != nil {
		return nil, nil, false
	}
	if s, ok := obj.(*api.Service); ok {
		syncClusterIPs(s, old.(*api.Service))
		allocate(s)
	}
	return apicreate.ValidateUpdate(obj, old, us, resource)
}

// syncClusterIPs does what the Service storage does to an update before
// its strategy sees it: clusterIP and clusterIPs are kept in step when
// the manifest changes or clears only the first (as an apply that names
// only clusterIP does), and allocated IPs the update leaves out are the
// old ones.
func syncClusterIPs(s, old *api.Service) {
	same := slices.Equal(s.Spec.ClusterIPs, old.Spec.ClusterIPs)
	switch {
	case len(old.Spec.ClusterIPs) > 0 && len(s.Spec.ClusterIPs) == 0 && old.Spec.ClusterIP == s.Spec.ClusterIP:
		s.Spec.ClusterIPs = old.Spec.ClusterIPs
	case old.Spec.ClusterIP == s.Spec.ClusterIP || !same:
	case s.Spec.ClusterIP == "":
		s.Spec.ClusterIPs = nil
	default:
		s.Spec.ClusterIPs = []string{s.Spec.ClusterIP}
	}
}

// allocate gives a Service what its storage allocates before the create
// is validated: IP families, cluster IPs and node ports.
func allocate(s *api.Service) {
	if s.Spec.Type == api.ServiceTypeExternalName {
		return
	}
	if s.Spec.IPFamilyPolicy == nil {
		p := api.IPFamilyPolicySingleStack
		s.Spec.IPFamilyPolicy = &p
	}
	if len(s.Spec.IPFamilies) == 0 {
		s.Spec.IPFamilies = []api.IPFamily{api.IPv4Protocol}
	}
	if s.Spec.ClusterIP == "" && len(s.Spec.ClusterIPs) > 0 {
		s.Spec.ClusterIP = s.Spec.ClusterIPs[0]
	}
	if s.Spec.ClusterIP == "" {
		s.Spec.ClusterIP = "10.96.0.10"
	}
	if len(s.Spec.ClusterIPs) == 0 {
		s.Spec.ClusterIPs = []string{s.Spec.ClusterIP}
	}
	if s.Spec.Type == api.ServiceTypeNodePort || s.Spec.Type == api.ServiceTypeLoadBalancer &&
		(s.Spec.AllocateLoadBalancerNodePorts == nil || *s.Spec.AllocateLoadBalancerNodePorts) {
		used := map[int32]bool{}
		for _, p := range s.Spec.Ports {
			used[p.NodePort] = true
		}
		next := int32(30000)
		for i := range s.Spec.Ports {
			if s.Spec.Ports[i].NodePort == 0 {
				for used[next] {
					next++
				}
				s.Spec.Ports[i].NodePort, used[next] = next, true
			}
		}
	}
	if s.Spec.Type == api.ServiceTypeLoadBalancer && s.Spec.ExternalTrafficPolicy == api.ServiceExternalTrafficPolicyLocal && s.Spec.HealthCheckNodePort == 0 {
		s.Spec.HealthCheckNodePort = 32000
	}
}

// Defaulted is typed, an object of a built-in kind decoded in its
// version (k8s.io/api), with the defaults the API server gives it there
// (a Deployment's replicas, a container's imagePullPolicy), as admission
// sees it; for a Pod, with what the admission plugins that run before
// validation add (the default service account, the not-ready and
// unreachable tolerations). typed is not changed; ok is false when the
// object cannot be converted.
func Defaulted(typed runtime.Object) (obj map[string]any, ok bool) {
	setup()
	gvk := typed.GetObjectKind().GroupVersionKind()
	typed = typed.DeepCopyObject()
	legacyscheme.Scheme.Default(typed)
	if p, isPod := typed.(*corev1.Pod); isPod {
		admitPod(p)
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(typed)
	if err != nil {
		return nil, false
	}
	obj["apiVersion"], obj["kind"] = gvk.GroupVersion().String(), gvk.Kind
	return obj, true
}

// DefaultedJSON is Defaulted for data, the JSON of an object of kind gvk.
func DefaultedJSON(gvk schema.GroupVersionKind, data []byte) (map[string]any, bool) {
	typed, err := legacyscheme.Scheme.New(gvk)
	if err != nil || json.Unmarshal(data, typed) != nil {
		return nil, false
	}
	typed.GetObjectKind().SetGroupVersionKind(gvk)
	return Defaulted(typed)
}

// admitPod does what the ServiceAccount and DefaultTolerationSeconds
// admission plugins do to a Pod before it is validated.
func admitPod(p *corev1.Pod) {
	if p.Spec.ServiceAccountName == "" {
		p.Spec.ServiceAccountName = "default"
	}
	seconds := int64(300)
	for _, key := range []string{corev1.TaintNodeNotReady, corev1.TaintNodeUnreachable} {
		has := false
		for _, t := range p.Spec.Tolerations {
			has = has || t.Key == key && (t.Effect == corev1.TaintEffectNoExecute || t.Effect == "")
		}
		if !has {
			p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: &seconds})
		}
	}
}

// typeChecker type-checks policies as the API server's controller does,
// against the built-in kinds' OpenAPI schemas; built on first use.
var typeChecker = sync.OnceValue(func() *validatingpolicy.TypeChecker {
	return &validatingpolicy.TypeChecker{
		SchemaResolver: resolver.NewDefinitionsSchemaResolver(generatedopenapi.GetOpenAPIDefinitions, clientscheme.Scheme),
		RestMapper:     testrestmapper.TestOnlyStaticRESTMapper(clientscheme.Scheme),
	}
})

// TypeCheck is what the API server's type checking says of a policy's
// expressions, against the schemas of the built-in kinds it matches (the
// warnings it writes in status.typeChecking), each "field: warning".
// A rule of every version ("*") is checked against each group's
// preferred version (the server's controller checks no wildcard).
func TypeCheck(p *admissionregistrationv1.ValidatingAdmissionPolicy) []string {
	p = p.DeepCopy()
	if mc := p.Spec.MatchConstraints; mc != nil {
		for i, r := range mc.ResourceRules {
			if !slices.Contains(r.APIVersions, "*") || len(r.APIGroups) != 1 {
				continue
			}
			if vs := clientscheme.Scheme.PrioritizedVersionsForGroup(r.APIGroups[0]); len(vs) > 0 {
				mc.ResourceRules[i].APIVersions = []string{vs[0].Version}
			}
		}
	}
	var out []string
	for _, w := range typeChecker().Check(p) {
		out = append(out, w.FieldRef+": "+w.Warning)
	}
	return out
}
