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
	Description: "A Deployment or StatefulSet runs fewer than the min parameter's replicas (default 2; unset means 1). One a HorizontalPodAutoscaler of the run scales is left to hpa-replicas, which judges the autoscaler's minReplicas.",
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
	if n == 0 || int(n) >= p.Int("min") {
		return nil // 0: scaled down on purpose
	}
	ref := o.Ref()
	return []Report{{Path: "spec.replicas", Message: fmt.Sprintf("%s %q runs %d %s, fewer than %d", o.Kind, o.Name, n, plural(int(n), "replica"), p.Int("min")),
		Settle: func(_ *Finding, run *Run) bool {
			_, scaled := hpaTargetOf(run, ref.Namespace, ref.Kind, ref.Name)
			return !scaled
		}}}
}

// plural is word, with an s unless n is 1.
func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}
