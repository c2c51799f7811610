// Package reviewmix makes the request mix the webhook is measured with
// (make bench-webhook, and pkg/admission's endpoint benchmarks): one
// AdmissionReview for each object of a directory's fixtures that load
// cleanly (Deployments, Services, Pods, ConfigMaps, Secrets…).
package reviewmix

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/manifest"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// Bodies are the AdmissionReview bodies (CREATE, namespace bench) of the
// objects under dir.
func Bodies(dir string) ([][]byte, error) {
	var bodies [][]byte
	for _, f := range inputs.Expand([]string{dir}) {
		data, err := os.ReadFile(f.Path)
		if err != nil {
			return nil, err
		}
		objs, probs := manifest.Parse(f.Path, data)
		if len(probs) > 0 {
			continue
		}
		for _, o := range objs {
			raw, _ := json.Marshal(o.Value)
			rv := admissionv1.AdmissionReview{
				TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
				Request: &admissionv1.AdmissionRequest{UID: types.UID(fmt.Sprint(len(bodies))), Operation: admissionv1.Create,
					Namespace: "bench", Name: o.Name, Kind: gvkOf(o.APIVersion, o.Kind), Object: runtime.RawExtension{Raw: raw}},
			}
			b, _ := json.Marshal(rv)
			bodies = append(bodies, b)
		}
	}
	if len(bodies) == 0 {
		return nil, fmt.Errorf("no objects in %s", dir)
	}
	return bodies, nil
}

func gvkOf(apiVersion, kind string) metav1.GroupVersionKind {
	group, version, found := strings.Cut(apiVersion, "/")
	if !found {
		group, version = "", apiVersion
	}
	return metav1.GroupVersionKind{Group: group, Version: version, Kind: kind}
}
