package rules

var _ = register(&Rule{
	ID: "default-service-account", Theme: ThemeReferences, NoFix: "a ServiceAccount of its own needs its own permissions, which klint cannot write",
	Severity:    Warning,
	Source:      SourceGo,
	Off:         true,
	Description: "A pod runs as the namespace's default ServiceAccount (serviceAccountName unset or default).",
	Rationale:   "Every pod of the namespace without its own account shares the default one: a role bound to it for one workload is granted to all of them.",
	Remediation: "Create a ServiceAccount for the workload and set spec.serviceAccountName.",
	CEL: &CEL{Resources: WorkloadResources, Workload: true,
		Expression: "has(variables.podSpec.serviceAccountName) && variables.podSpec.serviceAccountName != '' ? variables.podSpec.serviceAccountName != 'default' : " +
			"(has(variables.podSpec.serviceAccount) && variables.podSpec.serviceAccount != '')",
		Message: "the pods run as a ServiceAccount of their own, not default (klint default-service-account)"},
	Check: checkDefaultServiceAccount,
})

func checkDefaultServiceAccount(o *Object, _ *Run, _ Params) []Report {
	w := o.Workload
	if w == nil {
		return nil
	}
	switch {
	case w.Spec.ServiceAccountName == "" && w.Spec.DeprecatedServiceAccount == "":
		return []Report{{Path: w.SpecPath, Message: "no serviceAccountName: the pods run as the default ServiceAccount"}}
	case w.Spec.ServiceAccountName == "default":
		return []Report{{Path: w.SpecPath + ".serviceAccountName", Message: "the pods run as the default ServiceAccount"}}
	}
	return nil
}
