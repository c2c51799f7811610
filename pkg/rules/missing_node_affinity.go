package rules

var _ = register(&Rule{
	ID: "missing-node-affinity", Theme: ThemeWorkloads, NoFix: "the node pool is the cluster's, not in the manifest",
	Severity:    Warning,
	Source:      SourceGo,
	Off:         true,
	Description: "A pod-bearing object has neither a nodeSelector nor a node affinity.",
	Rationale:   "On a cluster with several node pools (GPU, spot, system), a pod without node constraints can land anywhere, including nodes meant for something else.",
	Remediation: "Set spec.nodeSelector or spec.affinity.nodeAffinity for the pool the workload belongs to.",
	Check:       checkMissingNodeAffinity,
})

func checkMissingNodeAffinity(o *Object, _ *Run, _ Params) []Report {
	w := o.Workload
	if w == nil || len(w.Spec.NodeSelector) > 0 || (w.Spec.Affinity != nil && w.Spec.Affinity.NodeAffinity != nil) {
		return nil
	}
	return []Report{{Path: w.SpecPath, Message: "no nodeSelector or nodeAffinity"}}
}
