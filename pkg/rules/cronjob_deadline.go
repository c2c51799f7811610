package rules

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
)

var _ = register(&Rule{
	ID: "cronjob-deadline", Theme: ThemeWorkloads, NoFix: "the deadline depends on how late a run may still be useful, which only the author knows",
	Severity:    Info,
	Source:      SourceGo,
	Kinds:       []string{"CronJob"},
	Description: "A CronJob sets no startingDeadlineSeconds.",
	Rationale:   "Without a deadline, a CronJob whose controller was down or throttled counts every missed schedule; after 100 it stops scheduling altogether, and a late run may start long after it is useful.",
	Remediation: "Set spec.startingDeadlineSeconds to how late a run may still start (for instance a fraction of the schedule's period).",
	CEL: &CEL{Resources: []CELResources{{Group: "batch", Resources: []string{"cronjobs"}}},
		Expression: "has(object.spec.startingDeadlineSeconds)",
		Message:    "a CronJob sets startingDeadlineSeconds (klint cronjob-deadline)"},
	Check: checkCronJobDeadline,
})

func checkCronJobDeadline(o *Object, _ *Run, _ Params) []Report {
	cj, ok := o.Typed.(*batchv1.CronJob)
	if !ok || cj.Spec.StartingDeadlineSeconds != nil {
		return nil
	}
	return []Report{{Path: "spec", Message: fmt.Sprintf("CronJob %q sets no startingDeadlineSeconds", o.Name)}}
}
