package rules

import corev1 "k8s.io/api/core/v1"

var _ = register(&Rule{
	ID: "missing-liveness-probe", Theme: ThemeWorkloads, NoFix: "a probe's endpoint and timing are the application's",
	Severity:    Warning,
	Source:      SourceGo,
	Description: "A long-running container has no livenessProbe.",
	Rationale:   "Without a liveness probe a container that hangs (deadlock, stuck event loop) is never restarted.",
	Remediation: "Add a livenessProbe that fails only when the process cannot recover by itself; keep it cheaper and more tolerant than the readiness probe.",
	CEL: &CEL{Resources: WorkloadResources, Workload: true,
		Expression: "variables.longRunning.all(c, has(c.livenessProbe))",
		Message:    "every long-running container has a livenessProbe (klint missing-liveness-probe)"},
	Check: func(o *Object, _ *Run, _ Params) []Report {
		return missingProbe(o, "livenessProbe", func(c *corev1.Container) *corev1.Probe { return c.LivenessProbe })
	},
})
