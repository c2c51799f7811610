package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/klint-dev/klint/pkg/apivalidation"
	"github.com/klint-dev/klint/pkg/manifest"
)

const fixtures = "../../testdata/manifests/schema"

type want struct {
	rule string
	path string
	line int
	col  int
	frag string
}

func check(t *testing.T, c *Checker, file string) ([]*manifest.Object, [][]Issue) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	objs, probs := manifest.Parse(file, data)
	if len(probs) != 0 {
		t.Fatalf("%s: load problems %v", file, probs)
	}
	var all [][]Issue
	for _, o := range objs {
		all = append(all, c.Check(o).Issues)
	}
	return objs, all
}

// builtInFixtures are the fixtures of kind (valid or invalid) but the
// CustomResourceDefinitions (crd*.yaml), which pkg/crd validates, and
// tests.
func builtInFixtures(t *testing.T, kind string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(fixtures, kind, "*.yaml"))
	out := files[:0]
	for _, f := range files {
		if !strings.HasPrefix(filepath.Base(f), "crd") {
			out = append(out, f)
		}
	}
	if len(out) == 0 || len(out) == len(files) {
		t.Fatalf("%s: %d fixtures, %d of them CRDs", kind, len(files), len(files)-len(out))
	}
	return out
}

// The invalid fixtures are the set a real API server rejects; each names
// the one finding klint must make, where.
func TestInvalidFixtures(t *testing.T) {
	c, err := New("")
	if err != nil {
		t.Fatal(err)
	}
	c.WithAPIValidator(apivalidation.New())
	cases := map[string][]want{
		"metdata-typo.yaml": {
			{"schema", "metdata", 3, 1, `unknown field "metdata"`},
			{"schema", "metadata.name", 1, 1, "metadata.name: Required value: name or generateName is required"},
		},
		"service-port-selector.yaml": {{"schema", "spec.ports[0].selector", 9, 7, `unknown field "spec.ports[0].selector"`}},
		"replicas-string.yaml": {
			{"schema", "spec.replicas", 6, 3, "wrong type: replicas is a string where an integer is expected"},
			{"schema", "spec.template.spec.containers[0].imagePullPolicyy", 18, 11, "unknown field"},
		},
		"bad-name.yaml": {{"schema", "metadata.name", 4, 3, `metadata.name: Invalid value: "My_Config": a lowercase RFC 1123 subdomain`}},
		// The server names the map; klint points at the key.
		"bad-label.yaml":                  {{"schema", "metadata.labels.-bad-key", 6, 5, "name part must consist of alphanumeric"}},
		"duplicate-container.yaml":        {{"schema", "spec.containers[1].name", 9, 7, `Duplicate value: "app"`}},
		"missing-image.yaml":              {{"schema", "spec.containers[0].image", 7, 7, "spec.containers[0].image: Required value"}},
		"container-port-range.yaml":       {{"schema", "spec.containers[0].ports[0].containerPort", 10, 11, "between 1 and 65535"}},
		"kind-not-in-version.yaml":        {{"schema", "kind", 2, 1, `no kind "Deployment" in apiVersion "v1"`}},
		"removed-extensions-ingress.yaml": {{"removed-api", "apiVersion", 1, 1, "extensions/v1beta1 Ingress was removed in Kubernetes 1.22 (target 1.37); use networking.k8s.io/v1"}},
		"secret-not-base64.yaml":          {{"schema", "data.token", 6, 3, "not valid base64"}},
		"configmap-bool.yaml":             {{"schema", "data.enabled", 6, 3, "a bool where a string is expected"}},
		// The second is workload-selector-mismatch's to say (CoveredBy).
		"missing-selector.yaml":          {{"schema", "spec.selector", 5, 1, "spec.selector: Required value"}, {"schema", "spec.template.metadata.labels", 8, 7, "`selector` does not match template `labels`"}},
		"removed-hpa-v2beta2.yaml":       {{"removed-api", "apiVersion", 1, 1, "removed in Kubernetes 1.26 (target 1.37); use autoscaling/v2"}},
		"service-two-unnamed-ports.yaml": {{"schema", "spec.ports[0].name", 9, 7, "Required value"}, {"schema", "spec.ports[1].name", 10, 7, "Required value"}},
		// Errors of a type's own decoder carry no offset: each is found,
		// in turn, at its field (and the decode goes on to find metadata).
		"bad-quantity-and-time.yaml": {
			{"schema", "metadata.creationTimestamp", 5, 3, "not a time in RFC 3339 form"},
			{"schema", "spec.containers[0].resources.limits.memory", 11, 32, "quantities must match"},
			{"schema", "spec.containers[0].resources.limits.cpu", 11, 18, "quantities must match"},
		},
		// The generated name's error is the generateName's, said once.
		"bad-generate-name.yaml": {{"schema", "metadata.generateName", 4, 3, "a lowercase RFC 1123 subdomain"}},
		// What the hand-written subset missed, one per group or so.
		"ingress-pathtype-exact.yaml":            {{"schema", "spec.rules[0].http.paths[0].pathType", 11, 13, `Unsupported value: "exact": supported values: "Exact", "ImplementationSpecific"`}},
		"ingressclass-parameters-apigroup.yaml":  {{"schema", "spec.parameters.apiGroup", 8, 5, "a lowercase RFC 1123 subdomain"}},
		"serviceaccount-name-variable.yaml":      {{"schema", "spec.serviceAccountName", 6, 3, `Invalid value: "${KSA_NAME}"`}},
		"volumemount-undeclared.yaml":            {{"schema", "spec.template.spec.containers[0].volumeMounts[0].name", 18, 15, `Not found: "config"`}},
		"replicationcontroller-no-selector.yaml": {{"schema", "spec.selector", 5, 1, "Required value"}},
		"clusterrolebinding-subject-name.yaml":   {{"schema", "subjects[0].name", 11, 5, "a lowercase RFC 1123 subdomain"}},
		"job-restart-always.yaml":                {{"schema", "spec.template.spec.restartPolicy", 8, 7, `valid values: "OnFailure", "Never"`}},
		"pdb-both-bounds.yaml":                   {{"schema", "spec", 5, 1, "minAvailable and maxUnavailable cannot be both set"}},
		"role-rule-without-verbs.yaml":           {{"schema", "rules[0].verbs", 6, 5, "Required value"}},
		"storageclass-no-provisioner.yaml":       {{"schema", "provisioner", 1, 1, "provisioner: Required value"}},
		"hpa-max-replicas-zero.yaml": {
			{"schema", "spec.maxReplicas", 11, 3, "must be greater than or equal to `minReplicas`"},
			{"schema", "spec.maxReplicas", 11, 3, "Required value"},
		},
		"apiservice-no-version-priority.yaml": {{"schema", "spec.versionPriority", 5, 1, "spec.versionPriority: Invalid value: 0: must be positive and less than 1000"}},
		"networkpolicy-bad-protocol.yaml":     {{"schema", "spec.ingress[0].ports[0].protocol", 9, 11, `Unsupported value: "HTTP"`}},
		"lease-negative-duration.yaml":        {{"schema", "spec.leaseDurationSeconds", 7, 3, "must be greater than 0"}},
		"priorityclass-value-too-high.yaml":   {{"schema", "value", 5, 1, "maximum allowed value of a user defined priority is 1000000000"}},
		"beta-api-off-by-default.yaml": {
			{"deprecated-api", "apiVersion", 1, 1, "deprecated since Kubernetes 1.35"},
			{"unreleased-api", "apiVersion", 1, 1, "resource.k8s.io/v1beta1 is not served unless the cluster turns it on"},
		},
	}
	files := builtInFixtures(t, "invalid")
	if len(files) != len(cases) {
		t.Errorf("%d invalid fixtures but %d cases", len(files), len(cases))
	}
	for _, f := range files {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			objs, issues := check(t, c, f)
			ws, ok := cases[base]
			if !ok {
				t.Fatalf("no expectation for %s", base)
			}
			got := issues[0]
			if len(got) != len(ws) {
				t.Fatalf("issues = %v, want %d", got, len(ws))
			}
			for i, w := range ws {
				g := got[i]
				pos, _ := objs[0].Pos(g.Path)
				if g.Rule != w.rule || g.Path != w.path || pos.Line != w.line || pos.Column != w.col || !strings.Contains(g.Message, w.frag) {
					t.Errorf("issue %d = %s %q at %d:%d %q; want %s %q at %d:%d containing %q",
						i, g.Rule, g.Path, pos.Line, pos.Column, g.Message, w.rule, w.path, w.line, w.col, w.frag)
				}
			}
		})
	}
}

func TestValidFixturesHaveNoIssues(t *testing.T) {
	c, _ := New("")
	c.WithAPIValidator(apivalidation.New())
	files := builtInFixtures(t, "valid")
	if len(files) < 5 {
		t.Fatalf("only %d valid fixtures", len(files))
	}
	for _, f := range files {
		objs, issues := check(t, c, f)
		for i := range objs {
			if len(issues[i]) != 0 {
				t.Errorf("%s: %v", f, issues[i])
			}
			if c.Check(objs[i]).Typed == nil {
				t.Errorf("%s: not decoded", f)
			}
		}
	}
}

func TestKubeVersionDecidesRemovedOrDeprecated(t *testing.T) {
	obj := func(apiVersion, kind string) *manifest.Object {
		objs, _ := manifest.Parse("x.yaml", []byte("apiVersion: "+apiVersion+"\nkind: "+kind+"\nmetadata:\n  name: x\n"))
		return objs[0]
	}
	cases := []struct {
		version, apiVersion, kind, rule, frag string
	}{
		{"1.21", "batch/v1beta1", "CronJob", "deprecated-api", "deprecated since Kubernetes 1.21 and is removed in 1.25; use batch/v1"},
		{"1.25", "batch/v1beta1", "CronJob", "removed-api", "removed in Kubernetes 1.25"},
		{"1.15", "extensions/v1beta1", "Deployment", "deprecated-api", "use apps/v1"},
		{"v1.16.3", "extensions/v1beta1", "Deployment", "removed-api", "use apps/v1"},
		{"1.24", "policy/v1beta1", "PodSecurityPolicy", "deprecated-api", "no direct replacement"},
		{"1.25", "policy/v1beta1", "PodSecurityPolicy", "removed-api", "no direct replacement"},
		{"1.37", "example.com/v1", "Widget", "unknown-kind", "not a built-in kind"},
		// Newer than the target: not served yet, with what the target serves.
		{"1.16", "networking.k8s.io/v1", "Ingress", "unreleased-api", "networking.k8s.io/v1 Ingress is served from Kubernetes 1.19 on; the target 1.16 does not serve it yet and rejects it (Kubernetes 1.16 serves Ingress as extensions/v1beta1, networking.k8s.io/v1beta1)"},
		{"1.20", "batch/v1", "CronJob", "unreleased-api", "served from Kubernetes 1.21 on; the target 1.20 does not serve it yet and rejects it (Kubernetes 1.20 serves CronJob as batch/v1beta1)"},
		{"1.29", "admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy", "unreleased-api", "served from Kubernetes 1.30 on"},
	}
	for _, tc := range cases {
		c, err := New(tc.version)
		if err != nil {
			t.Fatal(err)
		}
		issues := c.Check(obj(tc.apiVersion, tc.kind)).Issues
		if len(issues) == 0 || issues[0].Rule != tc.rule || !strings.Contains(issues[0].Message, tc.frag) {
			t.Errorf("%s %s @%s: %v, want %s containing %q", tc.apiVersion, tc.kind, tc.version, issues, tc.rule, tc.frag)
		}
	}
	if _, err := New("2.0"); err == nil {
		t.Error("2.0 accepted")
	}
	// Served from the version that introduced it on; core kinds, which
	// carry no introduction, are always served.
	for _, tc := range []struct{ version, apiVersion, kind string }{{"1.19", "networking.k8s.io/v1", "Ingress"}, {"1.21", "batch/v1", "CronJob"}, {"1.16", "v1", "ConfigMap"}} {
		c, _ := New(tc.version)
		for _, is := range c.Check(obj(tc.apiVersion, tc.kind)).Issues {
			if is.Rule == RuleUnreleased {
				t.Errorf("%s %s @%s: %v", tc.apiVersion, tc.kind, tc.version, is)
			}
		}
	}
}

// DefaultKubeVersion must follow the k8s.io/api that is bundled.
func TestDefaultKubeVersionMatchesGoMod(t *testing.T) {
	data, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`k8s.io/api v0\.(\d+)\.`).FindSubmatch(data)
	if m == nil || "1."+string(m[1]) != DefaultKubeVersion {
		t.Fatalf("go.mod has k8s.io/api %s, DefaultKubeVersion is %s", m, DefaultKubeVersion)
	}
}

func TestSecretValuesNeverInMessages(t *testing.T) {
	c, _ := New("")
	objs, _ := manifest.Parse("s.yaml", []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  password: hunter2-plaintext!\nstringData:\n  token: 12345\n"))
	for _, is := range c.Check(objs[0]).Issues {
		if strings.Contains(is.Message, "hunter2") || strings.Contains(is.Message, "12345") {
			t.Errorf("message leaks value: %s", is.Message)
		}
	}
}

// What the API server only warns about is an api-warning issue at the
// field the warning names (the strategies' own WarningsOnCreate); a
// duplicate env name is left to duplicate-env.
func TestAPIWarnings(t *testing.T) {
	c, _ := New("")
	c.WithAPIValidator(apivalidation.New())
	objs, _ := manifest.Parse("w.yaml", []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: legacy
spec:
  selector:
    matchLabels: {app: legacy}
  template:
    metadata:
      labels: {app: legacy}
      annotations:
        seccomp.security.alpha.kubernetes.io/pod: runtime/default
    spec:
      nodeSelector:
        beta.kubernetes.io/os: linux
      containers:
        - name: web
          image: registry.example.com/web:1.0.0
          env:
            - {name: A, value: "1"}
            - {name: A, value: "2"}
`))
	var got []string
	for _, is := range c.Check(objs[0]).Issues {
		pos, _ := objs[0].Pos(is.Path)
		got = append(got, fmt.Sprintf("%s %02d:%d %s [%s]", is.Rule, pos.Line, pos.Column, is.Message, is.CoveredBy))
	}
	slices.Sort(got) // the server's order; findings are sorted by position
	want := []string{
		`api-warning 12:9 the API server warns: non-functional in v1.27+; use the "seccompProfile" field instead []`,
		`api-warning 15:9 the API server warns: deprecated since v1.14; use "kubernetes.io/os" instead []`,
		`api-warning 21:15 the API server warns: hides previous definition of "A", which may be dropped when using apply [duplicate-env]`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("issues:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
