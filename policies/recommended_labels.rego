# METADATA
# title: Recommended labels
# description: A workload or Service lacks the recommended app.kubernetes.io labels.
# custom:
#   id: recommended-labels
#   theme: Metadata
#   kinds: [Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod, Service]
#   severity: info
#   rationale: The app.kubernetes.io labels let tools (dashboards, kubectl, cost and security scanners) group objects by application without guessing.
#   remediation: Add the labels listed in the message to metadata.labels; set the list with the required parameter.
#   params:
#     required:
#       - app.kubernetes.io/name
package klint.recommended_labels

# The kinds are those METADATA lists: klint evaluates the policy only for
# them, and the check below keeps it right when evaluated on its own.
warn contains {"msg": msg, "path": "metadata"} if {
	input.kind in {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod", "Service"}
	missing := [l | some l in data.params["recommended-labels"].required; not input.metadata.labels[l]]
	count(missing) > 0
	msg := sprintf("%s %q lacks the recommended label(s) %s", [input.kind, input.metadata.name, concat(", ", missing)])
}
