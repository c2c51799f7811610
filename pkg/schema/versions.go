package schema

import (
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

// DefaultKubeVersion is the newest Kubernetes minor that the bundled
// k8s.io/api (v0.37.x) describes. A test keeps it in step with go.mod.
const DefaultKubeVersion = "1.37"

// Version is a Kubernetes major.minor.
type Version struct{ Major, Minor int }

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

func (v Version) atLeast(major, minor int) bool {
	return v.Major > major || (v.Major == major && v.Minor >= minor)
}

// ParseVersion reads "1.29", "v1.29" or "1.29.3" (the patch is ignored).
func ParseVersion(s string) (Version, error) {
	parts := strings.Split(strings.TrimPrefix(s, "v"), ".")
	if len(parts) < 2 || len(parts) > 3 {
		return Version{}, fmt.Errorf("kube version %q is not of the form 1.N", s)
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || major != 1 || minor < 0 {
		return Version{}, fmt.Errorf("kube version %q is not of the form 1.N", s)
	}
	return Version{major, minor}, nil
}

// Known reports an error for a version newer than the bundled API
// (DefaultKubeVersion): klint cannot know what it removes or adds, and
// would judge its apiVersions with contradictory findings.
func (v Version) Known() error {
	newest, _ := ParseVersion(DefaultKubeVersion)
	if v.atLeast(newest.Major, newest.Minor+1) {
		return fmt.Errorf("kube version %s is newer than the Kubernetes API klint bundles (%s): klint cannot tell what it serves; use %s or older, or a newer klint", v, DefaultKubeVersion, DefaultKubeVersion)
	}
	return nil
}

// lifecycle is what the API's generated prerelease-lifecycle methods say
// about a type; k8s.io/api generates them for every beta and alpha version.
type lifecycle struct {
	deprecated, removed Version
	replacement         schema.GroupVersionKind
}

// goneAPI describes versions that are no longer in k8s.io/api at all, so
// their lifecycle cannot be read from the types. From the upstream
// Deprecated API Migration Guide.
var goneAPIs = map[schema.GroupVersionKind]lifecycle{
	{Group: "autoscaling", Version: "v2beta1", Kind: "HorizontalPodAutoscaler"}: {Version{1, 22}, Version{1, 25}, schema.GroupVersionKind{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler"}},
	{Group: "autoscaling", Version: "v2beta2", Kind: "HorizontalPodAutoscaler"}: {Version{1, 23}, Version{1, 26}, schema.GroupVersionKind{Group: "autoscaling", Version: "v2", Kind: "HorizontalPodAutoscaler"}},
	{Group: "policy", Version: "v1beta1", Kind: "PodSecurityPolicy"}:            {Version{1, 21}, Version{1, 25}, schema.GroupVersionKind{}},
	{Group: "extensions", Version: "v1beta1", Kind: "PodSecurityPolicy"}:        {Version{1, 11}, Version{1, 16}, schema.GroupVersionKind{}},
	{Group: "batch", Version: "v2alpha1", Kind: "CronJob"}:                      {Version{1, 8}, Version{1, 21}, schema.GroupVersionKind{Group: "batch", Version: "v1", Kind: "CronJob"}},
	{Group: "apiextensions.k8s.io", Version: "v1beta1", Kind: "CustomResourceDefinition"}: {Version{1, 16}, Version{1, 22},
		schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}},
	{Group: "apiregistration.k8s.io", Version: "v1beta1", Kind: "APIService"}: {Version{1, 19}, Version{1, 22},
		schema.GroupVersionKind{Group: "apiregistration.k8s.io", Version: "v1", Kind: "APIService"}},
	{Group: "admissionregistration.k8s.io", Version: "v1alpha1", Kind: "InitializerConfiguration"}: {Version{1, 14}, Version{1, 14}, schema.GroupVersionKind{}},
	{Group: "settings.k8s.io", Version: "v1alpha1", Kind: "PodPreset"}:                             {Version{1, 19}, Version{1, 20}, schema.GroupVersionKind{}},
	{Group: "scheduling.k8s.io", Version: "v1alpha1", Kind: "PriorityClass"}:                       {Version{1, 14}, Version{1, 17}, schema.GroupVersionKind{Group: "scheduling.k8s.io", Version: "v1", Kind: "PriorityClass"}},
}

// lifecycleOf reads the generated lifecycle methods of a typed object.
func lifecycleOf(obj any) (lifecycle, bool) {
	type deprecated interface{ APILifecycleDeprecated() (int, int) }
	type removed interface{ APILifecycleRemoved() (int, int) }
	type replaced interface {
		APILifecycleReplacement() schema.GroupVersionKind
	}
	d, ok1 := obj.(deprecated)
	r, ok2 := obj.(removed)
	if !ok1 || !ok2 {
		return lifecycle{}, false
	}
	var l lifecycle
	l.deprecated.Major, l.deprecated.Minor = d.APILifecycleDeprecated()
	l.removed.Major, l.removed.Minor = r.APILifecycleRemoved()
	if rp, ok := obj.(replaced); ok {
		l.replacement = rp.APILifecycleReplacement()
	}
	return l, true
}

// introducedIn is the release that first served a type, from its
// generated lifecycle method (k8s.io/api generates it for GA versions
// too, for the API server's compatibility versions).
func introducedIn(obj any) (Version, bool) {
	in, ok := obj.(interface{ APILifecycleIntroduced() (int, int) })
	if !ok {
		return Version{}, false
	}
	major, minor := in.APILifecycleIntroduced()
	return Version{major, minor}, major > 0
}

func apiVersionOf(gvk schema.GroupVersionKind) string {
	return gvk.GroupVersion().String()
}
