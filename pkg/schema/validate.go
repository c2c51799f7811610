package schema

import (
	"slices"
	"strconv"

	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/workload"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/meta"
	objvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metavalidation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validate applies the API server's validation that matters for
// manifests: object metadata, pod specs, Services, ConfigMap and Secret
// keys and workload selectors. Messages name keys and names, never
// values that could be secrets.
func validate(o *manifest.Object, typed runtime.Object, w *workload.Workload) []Issue {
	var errs field.ErrorList
	if acc, err := apivalidation.Accessor(typed); err == nil {
		errs = append(errs, validateMeta(acc, nameRule(typed))...)
	}
	if w != nil {
		errs = append(errs, validatePodSpec(*w)...)
		errs = append(errs, validateSelector(o, *w)...)
	}
	switch t := typed.(type) {
	case *corev1.Service:
		errs = append(errs, validateService(t)...)
	case *corev1.ConfigMap:
		errs = append(errs, validateKeys(keysOf(t.Data), field.NewPath("data"))...)
		errs = append(errs, validateKeys(keysOf(t.BinaryData), field.NewPath("binaryData"))...)
	case *corev1.Secret:
		errs = append(errs, validateKeys(keysOf(t.Data), field.NewPath("data"))...)
		errs = append(errs, validateKeys(keysOf(t.StringData), field.NewPath("stringData"))...)
	}
	issues := make([]Issue, 0, len(errs))
	for _, e := range errs {
		issues = append(issues, Issue{RuleSchema, e.Field, e.ErrorBody()})
	}
	return issues
}

func keysOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}

// nameRule is the name syntax the API server requires of each kind.
func nameRule(obj runtime.Object) objvalidation.ValidateNameFunc {
	switch obj.(type) {
	case *corev1.Service:
		return objvalidation.NameIsDNS1035Label
	case *corev1.Namespace:
		return objvalidation.NameIsDNSLabel
	case *rbacv1.Role, *rbacv1.ClusterRole, *rbacv1.RoleBinding, *rbacv1.ClusterRoleBinding:
		return path.ValidatePathSegmentName
	}
	return objvalidation.NameIsDNSSubdomain
}

func validateMeta(meta metav1.Object, nameFn objvalidation.ValidateNameFunc) field.ErrorList {
	// Manifests usually leave the namespace to kubectl; judge the rest of
	// the metadata as if it were set.
	ns := meta.GetNamespace()
	if ns == "" {
		meta.SetNamespace(metav1.NamespaceDefault)
		defer meta.SetNamespace("")
	}
	// The API server names an object with generateName and no name
	// before validating it (generateName plus five random characters).
	generated := meta.GetName() == "" && meta.GetGenerateName() != ""
	if generated {
		meta.SetName(meta.GetGenerateName() + "x7k2q")
		defer meta.SetName("")
	}
	errs := objvalidation.ValidateObjectMetaAccessor(meta, true, nameFn, field.NewPath("metadata"))
	if generated { // an invalid generated name is the generateName's fault, said once
		var badPrefix bool
		for _, e := range errs {
			badPrefix = badPrefix || e.Field == "metadata.generateName"
		}
		if badPrefix {
			errs = slices.DeleteFunc(errs, func(e *field.Error) bool { return e.Field == "metadata.name" })
		}
	}
	return errs
}

func validatePodSpec(w workload.Workload) field.ErrorList {
	var errs field.ErrorList
	specPath := parsePathExpr(w.SpecPath)
	if len(w.Spec.Containers) == 0 {
		errs = append(errs, field.Required(specPath.Child("containers"), "a pod needs at least one container"))
	}
	errs = append(errs, metavalidation.ValidateLabels(w.Labels, parsePathExpr(w.LabelsPath))...)
	names := sets.New[string]()
	for _, c := range w.Containers() {
		p := parsePathExpr(c.Path)
		switch {
		case c.C.Name == "":
			errs = append(errs, field.Required(p.Child("name"), "every container needs a name"))
		case names.Has(c.C.Name):
			errs = append(errs, field.Duplicate(p.Child("name"), c.C.Name))
		default:
			for _, msg := range validation.IsDNS1123Label(c.C.Name) {
				errs = append(errs, field.Invalid(p.Child("name"), c.C.Name, msg))
			}
		}
		names.Insert(c.C.Name)
		if c.C.Image == "" {
			errs = append(errs, field.Required(p.Child("image"), "the API server requires an image for every container"))
		}
		errs = append(errs, validateContainerPorts(c.C.Ports, p.Child("ports"))...)
		for _, pr := range []struct {
			name  string
			probe *corev1.Probe
		}{{"livenessProbe", c.C.LivenessProbe}, {"readinessProbe", c.C.ReadinessProbe}, {"startupProbe", c.C.StartupProbe}} {
			errs = append(errs, validateProbe(pr.probe, p.Child(pr.name))...)
		}
	}
	return errs
}

func validateContainerPorts(ports []corev1.ContainerPort, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for i, port := range ports {
		ip := p.Index(i)
		if port.Name != "" {
			for _, msg := range validation.IsValidPortName(port.Name) {
				errs = append(errs, field.Invalid(ip.Child("name"), port.Name, msg))
			}
			if names.Has(port.Name) {
				errs = append(errs, field.Duplicate(ip.Child("name"), port.Name))
			}
			names.Insert(port.Name)
		}
		if port.ContainerPort == 0 {
			errs = append(errs, field.Required(ip.Child("containerPort"), ""))
		} else {
			for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
				errs = append(errs, field.Invalid(ip.Child("containerPort"), port.ContainerPort, msg))
			}
		}
		if port.HostPort != 0 {
			for _, msg := range validation.IsValidPortNum(int(port.HostPort)) {
				errs = append(errs, field.Invalid(ip.Child("hostPort"), port.HostPort, msg))
			}
		}
		errs = append(errs, validateProtocol(port.Protocol, ip.Child("protocol"))...)
	}
	return errs
}

func validateProtocol(p corev1.Protocol, fp *field.Path) field.ErrorList {
	switch p {
	case "", corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		return nil
	}
	return field.ErrorList{field.NotSupported(fp, p, []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP})}
}

func validateProbe(pr *corev1.Probe, p *field.Path) field.ErrorList {
	if pr == nil {
		return nil
	}
	n := 0
	for _, set := range []bool{pr.Exec != nil, pr.HTTPGet != nil, pr.TCPSocket != nil, pr.GRPC != nil} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return field.ErrorList{field.Required(p, "must specify a handler type (exec, httpGet, tcpSocket or grpc)")}
	case n > 1:
		return field.ErrorList{field.Forbidden(p, "may not specify more than one handler type")}
	}
	var port *intstr.IntOrString
	var pp *field.Path
	if pr.HTTPGet != nil {
		port, pp = &pr.HTTPGet.Port, p.Child("httpGet", "port")
	} else if pr.TCPSocket != nil {
		port, pp = &pr.TCPSocket.Port, p.Child("tcpSocket", "port")
	}
	if port != nil {
		return validatePortNumOrName(*port, pp)
	}
	return nil
}

func validatePortNumOrName(port intstr.IntOrString, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if port.Type == intstr.Int {
		for _, msg := range validation.IsValidPortNum(port.IntValue()) {
			errs = append(errs, field.Invalid(p, port.IntValue(), msg))
		}
		return errs
	}
	for _, msg := range validation.IsValidPortName(port.StrVal) {
		errs = append(errs, field.Invalid(p, port.StrVal, msg))
	}
	return errs
}

func validateService(s *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	switch s.Spec.Type {
	case "", corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName:
	default:
		errs = append(errs, field.NotSupported(spec.Child("type"), s.Spec.Type,
			[]corev1.ServiceType{corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer, corev1.ServiceTypeExternalName}))
	}
	headless := s.Spec.ClusterIP == corev1.ClusterIPNone
	if len(s.Spec.Ports) == 0 && s.Spec.Type != corev1.ServiceTypeExternalName && !headless {
		errs = append(errs, field.Required(spec.Child("ports"), "a Service needs at least one port (unless it is headless or ExternalName)"))
	}
	if s.Spec.Type == corev1.ServiceTypeExternalName && s.Spec.ExternalName == "" {
		errs = append(errs, field.Required(spec.Child("externalName"), "an ExternalName Service needs externalName"))
	}
	names := sets.New[string]()
	for i, port := range s.Spec.Ports {
		ip := spec.Child("ports").Index(i)
		if port.Name == "" && len(s.Spec.Ports) > 1 {
			errs = append(errs, field.Required(ip.Child("name"), "a Service with more than one port must name each port"))
		} else if port.Name != "" {
			for _, msg := range validation.IsDNS1123Label(port.Name) {
				errs = append(errs, field.Invalid(ip.Child("name"), port.Name, msg))
			}
			if names.Has(port.Name) {
				errs = append(errs, field.Duplicate(ip.Child("name"), port.Name))
			}
			names.Insert(port.Name)
		}
		for _, msg := range validation.IsValidPortNum(int(port.Port)) {
			errs = append(errs, field.Invalid(ip.Child("port"), port.Port, msg))
		}
		if port.TargetPort.Type == intstr.String || port.TargetPort.IntValue() != 0 {
			errs = append(errs, validatePortNumOrName(port.TargetPort, ip.Child("targetPort"))...)
		}
		if port.NodePort != 0 {
			for _, msg := range validation.IsValidPortNum(int(port.NodePort)) {
				errs = append(errs, field.Invalid(ip.Child("nodePort"), port.NodePort, msg))
			}
		}
		errs = append(errs, validateProtocol(port.Protocol, ip.Child("protocol"))...)
	}
	errs = append(errs, metavalidation.ValidateLabels(s.Spec.Selector, spec.Child("selector"))...)
	return errs
}

func validateKeys(keys []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, k := range keys {
		for _, msg := range validation.IsConfigMapKey(k) {
			errs = append(errs, field.Invalid(p.Key(k), k, msg))
		}
	}
	return errs
}

// validateSelector checks what the API server requires of a workload's
// selector. Whether it matches the template is the
// workload-selector-mismatch rule's job, so that each problem is reported
// once.
func validateSelector(o *manifest.Object, w workload.Workload) field.ErrorList {
	if w.Pod || w.EqualitySelector != nil || o.Kind == "PodTemplate" {
		return nil
	}
	sel := field.NewPath("spec", "selector")
	if o.Kind == "CronJob" {
		sel = field.NewPath("spec", "jobTemplate", "spec", "selector")
	}
	if w.Selector == nil {
		// apps/v1 made the selector required; Jobs generate their own.
		if o.APIVersion == "apps/v1" {
			return field.ErrorList{field.Required(sel, "apps/v1 "+o.Kind+" needs spec.selector matching its pod template labels")}
		}
		return nil
	}
	if len(w.Selector.MatchLabels)+len(w.Selector.MatchExpressions) == 0 && o.APIVersion == "apps/v1" {
		return field.ErrorList{field.Invalid(sel, "{}", "empty selector is invalid for "+o.Kind)}
	}
	return metavalidation.ValidateLabelSelector(w.Selector, metavalidation.LabelSelectorValidationOptions{}, sel)
}

// parsePathExpr turns a dotted path made by package workload into a
// field.Path.
func parsePathExpr(p string) *field.Path {
	var fp *field.Path
	for _, s := range splitPath(p) {
		if fp == nil {
			fp = field.NewPath(s)
			continue
		}
		if n, err := strconv.Atoi(s); err == nil && strconv.Itoa(n) == s {
			fp = fp.Index(n)
		} else {
			fp = fp.Child(s)
		}
	}
	return fp
}
