# METADATA
# title: Allowed registries
# description: A container image comes from a registry that is not on the allowed list.
# custom:
#   id: allowed-registries
#   theme: Images
#   kinds: [Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, ReplicationController, CronJob]
#   severity: error
#   security-severity: 6.0
#   enabled: false
#   rationale: Images from unvetted registries bypass the scanning, signing and availability guarantees of the registries a platform team runs.
#   remediation: Mirror the image into an allowed registry, or add the registry to rules.allowed-registries.params.registries in .klint.yaml (configuring it turns the rule on).
#   params:
#     registries: []
package klint.allowed_registries

# pod_specs maps the field path of each pod spec in the object to the spec.
pod_specs[path] := spec if {
	input.kind == "Pod"
	path := "spec"
	spec := input.spec
}

pod_specs[path] := spec if {
	input.kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController"}
	path := "spec.template.spec"
	spec := input.spec.template.spec
}

pod_specs[path] := spec if {
	input.kind == "CronJob"
	path := "spec.jobTemplate.spec.template.spec"
	spec := input.spec.jobTemplate.spec.template.spec
}

# registry is the host part of an image reference; images without one
# come from Docker Hub.
registry(image) := host if {
	parts := split(image, "/")
	count(parts) > 1
	first := parts[0]
	regex.match(`[.:]|^localhost$`, first)
	host := first
} else := "docker.io"

deny contains {"msg": msg, "path": path, "container": c.name} if {
	some base, spec in pod_specs
	some field in ["initContainers", "containers"]
	some i, c in object.get(spec, field, [])
	allowed := data.params["allowed-registries"].registries
	reg := registry(c.image)
	not reg in allowed
	path := sprintf("%s.%s[%d].image", [base, field, i])
	msg := sprintf("container %q uses image registry %q, which is not in the allowed list %v", [c.name, reg, allowed])
}
