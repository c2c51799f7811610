package rules

import corev1 "k8s.io/api/core/v1"

var _ = register(&Rule{
	ID: "missing-readiness-probe", Theme: ThemeWorkloads, NoFix: "a probe's endpoint and timing are the application's",
	Severity:    Warning,
	Source:      SourceGo,
	Description: "A long-running container has no readinessProbe.",
	Rationale:   "Without a readiness probe a pod receives traffic as soon as its process starts, before it can serve, and keeps receiving it when it stops being able to. It is asked whether or not a Service of the run selects the pods (kube-score asks only then): the Service may live in another repository.",
	Remediation: "Add a readinessProbe (httpGet, tcpSocket, grpc or exec) that succeeds only when the container can serve requests.",
	CEL: &CEL{Resources: WorkloadResources, Workload: true,
		Expression: "variables.longRunning.all(c, has(c.readinessProbe))",
		Message:    "every long-running container has a readinessProbe (klint missing-readiness-probe)"},
	Check: func(o *Object, _ *Run, _ Params) []Report {
		return missingProbe(o, "readinessProbe", func(c *corev1.Container) *corev1.Probe { return c.ReadinessProbe })
	},
})
