package apicreate

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	api "k8s.io/kubernetes/pkg/apis/core"
	_ "k8s.io/kubernetes/pkg/apis/core/install"
	"k8s.io/kubernetes/pkg/registry/core/configmap"
	"k8s.io/kubernetes/pkg/registry/core/pod"
)

var (
	configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	pods       = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
)

// A namespaced object without a namespace is created in default, as the
// server does, and a valid one has no errors.
func TestCreateInDefault(t *testing.T) {
	cm := &api.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings"}, Data: map[string]string{"a": "b"}}
	errs, ok := Validate(cm, configmap.Strategy, configMaps)
	if !ok || len(errs) != 0 || cm.Namespace != "default" {
		t.Errorf("ok %v, errs %v, namespace %q", ok, errs, cm.Namespace)
	}
}

// An error about a generated name is said once, about the generateName a
// person wrote.
func TestGeneratedNameErrorsAreAboutGenerateName(t *testing.T) {
	cm := &api.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "Bad_Prefix-"}}
	errs, ok := Validate(cm, configmap.Strategy, configMaps)
	if !ok || len(errs) != 1 || errs[0].Field != "metadata.generateName" {
		t.Errorf("ok %v, errs %v", ok, errs)
	}
}

// The warnings of the create path: the strategy's WarningsOnCreate and
// what PrepareForCreate adds to the request's context (the Pod strategy's
// about AppArmor annotations).
func TestWarningsOnCreate(t *testing.T) {
	p := &api.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Annotations: map[string]string{"container.apparmor.security.beta.kubernetes.io/web": "runtime/default"}},
		Spec: api.PodSpec{
			Containers:                    []api.Container{{Name: "web", Image: "registry.example.com/web:1", ImagePullPolicy: api.PullIfNotPresent, TerminationMessagePolicy: api.TerminationMessageReadFile}},
			RestartPolicy:                 api.RestartPolicyAlways,
			DNSPolicy:                     api.DNSClusterFirst,
			ServiceAccountName:            "default",
			DeprecatedServiceAccount:      "default",
			SchedulerName:                 "default-scheduler",
			TerminationGracePeriodSeconds: new(int64),
			NodeSelector:                  map[string]string{"beta.kubernetes.io/os": "linux"},
		},
	}
	errs, warnings, ok := ValidateWithWarnings(p, pod.Strategy, pods)
	if !ok || len(errs) != 0 {
		t.Fatalf("ok %v, errs %v", ok, errs)
	}
	joined := strings.Join(warnings, "\n")
	if !strings.Contains(joined, `"appArmorProfile" field instead`) || !strings.Contains(joined, `use "kubernetes.io/os" instead`) {
		t.Errorf("warnings:\n%s", joined)
	}
}
