package rules

import (
	"fmt"
	"slices"
)

var _ = register(&Rule{
	ID: "missing-priority-class", Theme: ThemeWorkloads, NoFix: "the class is the cluster's policy",
	Severity:    Warning,
	Source:      SourceGo,
	Off:         true,
	Description: "A pod-bearing object sets no priorityClassName, or one not in the allowed parameter (when it lists any).",
	Rationale:   "Without a priority class every pod has the default priority: under pressure the scheduler may preempt a critical service to place a batch job.",
	Remediation: "Set spec.priorityClassName to the class your platform defines for this kind of workload.",
	Params:      map[string]any{"allowed": nil}, // optional: any class is fine when unset
	Check:       checkMissingPriorityClass,
})

func checkMissingPriorityClass(o *Object, _ *Run, p Params) []Report {
	if o.Workload == nil {
		return nil
	}
	name := o.Workload.Spec.PriorityClassName
	allowed := p.Strings("allowed")
	switch {
	case name == "":
		return []Report{{Path: o.Workload.SpecPath, Message: "no priorityClassName"}}
	case len(allowed) > 0 && !slices.Contains(allowed, name):
		return []Report{{Path: o.Workload.SpecPath + ".priorityClassName", Message: fmt.Sprintf("priorityClassName %q is not one of %v", name, allowed)}}
	}
	return nil
}
