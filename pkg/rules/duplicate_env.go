package rules

import (
	"fmt"
	"strconv"
)

var _ = register(&Rule{
	ID: "duplicate-env", Theme: ThemeWorkloads, NoFix: "which of the two values is meant is the author's call",
	Severity:    Warning,
	Source:      SourceGo,
	Description: "A container sets the same environment variable twice.",
	Rationale:   "Only the last value takes effect, silently; the first is usually what someone meant to change. kubectl apply's merge can also drop one of the two.",
	Remediation: "Keep one entry for the variable.",
	Check:       checkDuplicateEnv,
})

func checkDuplicateEnv(o *Object, _ *Run, _ Params) []Report {
	if o.Workload == nil {
		return nil
	}
	var reps []Report
	for _, c := range o.Workload.Containers() {
		first := map[string]int{}
		for j, e := range c.C.Env {
			if i, dup := first[e.Name]; dup {
				reps = append(reps, Report{Path: c.Path + ".env[" + strconv.Itoa(j) + "].name", Container: c.C.Name,
					Message: fmt.Sprintf("container %q sets %s again (first at env[%d]); only the last value takes effect", c.C.Name, e.Name, i)})
				continue
			}
			first[e.Name] = j
		}
	}
	return reps
}
