package rules

import (
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

var _ = register(&Rule{
	ID: "hpa-replicas", Theme: ThemeDisruption, NoFix: "a higher minimum costs capacity: the number is the author's",
	Severity:    Warning,
	Source:      SourceGo,
	Kinds:       []string{"HorizontalPodAutoscaler"},
	Description: "A HorizontalPodAutoscaler's minReplicas is below the min parameter (default 2; unset means 1), or equal to its maxReplicas.",
	Rationale:   "An autoscaler allowed down to one replica takes the service down with that pod's node or rollout; one whose bounds are equal does not scale at all.",
	Remediation: "Set minReplicas to at least 2 and maxReplicas above it.",
	Params:      map[string]any{"min": 2},
	Check:       checkHPAReplicas,
})

// hpaMinMax is an autoscaler's minReplicas (1 when unset: the API
// server's default) and maxReplicas; 0, 0 for another kind.
func hpaMinMax(o *Object) (min, max int32) {
	var set *int32
	switch h := o.Typed.(type) {
	case *autoscalingv2.HorizontalPodAutoscaler:
		set, max = h.Spec.MinReplicas, h.Spec.MaxReplicas
	case *autoscalingv1.HorizontalPodAutoscaler:
		set, max = h.Spec.MinReplicas, h.Spec.MaxReplicas
	default:
		return 0, 0
	}
	if set != nil {
		return *set, max
	}
	return 1, max
}

func checkHPAReplicas(o *Object, _ *Run, p Params) []Report {
	lo, max := hpaMinMax(o)
	if max == 0 {
		return nil // not an autoscaler, or a schema finding
	}
	path := "spec"
	if _, set := o.Value["spec"].(map[string]any)["minReplicas"]; set {
		path = "spec.minReplicas"
	}
	switch {
	case int(lo) < p.Int("min"):
		return []Report{{Path: path, Message: fmt.Sprintf("minReplicas is %d, below %d: the service can scale down to too few pods to survive losing one", lo, p.Int("min"))}}
	case lo == max:
		return []Report{{Path: "spec.maxReplicas", Message: fmt.Sprintf("minReplicas and maxReplicas are both %d: the autoscaler cannot scale", max)}}
	}
	return nil
}
