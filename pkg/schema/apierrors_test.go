package schema

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// A value under a field named like a secret is never printed, neither
// where the error names it nor in its detail, where a custom resource's
// schema validator repeats it; fields that only name a secret show theirs.
func TestSecretValuesAreNotShown(t *testing.T) {
	for _, c := range []struct {
		err        *field.Error
		want, hide string
	}{
		{field.Invalid(field.NewPath("spec", "adminPassword"), "hunter2-s3cret", `spec.adminPassword in body should match '^[a-z]+$': "hunter2-s3cret"`),
			`spec.adminPassword: Invalid value: (value not shown): spec.adminPassword in body should match '^[a-z]+$': (value not shown)`, "hunter2"},
		{field.Invalid(field.NewPath("spec", "apiToken"), "tok-0123456789", "spec.apiToken in body must be of type email: tok-0123456789"),
			"spec.apiToken: Invalid value: (value not shown): spec.apiToken in body must be of type email: (value not shown)", "0123456789"},
		// A short value is not searched for in the detail's own words.
		{field.Invalid(field.NewPath("spec", "password"), "1", "must be at least 10 characters"),
			"spec.password: Invalid value: (value not shown): must be at least 10 characters", ""},
		{field.Invalid(field.NewPath("spec", "volumes").Index(0).Child("secret", "secretName"), "Bad_Name", "a lowercase RFC 1123 subdomain"),
			`spec.volumes[0].secret.secretName: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain`, ""},
	} {
		got := errorBody(c.err)
		if got != c.want || c.hide != "" && strings.Contains(got, c.hide) {
			t.Errorf("got  %s\nwant %s", got, c.want)
		}
	}
}
