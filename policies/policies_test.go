package policies

import (
	"context"
	"testing"

	"github.com/open-policy-agent/opa/v1/tester"
)

// TestPolicies runs the OPA tests (*_test.rego) of the shipped policies,
// so that `make test` runs them with the rest.
func TestPolicies(t *testing.T) {
	results, err := tester.Run(context.Background(), ".")
	if err != nil {
		t.Fatal(err)
	}
	if len(results) < 10 {
		t.Fatalf("only %d OPA tests ran", len(results))
	}
	for _, r := range results {
		if !r.Pass() {
			t.Errorf("%s.%s: %s %v", r.Package, r.Name, r.String(), r.Error)
		} else {
			t.Logf("%s.%s: PASS", r.Package, r.Name)
		}
	}
}
