package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/klint-dev/klint/pkg/rules"
)

const templateSuppressed = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
      annotations:
        ignore.klint.dev/missing-liveness-probe: the process exits when it hangs
        ignore.klint.dev/missing-readiness-probe.sidecar: the sidecar takes no traffic
        ignore.klint.dev/image-latest-tag.nosuch: no such container
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.0.0
        - name: sidecar
          image: registry.example.com/sidecar:1.0.0
`

// findingKeys lists a result's findings as "rule line:col container".
func findingKeys(fs []rules.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %d:%d %s", f.Rule, f.Line, f.Column, f.Container))
	}
	return out
}

// A suppression on the pod template counts as one on the object; one
// scoped to a container hides that container's findings only; one naming
// a container the pod does not have is reported where it is written.
func TestSuppressionsOnTemplatesAndContainers(t *testing.T) {
	f := writeFile(t, t.TempDir(), "web.yaml", templateSuppressed)
	only := Options{Disable: []string{"recommended-labels", "writable-root-filesystem", "missing-resource-requests", "missing-resource-limits", "replicas-minimum"}}
	res := runFiles(t, newEngine(t, only), f)
	want := []string{
		"invalid-suppression 15:9 ",
		"missing-readiness-probe 18:11 web",
	}
	if got := findingKeys(res.Findings); !slices.Equal(got, want) {
		t.Errorf("findings %q, want %q", got, want)
	}
	if !strings.Contains(res.Findings[0].Message, `names no container of this object ("nosuch")`) {
		t.Errorf("message: %s", res.Findings[0].Message)
	}
	suppressed := findingKeys(res.SuppressedFindings)
	wantSuppressed := []string{"missing-liveness-probe 18:11 web", "missing-liveness-probe 20:11 sidecar", "missing-readiness-probe 20:11 sidecar"}
	if !slices.Equal(suppressed, wantSuppressed) {
		t.Errorf("suppressed %q, want %q", suppressed, wantSuppressed)
	}

	// rules.<id>.suppressible: false: the annotations do not hide its
	// findings, and each is reported.
	cfg := parseConfig(t, "rules:\n  missing-liveness-probe:\n    suppressible: false\n")
	only.Config = cfg
	res = runFiles(t, newEngine(t, only), f)
	want = []string{
		"invalid-suppression 13:9 ",
		"invalid-suppression 15:9 ",
		"missing-liveness-probe 18:11 web",
		"missing-readiness-probe 18:11 web",
		"missing-liveness-probe 20:11 sidecar",
	}
	if got := findingKeys(res.Findings); !slices.Equal(got, want) {
		t.Errorf("unsuppressible: findings %q, want %q", got, want)
	}
	if !strings.Contains(res.Findings[0].Message, "the configuration makes missing-liveness-probe unsuppressible") {
		t.Errorf("message: %s", res.Findings[0].Message)
	}

	// An exemption from an unsuppressible rule is a configuration error.
	cfg = parseConfig(t, "rules:\n  image-latest-tag:\n    suppressible: false\nexemptions:\n  - kind: Pod\n    rules: [image-latest-tag]\n    reason: legacy\n")
	if _, err := New(context.Background(), Options{Config: cfg}); err == nil || !strings.Contains(err.Error(), "exemptions[0] exempts from image-latest-tag, which rules.image-latest-tag.suppressible: false makes unsuppressible") {
		t.Errorf("err = %v", err)
	}
}

// A parameter the rule does not have, or of the wrong kind, is a
// configuration error, not silently ignored.
func TestConfigParamsAreChecked(t *testing.T) {
	for cfg, want := range map[string]string{
		"rules:\n  replicas-minimum:\n    params: {mni: 3}\n":              "config: rules.replicas-minimum.params.mni: the rule has no such parameter (it has: min)",
		"rules:\n  replicas-minimum:\n    params: {min: [3]}\n":            "config: rules.replicas-minimum.params.min must be a whole number",
		"rules:\n  service-type:\n    params: {forbidden: NodePort}\n":     "config: rules.service-type.params.forbidden must be a list",
		"rules:\n  missing-resource-limits:\n    params: {cpu: \"yes\"}\n": "config: rules.missing-resource-limits.params.cpu must be true or false",
	} {
		if _, err := New(context.Background(), Options{Config: parseConfig(t, cfg)}); err == nil || err.Error() != want {
			t.Errorf("%s: err = %v, want %s", cfg, err, want)
		}
	}
	ok := "rules:\n  replicas-minimum:\n    params: {min: 3}\n  missing-priority-class:\n    params: {allowed: [high]}\n"
	if _, err := New(context.Background(), Options{Config: parseConfig(t, ok)}); err != nil {
		t.Errorf("valid params: %v", err)
	}
}
