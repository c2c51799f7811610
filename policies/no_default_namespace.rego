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

# The built-in kinds that live in no namespace: a namespace written on
# one of them is ignored by the API server, so it is not "in default".
cluster_scoped := {
	"APIService", "CertificateSigningRequest", "ClusterRole", "ClusterRoleBinding", "ClusterTrustBundle",
	"ComponentStatus", "CSIDriver", "CSINode", "CustomResourceDefinition", "DeviceClass", "FlowSchema",
	"IngressClass", "IPAddress", "MutatingAdmissionPolicy", "MutatingAdmissionPolicyBinding",
	"MutatingWebhookConfiguration", "Namespace", "Node", "PersistentVolume", "PriorityClass",
	"PriorityLevelConfiguration", "ResourceSlice", "RuntimeClass", "ServiceCIDR", "StorageClass",
	"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration",
	"VolumeAttachment", "VolumeAttributesClass",
}

deny contains {"msg": msg, "path": "metadata.namespace"} if {
	input.metadata.namespace == "default"
	not input.kind in {"Service", "Endpoints", "EndpointSlice"}
	not input.kind in cluster_scoped
	msg := sprintf("%s %q is in the default namespace", [input.kind, input.metadata.name])
}
