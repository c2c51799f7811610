package rules

import (
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

var _ = register(&Rule{
	ID: "hpa-replicas", Theme: ThemeDisruption,
	Severity:    Warning,
	Source:      SourceGo,
	Kinds:       []string{"HorizontalPodAutoscaler"},
	Description: "A HorizontalPodAutoscaler's minReplicas is below the min parameter (default 2; unset means 1), or equal to its maxReplicas.",
	Rationale:   "An autoscaler allowed down to one replica takes the service down with that pod's node or rollout; one whose bounds are equal does not scale at all.",
	Remediation: "Set minReplicas to at least 2 and maxReplicas above it.",
	Params:      map[string]any{"min": 2},
	Check:       checkHPAReplicas,
})

func checkHPAReplicas(o *Object, _ *Run, p Params) []Report {
	var min *int32
	var max int32
	switch h := o.Typed.(type) {
	case *autoscalingv2.HorizontalPodAutoscaler:
		min, max = h.Spec.MinReplicas, h.Spec.MaxReplicas
	case *autoscalingv1.HorizontalPodAutoscaler:
		min, max = h.Spec.MinReplicas, h.Spec.MaxReplicas
	default:
		return nil
	}
	lo, path := int32(1), "spec"
	if min != nil {
		lo, path = *min, "spec.minReplicas"
	}
	switch {
	case int(lo) < p.Int("min"):
		return []Report{{Path: path, Message: fmt.Sprintf("minReplicas is %d, below %d: the service can scale down to too few pods to survive losing one", lo, p.Int("min"))}}
	case lo == max:
		return []Report{{Path: "spec.maxReplicas", Message: fmt.Sprintf("minReplicas and maxReplicas are both %d: the autoscaler cannot scale", max)}}
	}
	return nil
}
