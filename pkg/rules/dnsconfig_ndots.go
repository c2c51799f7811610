package rules

import (
	"fmt"
	"strconv"
)

var _ = register(&Rule{
	ID: "dnsconfig-ndots", Theme: ThemeWorkloads, NoFix: "the right value is the author's to choose",
	Severity:    Warning,
	Source:      SourceGo,
	Off:         true,
	Description: "A pod's dnsConfig sets the ndots option above the max parameter (default 2).",
	Rationale:   "With a high ndots every lookup of an external name first tries each search domain: several useless queries per request, and latency.",
	Remediation: "Lower ndots (or end external names with a dot).",
	Params:      map[string]any{"max": 2},
	CEL: &CEL{Resources: WorkloadResources, Workload: true,
		Expression: "!has(variables.podSpec.dnsConfig) || !has(variables.podSpec.dnsConfig.options) || variables.podSpec.dnsConfig.options.all(o, " +
			"!(has(o.name) && o.name == 'ndots' && has(o.value) && o.value.matches('^[+-]?[0-9]+$') && int(o.value) > variables.max))",
		MessageExpression: "'the ndots option must be at most ' + string(variables.max) + ' (klint dnsconfig-ndots)'"},
	Check: checkDNSConfigNdots,
})

func checkDNSConfigNdots(o *Object, _ *Run, p Params) []Report {
	if o.Workload == nil || o.Workload.Spec.DNSConfig == nil {
		return nil
	}
	var reps []Report
	for i, opt := range o.Workload.Spec.DNSConfig.Options {
		if opt.Name != "ndots" || opt.Value == nil {
			continue
		}
		if n, err := strconv.Atoi(*opt.Value); err == nil && n > p.Int("max") {
			reps = append(reps, Report{Path: o.Workload.SpecPath + ".dnsConfig.options[" + strconv.Itoa(i) + "].value", Message: fmt.Sprintf("ndots %d is above %d", n, p.Int("max"))})
		}
	}
	return reps
}
