package workload

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	extensionsv1beta1 "k8s.io/api/extensions/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestOf(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	spec := corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init"}, {Name: "sidecar", RestartPolicy: &always}},
		Containers:     []corev1.Container{{Name: "main"}},
	}
	tmpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}}, Spec: spec}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "x"}}
	cases := []struct {
		obj       runtime.Object
		specPath  string
		completes bool
		selector  bool
	}{
		{&corev1.Pod{Spec: spec}, "spec", false, false},
		{&corev1.Pod{Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever}}, "spec", true, false},
		{&appsv1.Deployment{Spec: appsv1.DeploymentSpec{Selector: sel, Template: tmpl}}, "spec.template.spec", false, true},
		{&extensionsv1beta1.DaemonSet{Spec: extensionsv1beta1.DaemonSetSpec{Template: tmpl}}, "spec.template.spec", false, false},
		{&batchv1.Job{Spec: batchv1.JobSpec{Template: tmpl}}, "spec.template.spec", true, false},
		{&batchv1.CronJob{Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tmpl}}}}, "spec.jobTemplate.spec.template.spec", true, false},
		{&corev1.ReplicationController{Spec: corev1.ReplicationControllerSpec{Selector: map[string]string{"app": "x"}, Template: &tmpl}}, "spec.template.spec", false, true},
	}
	for _, c := range cases {
		w, ok := Of(c.obj)
		if !ok || w.SpecPath != c.specPath || w.RunsToCompletion != c.completes || w.HasSelector != c.selector {
			t.Errorf("%T: ok=%v %+v", c.obj, ok, w)
		}
	}
	w, _ := Of(&appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Template: tmpl}})
	cs := w.Containers()
	if len(cs) != 3 || cs[1].Path != "spec.template.spec.initContainers[1]" || !cs[1].Init || cs[2].Path != "spec.template.spec.containers[0]" || cs[2].Init {
		t.Errorf("containers = %+v", cs)
	}
	if w.LabelsPath != "spec.template.metadata.labels" || w.Labels["app"] != "x" {
		t.Errorf("labels %s %v", w.LabelsPath, w.Labels)
	}
	if _, ok := Of(&corev1.ConfigMap{}); ok {
		t.Error("ConfigMap is not a workload")
	}
	if _, ok := Of(&corev1.ReplicationController{}); ok {
		t.Error("RC without template")
	}
}
