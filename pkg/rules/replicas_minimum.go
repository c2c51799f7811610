package rules

import "fmt"

var _ = register(&Rule{
	ID: "replicas-minimum", Theme: ThemeWorkloads, NoFix: "more replicas cost capacity: the number is the author's",
	Severity:    Warning,
	Source:      SourceGo,
	CrossObject: true,
	Holds:       true,
	Kinds:       []string{"Deployment", "StatefulSet"},
	Indexes:     []*IndexSpec{hpaTargetsIndex},
	Params:      map[string]any{"min": 2},
	Description: "A Deployment or StatefulSet runs fewer than the min parameter's replicas (default 2; unset means 1). For one a HorizontalPodAutoscaler of the run scales, the autoscaler's minReplicas is judged instead (and hpa-replicas says it at the autoscaler).",
	Rationale:   "A single replica is down during every rollout that cannot surge, every node drain and every crash: the service has no redundancy.",
	Remediation: "Set spec.replicas to at least 2 (and spread the pods over nodes), or let an autoscaler with minReplicas of at least 2 own it.",
	Check:       checkReplicasMinimum,
})

func checkReplicasMinimum(o *Object, _ *Run, p Params) []Report {
	replicas, ok := replicasOf(o)
	if !ok {
		return nil
	}
	n := int32(1)
	if replicas != nil {
		n = *replicas
	}
	min := p.Int("min")
	ref := o.Ref()
	// Judged when the run is complete: an autoscaler of the run, if one
	// scales the workload, decides how few replicas it may run.
	return []Report{{Path: "spec.replicas", Message: fmt.Sprintf("%s %q runs %d %s, fewer than %d", o.Kind, o.Name, n, plural(int(n), "replica"), min),
		Settle: func(f *Finding, run *Run) bool {
			if by, scaled := hpaTargetOf(run, ref.Namespace, ref.Kind, ref.Name); scaled {
				f.Message = fmt.Sprintf("%s %q may run %d %s, fewer than %d: the minReplicas of %s", ref.Kind, ref.Name, by.minReplicas, plural(int(by.minReplicas), "replica"), min, by.hpa)
				return int(by.minReplicas) < min
			}
			return n != 0 && int(n) < min // 0: scaled down on purpose
		}}}
}

// plural is word, with an s unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
