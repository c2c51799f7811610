package rules

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

var _ = register(&Rule{
	ID: "missing-network-policy", Theme: ThemeNetworking, NoFix: "what traffic the pods need is the author's to say",
	Severity:    Info,
	Source:      SourceGo,
	CrossObject: true,
	Holds:       true,
	Kinds:       podKinds,
	Indexes:     []*IndexSpec{networkPoliciesIndex},
	Params:      map[string]any{"always": false},
	Description: "A pod-bearing object whose pods no NetworkPolicy of their namespace selects. Said only for a namespace the run holds NetworkPolicies for (so a namespace without any, or a run of one changed file, says nothing), or always with the always parameter.",
	Rationale:   "Pods no policy selects accept traffic from everywhere in the cluster: where a namespace is meant to be locked down, one workload left out is the way in. A policy of either direction counts (Polaris and kube-score ask for both ingress and egress): which directions to restrict is the namespace's design.",
	Remediation: "Add the pods' labels to a NetworkPolicy's podSelector, or add a policy for them (a default-deny policy with an empty podSelector selects every pod of the namespace).",
	Check:       checkMissingNetworkPolicy,
})

// networkPoliciesIndex is the run's NetworkPolicies' podSelectors, by
// namespace.
var networkPoliciesIndex = &IndexSpec{Name: "network policies", New: func() Index { return networkPolicies{} }, Kinds: []string{"NetworkPolicy"}}

type networkPolicies map[string][]labels.Selector

func (ix networkPolicies) Add(o *Object) {
	np, ok := o.Typed.(*networkingv1.NetworkPolicy)
	if !ok {
		return
	}
	if sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector); err == nil {
		ix[o.Namespace] = append(ix[o.Namespace], sel)
	}
}

func (ix networkPolicies) Merge(later Index) { mergeLists(ix, later.(networkPolicies)) }

func checkMissingNetworkPolicy(o *Object, _ *Run, p Params) []Report {
	w := o.Workload
	if w == nil {
		return nil
	}
	always := p.Bool("always")
	ns, pods := o.Namespace, labels.Set(w.Labels)
	return []Report{{Path: w.LabelsPath, Message: fmt.Sprintf("no NetworkPolicy of this run selects the pods of %s %q", o.Kind, o.Name),
		Settle: func(_ *Finding, run *Run) bool {
			knows := always
			for npNS, sels := range indexOf[networkPolicies](run, networkPoliciesIndex) {
				if !sameNamespace(npNS, ns) {
					continue
				}
				knows = knows || npNS == ns
				for _, sel := range sels {
					if sel.Matches(pods) {
						return false
					}
				}
			}
			return knows
		}}}
}
