package rules

var _ = register(&Rule{
	ID: "deprecated-service-account-field", Theme: ThemeReferences, NoFix: "when both fields are set and differ, which one is meant is the author's call",
	Severity:    Warning,
	Source:      SourceGo,
	Description: "A pod spec sets serviceAccount, the deprecated alias of serviceAccountName.",
	Rationale:   "The API server copies one field to the other without a warning; when both are set and differ, which one wins surprises people, and tools that read only serviceAccountName miss it.",
	Remediation: "Rename the field to serviceAccountName.",
	Check:       checkDeprecatedServiceAccountField,
})

func checkDeprecatedServiceAccountField(o *Object, _ *Run, _ Params) []Report {
	if o.Workload == nil || o.Workload.Spec.DeprecatedServiceAccount == "" {
		return nil
	}
	return []Report{{Path: o.Workload.SpecPath + ".serviceAccount", Message: "serviceAccount is deprecated: use serviceAccountName"}}
}
