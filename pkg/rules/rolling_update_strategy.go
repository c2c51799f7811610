package rules

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var _ = register(&Rule{
	ID: "rolling-update-strategy", Theme: ThemeWorkloads, NoFix: "Recreate may be deliberate (a volume only one pod can mount)",
	Severity:    Warning,
	Source:      SourceGo,
	Off:         true,
	Kinds:       []string{"Deployment"},
	Description: "A Deployment's strategy is Recreate, or a RollingUpdate whose maxUnavailable is 100 % or at least its replicas.",
	Rationale:   "Either takes every pod down before the new ones are ready: each rollout is an outage.",
	Remediation: "Use RollingUpdate with a maxUnavailable below the replicas (the default, 25 %, is), unless the application cannot run two versions at once.",
	Check:       checkRollingUpdateStrategy,
})

func checkRollingUpdateStrategy(o *Object, _ *Run, _ Params) []Report {
	d, ok := o.Typed.(*appsv1.Deployment)
	if !ok {
		return nil
	}
	s := d.Spec.Strategy
	if s.Type == appsv1.RecreateDeploymentStrategyType {
		return []Report{{Path: "spec.strategy.type", Message: fmt.Sprintf("Deployment %q uses the Recreate strategy: every rollout stops all pods first", o.Name)}}
	}
	if s.RollingUpdate == nil || s.RollingUpdate.MaxUnavailable == nil {
		return nil
	}
	replicas := 1
	if d.Spec.Replicas != nil {
		replicas = int(*d.Spec.Replicas)
	}
	n, err := intstr.GetScaledValueFromIntOrPercent(s.RollingUpdate.MaxUnavailable, replicas, false)
	if err == nil && replicas > 0 && n >= replicas {
		return []Report{{Path: "spec.strategy.rollingUpdate.maxUnavailable", Message: fmt.Sprintf("Deployment %q may take all %d pods down at once (maxUnavailable %s)", o.Name, replicas, s.RollingUpdate.MaxUnavailable.String())}}
	}
	return nil
}
