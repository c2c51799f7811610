package rules

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var _ = register(&Rule{
	ID: "network-policy-selects-nothing", Theme: ThemeNetworking, NoFix: "the labels meant are not in the manifest",
	Severity:    Warning,
	Source:      SourceGo,
	CrossObject: true,
	Kinds:       []string{"NetworkPolicy"},
	Indexes:     []*IndexSpec{podsIndex},
	Description: "A NetworkPolicy's podSelector, or the podSelector of a peer in its ingress from or egress to without a namespaceSelector, matches no pod among the objects checked. An empty selector (every pod) is not judged, nor a peer with a namespaceSelector: the pods of other namespaces are rarely in the same run.",
	Rationale:   "A policy that selects nothing protects nothing, and a peer that matches nothing allows nothing: usually labels were renamed on the pods and not in the policy, and traffic is open (or blocked) where the author meant otherwise.",
	Remediation: "Fix the selector to match the pod template's labels. When the pods live in files not checked in this run, run klint on the whole directory; when an operator creates them from a custom resource (Prometheus, Alertmanager), they are in no manifest: suppress the finding on the policy with that reason.",
	Check:       checkNetworkPolicySelectsNothing,
})

func checkNetworkPolicySelectsNothing(o *Object, run *Run, _ Params) []Report {
	np, ok := o.Typed.(*networkingv1.NetworkPolicy)
	if !ok {
		return nil
	}
	pods := indexOf[PodIndex](run, podsIndex)
	var reps []Report
	judge := func(sel *metav1.LabelSelector, path, what string) {
		if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) || pods.SelectsPodsBy(o.Namespace, sel) {
			return
		}
		reps = append(reps, Report{Path: path, Message: fmt.Sprintf("NetworkPolicy %q: %s selects no pod of this run", o.Name, what)})
	}
	judge(&np.Spec.PodSelector, "spec.podSelector", "its podSelector")
	for i, r := range np.Spec.Ingress {
		for j, p := range r.From {
			if p.NamespaceSelector == nil {
				judge(p.PodSelector, fmt.Sprintf("spec.ingress[%d].from[%d].podSelector", i, j), "the podSelector of an ingress peer")
			}
		}
	}
	for i, r := range np.Spec.Egress {
		for j, p := range r.To {
			if p.NamespaceSelector == nil {
				judge(p.PodSelector, fmt.Sprintf("spec.egress[%d].to[%d].podSelector", i, j), "the podSelector of an egress peer")
			}
		}
	}
	return reps
}
