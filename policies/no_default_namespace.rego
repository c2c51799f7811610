# METADATA
# title: No objects in the default namespace
# description: The object is placed in the default namespace explicitly.
# custom:
#   id: no-default-namespace
#   theme: Metadata
#   severity: warning
#   rationale: The default namespace has no quotas, policies or owners of its own; workloads there are easy to lose and hard to secure.
#   remediation: Put the object in a namespace of its own (metadata.namespace), or leave the namespace out and choose it at deploy time.
package klint.no_default_namespace

deny contains {"msg": msg, "path": "metadata.namespace"} if {
	input.metadata.namespace == "default"
	not input.kind in {"Service", "Endpoints", "EndpointSlice"}
	msg := sprintf("%s %q is in the default namespace", [input.kind, input.metadata.name])
}
