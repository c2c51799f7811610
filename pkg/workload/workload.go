// Package workload gives one view of every object that runs pods: the pod
// spec, the labels its pods get, the selector that must match them, and
// the field paths to each, whatever the kind and apiVersion.
package workload

import (
	"encoding/json"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	appsv1beta1 "k8s.io/api/apps/v1beta1"
	appsv1beta2 "k8s.io/api/apps/v1beta2"
	batchv1 "k8s.io/api/batch/v1"
	batchv1beta1 "k8s.io/api/batch/v1beta1"
	corev1 "k8s.io/api/core/v1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Workload is a pod-bearing object seen through its pod template.
type Workload struct {
	// Spec is the pod spec; never nil.
	Spec *corev1.PodSpec
	// SpecPath is the field path of Spec ("spec.template.spec", or "spec"
	// for a Pod).
	SpecPath string
	// Labels are the labels the pods get (the template's, or the Pod's).
	Labels map[string]string
	// LabelsPath is the field path of Labels.
	LabelsPath string
	// Annotations are the pods' annotations (the template's, or the
	// Pod's).
	Annotations map[string]string
	// Selector selects the pods (nil when the kind has none or it is
	// unset); EqualitySelector is used instead by ReplicationController.
	Selector         *metav1.LabelSelector
	EqualitySelector map[string]string
	HasSelector      bool
	// RunsToCompletion is true for Jobs, CronJobs and Pods whose
	// restartPolicy is not Always: their containers are not long-running.
	RunsToCompletion bool
	// Pod is true for a bare Pod (no template).
	Pod bool
}

// Of returns the workload view of a typed object, or false for kinds that
// do not run pods.
func Of(obj runtime.Object) (Workload, bool) {
	const tmpl = "spec.template"
	switch o := obj.(type) {
	case *corev1.Pod:
		w := Workload{Spec: &o.Spec, SpecPath: "spec", Labels: o.Labels, LabelsPath: "metadata.labels", Annotations: o.Annotations, Pod: true}
		w.RunsToCompletion = o.Spec.RestartPolicy == corev1.RestartPolicyNever || o.Spec.RestartPolicy == corev1.RestartPolicyOnFailure
		return w, true
	case *corev1.PodTemplate:
		return fromTemplate(&o.Template, "template", nil), true
	case *corev1.ReplicationController:
		if o.Spec.Template == nil {
			return Workload{}, false
		}
		w := fromTemplate(o.Spec.Template, tmpl, nil)
		w.EqualitySelector, w.HasSelector = o.Spec.Selector, len(o.Spec.Selector) > 0
		return w, true
	case *appsv1.Deployment:
		return fromTemplate(&o.Spec.Template, tmpl, o.Spec.Selector), true
	case *appsv1.ReplicaSet:
		return fromTemplate(&o.Spec.Template, tmpl, o.Spec.Selector), true
	case *appsv1.StatefulSet:
		return fromTemplate(&o.Spec.Template, tmpl, o.Spec.Selector), true
	case *appsv1.DaemonSet:
		return fromTemplate(&o.Spec.Template, tmpl, o.Spec.Selector), true
	case *appsv1beta1.Deployment:
		return fromTemplate(&o.Spec.Template, tmpl, o.Spec.Selector), true
	case *appsv1beta1.StatefulSet:
		return fromTemplate(&o.Spec.Template, tmpl, o.Spec.Selector), true
	case *appsv1beta2.Deployment:
		return fromTemplate(&o.Spec.Template, tmpl, o.Spec.Selector), true
	case *appsv1beta2.ReplicaSet:
		return fromTemplate(&o.Spec.Template, tmpl, o.Spec.Selector), true
	case *appsv1beta2.StatefulSet:
		return fromTemplate(&o.Spec.Template, tmpl, o.Spec.Selector), true
	case *appsv1beta2.DaemonSet:
		return fromTemplate(&o.Spec.Template, tmpl, o.Spec.Selector), true
	case *extensionsv1beta1.Deployment:
		return fromTemplate(&o.Spec.Template, tmpl, o.Spec.Selector), true
	case *extensionsv1beta1.ReplicaSet:
		return fromTemplate(&o.Spec.Template, tmpl, o.Spec.Selector), true
	case *extensionsv1beta1.DaemonSet:
		return fromTemplate(&o.Spec.Template, tmpl, o.Spec.Selector), true
	case *batchv1.Job:
		w := fromTemplate(&o.Spec.Template, tmpl, o.Spec.Selector)
		w.RunsToCompletion = true
		return w, true
	case *batchv1.CronJob:
		w := fromTemplate(&o.Spec.JobTemplate.Spec.Template, "spec.jobTemplate.spec.template", o.Spec.JobTemplate.Spec.Selector)
		w.RunsToCompletion = true
		return w, true
	case *batchv1beta1.CronJob:
		w := fromTemplate(&o.Spec.JobTemplate.Spec.Template, "spec.jobTemplate.spec.template", o.Spec.JobTemplate.Spec.Selector)
		w.RunsToCompletion = true
		return w, true
	}
	return Workload{}, false
}

func fromTemplate(t *corev1.PodTemplateSpec, path string, sel *metav1.LabelSelector) Workload {
	return Workload{
		Spec:        &t.Spec,
		SpecPath:    path + ".spec",
		Labels:      t.Labels,
		LabelsPath:  path + ".metadata.labels",
		Annotations: t.Annotations,
		Selector:    sel,
		HasSelector: sel != nil,
	}
}

// Container is one container of a pod spec with its field path.
type Container struct {
	C    *corev1.Container
	Path string
	Init bool
}

// Containers lists the init containers and containers of the pod spec,
// init containers first, with their field paths.
func (w Workload) Containers() []Container {
	var out []Container
	for i := range w.Spec.InitContainers {
		out = append(out, Container{&w.Spec.InitContainers[i], w.SpecPath + ".initContainers[" + strconv.Itoa(i) + "]", true})
	}
	for i := range w.Spec.Containers {
		out = append(out, Container{&w.Spec.Containers[i], w.SpecPath + ".containers[" + strconv.Itoa(i) + "]", false})
	}
	return out
}

// Kind is a custom resource kind that carries a pod template: Argo
// Rollouts' Rollout, OpenKruise's CloneSet, KEDA's ScaledJob, Knative's
// Service, OpenShift's DeploymentConfig, or one the configuration names.
type Kind struct {
	Group string `json:"group"`
	Kind  string `json:"kind"`
	// Template is the field path of the pod template (spec.template).
	Template string `json:"template"`
	// Selector is the field path of its label selector, if it has one.
	Selector string `json:"selector,omitempty"`
	// RunsToCompletion is true for kinds whose pods run jobs.
	RunsToCompletion bool `json:"runsToCompletion,omitempty"`
}

// CustomKinds are the custom workload kinds klint knows without being
// told.
var CustomKinds = []Kind{
	{Group: "argoproj.io", Kind: "Rollout", Template: "spec.template", Selector: "spec.selector"},
	{Group: "apps.kruise.io", Kind: "CloneSet", Template: "spec.template", Selector: "spec.selector"},
	{Group: "keda.sh", Kind: "ScaledJob", Template: "spec.jobTargetRef.template", RunsToCompletion: true},
	{Group: "serving.knative.dev", Kind: "Service", Template: "spec.template"},
	// OpenShift's; its selector is a plain map of labels, which the
	// API server checks.
	{Group: "apps.openshift.io", Kind: "DeploymentConfig", Template: "spec.template"},
}

// OfCustom returns the workload view of a custom resource of kind k, read
// from its source (value): the pod template at k.Template, decoded as a
// PodTemplateSpec, fields it does not know ignored. ok is false when the
// template is absent or not an object.
func OfCustom(value map[string]any, k Kind) (Workload, bool) {
	raw, ok := at(value, k.Template).(map[string]any)
	if !ok {
		return Workload{}, false
	}
	t, ok := FromValue[corev1.PodTemplateSpec](raw)
	if !ok {
		return Workload{}, false
	}
	var sel *metav1.LabelSelector
	if m, ok := at(value, k.Selector).(map[string]any); ok && k.Selector != "" {
		if ls, ok := FromValue[metav1.LabelSelector](m); ok {
			sel = &ls
		}
	}
	w := fromTemplate(&t, k.Template, sel)
	w.RunsToCompletion = k.RunsToCompletion
	return w, true
}

// FromValue decodes part of an object's source (JSON-compatible data)
// into a typed value, fields T does not know ignored.
func FromValue[T any](v any) (T, bool) {
	var out T
	b, err := json.Marshal(v)
	if err != nil || json.Unmarshal(b, &out) != nil {
		return out, false
	}
	return out, true
}

// at is the value at a dotted field path of keys, or nil.
func at(v map[string]any, path string) any {
	var cur any = v
	for _, key := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[key]
	}
	return cur
}
