package rules

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
)

var _ = register(&Rule{
	ID: "job-ttl", Theme: ThemeWorkloads, NoFix: "how long a finished Job stays for inspection is the author's call",
	Severity:    Info,
	Source:      SourceGo,
	Kinds:       []string{"Job"},
	Description: "A Job (not one a CronJob owns) sets no ttlSecondsAfterFinished.",
	Rationale:   "A finished Job and its pods stay until someone deletes them; they pile up in the namespace and keep their logs' node storage.",
	Remediation: "Set spec.ttlSecondsAfterFinished (a CronJob's history limits do this for its Jobs).",
	CEL: &CEL{Resources: []CELResources{{Group: "batch", Resources: []string{"jobs"}}},
		Expression: "has(object.spec.ttlSecondsAfterFinished) || (has(object.metadata.ownerReferences) && object.metadata.ownerReferences.exists(r, r.kind == 'CronJob'))",
		Message:    "a Job sets ttlSecondsAfterFinished, so that it is cleaned up once finished (klint job-ttl)"},
	Check: checkJobTTL,
})

func checkJobTTL(o *Object, _ *Run, _ Params) []Report {
	job, ok := o.Typed.(*batchv1.Job)
	if !ok || job.Spec.TTLSecondsAfterFinished != nil {
		return nil
	}
	for _, ref := range job.OwnerReferences {
		if ref.Kind == "CronJob" {
			return nil
		}
	}
	return []Report{{Path: "spec", Message: fmt.Sprintf("Job %q sets no ttlSecondsAfterFinished", o.Name)}}
}
