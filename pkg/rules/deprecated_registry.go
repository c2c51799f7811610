package rules

import (
	"fmt"
	"strings"
)

var _ = register(&Rule{
	ID: "deprecated-registry", Theme: ThemeImages, NoFix: "the image may not exist under the same name at the new registry; the author should check and pin it",
	Severity:    Warning,
	Source:      SourceGo,
	Description: "A container image comes from a registry that no longer serves new images: k8s.gcr.io and the gcr.io/google_containers names (frozen since 2023; images moved to registry.k8s.io), or one in the registries parameter.",
	Rationale:   "A frozen registry gets no security fixes and may stop serving: the next node that pulls the image fails to start the pod.",
	Remediation: "Pull the image from its current registry (registry.k8s.io for Kubernetes images).",
	Params:      map[string]any{"registries": []any{"k8s.gcr.io", "gcr.io/google_containers", "gcr.io/google-containers"}},
	CEL: &CEL{Resources: WorkloadResources, Workload: true,
		Expression: "variables.containers.all(c, !has(c.image) || !variables.registries.exists(r, c.image.startsWith(r.endsWith('/') ? r : r + '/')))",
		Message:    "images come from a registry that still serves them, not a frozen one (klint deprecated-registry)"},
	Check: checkDeprecatedRegistry,
})

func checkDeprecatedRegistry(o *Object, _ *Run, p Params) []Report {
	if o.Workload == nil {
		return nil
	}
	var reps []Report
	for _, c := range o.Workload.Containers() {
		for _, r := range p.Strings("registries") {
			if strings.HasPrefix(c.C.Image, strings.TrimSuffix(r, "/")+"/") {
				reps = append(reps, Report{Path: c.Path + ".image", Container: c.C.Name,
					Message: fmt.Sprintf("container %q pulls %q from %s, a registry that no longer serves new images", c.C.Name, c.C.Image, r)})
				break
			}
		}
	}
	return reps
}
