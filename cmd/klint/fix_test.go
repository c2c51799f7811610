package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixCase is a file before klint fix and exactly what it must be after.
type fixCase struct {
	name, before, after string
}

var fixCases = []fixCase{
	{"labels exist: the missing one is added first, with their indentation",
		`# the web tier
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector:
    matchLabels: {app: web, tier: "front"}   # both
  template:
    metadata:
      labels:
          app: web        # odd indentation is kept
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
`, `# the web tier
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector:
    matchLabels: {app: web, tier: "front"}   # both
  template:
    metadata:
      labels:
          tier: front
          app: web        # odd indentation is kept
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
`},
	{"no labels: the map is added under metadata; other documents untouched",
		`apiVersion: v1
kind: ConfigMap
metadata:   {name: untouched}
data: {"k": 'v'}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: rs
spec:
  selector:
    matchLabels:
      app: rs
  template:
    metadata:
      annotations:
        note: "no labels here"
    spec:
      containers:
      - name: c
        image: nginx:1.27
`, `apiVersion: v1
kind: ConfigMap
metadata:   {name: untouched}
data: {"k": 'v'}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: rs
spec:
  selector:
    matchLabels:
      app: rs
  template:
    metadata:
      labels:
        app: rs
      annotations:
        note: "no labels here"
    spec:
      containers:
      - name: c
        image: nginx:1.27
`},
	{"no metadata: metadata and labels are added under template",
		`apiVersion: apps/v1
kind: Deployment
metadata:
  name: bare
spec:
  selector:
    matchLabels:
      app: bare
  template:
    spec:
      containers:
        - name: c
          image: nginx:1.27
`, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: bare
spec:
  selector:
    matchLabels:
      app: bare
  template:
    metadata:
      labels:
        app: bare
    spec:
      containers:
        - name: c
          image: nginx:1.27
`},
}

// klint fix changes exactly the lines a fix adds, and fixing twice
// changes nothing the second time.
func TestFixKeepsEverythingElse(t *testing.T) {
	for _, c := range fixCases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "m.yaml")
			os.WriteFile(file, []byte(c.before), 0o600)
			code, out, errOut := klint(t, "", "fix", "--diff", file)
			if code != 1 || !strings.Contains(out, "+++ "+file) || errOut != "" {
				t.Fatalf("--diff: exit %d\n%s%s", code, out, errOut)
			}
			if b, _ := os.ReadFile(file); string(b) != c.before {
				t.Fatal("--diff wrote the file")
			}
			if code, _, errOut := klint(t, "", "fix", file); code != 1 || errOut != "" {
				t.Fatalf("fix: exit %d %s", code, errOut)
			}
			b, _ := os.ReadFile(file)
			if string(b) != c.after {
				t.Fatalf("fixed file:\n%s\nwant:\n%s", b, c.after)
			}
			if st, _ := os.Stat(file); st.Mode().Perm() != 0o600 {
				t.Errorf("mode %v", st.Mode())
			}
			code, out, _ = klint(t, "", "fix", file)
			if b2, _ := os.ReadFile(file); code != 0 || string(b2) != c.after || out != "" {
				t.Errorf("second fix: exit %d, output %q, changed %v", code, out, string(b2) != c.after)
			}
		})
	}
}

// A fix that cannot be applied exactly (flow-style labels) is said, and
// the file is left as it is; a chart's fix is reported at its template
// line, not written into the rendered output.
func TestFixRefusesWhatItCannotDoExactly(t *testing.T) {
	flow := `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {tier: x}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
`
	file := filepath.Join(t.TempDir(), "flow.yaml")
	os.WriteFile(file, []byte(flow), 0o644)
	code, _, errOut := klint(t, "", "fix", file)
	if b, _ := os.ReadFile(file); code != 0 || string(b) != flow || !strings.Contains(errOut, "not fixed (add /spec/template/metadata/labels/app: the parent is not a block mapping") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}

	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "templates"), 0o755)
	os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: c\nversion: 0.1.0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "templates", "d.yaml"), []byte(strings.Replace(flow, "metadata: {labels: {tier: x}}", "metadata:\n      labels:\n        tier: x", 1)), 0o644)
	before, _ := os.ReadFile(filepath.Join(dir, "templates", "d.yaml"))
	code, out, _ := klint(t, "", "fix", dir)
	after, _ := os.ReadFile(filepath.Join(dir, "templates", "d.yaml"))
	if code != 1 || string(after) != string(before) || !strings.Contains(out, filepath.Join(dir, "templates", "d.yaml")+":5:28: workload-selector-mismatch: not rewritten") {
		t.Errorf("chart: exit %d\n%s", code, out)
	}
}

// The restricted profile's safe defaults, offered by several findings at
// once (four for one container), are written once each, into the
// securityContext that exists and as a new pod securityContext; a second
// run has nothing left to fix.
func TestFixPodSecurityDefaults(t *testing.T) {
	before := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n          securityContext:\n            readOnlyRootFilesystem: true # keep\n"
	after := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      securityContext:\n        runAsNonRoot: true\n        seccompProfile:\n          type: RuntimeDefault\n      containers:\n        - name: web\n          image: nginx:1.27\n          securityContext:\n            allowPrivilegeEscalation: false\n            capabilities:\n              drop:\n                - ALL\n            readOnlyRootFilesystem: true # keep\n"
	file := filepath.Join(t.TempDir(), "m.yaml")
	must(t, os.WriteFile(file, []byte(before), 0o644))
	// Not unless asked for: they would rewrite nearly every workload.
	if code, out, errOut := klint(t, "", "fix", file); code != 0 || out != "" || errOut != "" {
		t.Fatalf("fix without --rule: exit %d\n%s%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(file); string(b) != before {
		t.Fatalf("fix without --rule changed the file:\n%s", b)
	}
	if code, out, errOut := klint(t, "", "fix", "--rule", "pod-security-restricted", file); code != 1 || errOut != "" {
		t.Fatalf("fix: exit %d\n%s%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(file); string(b) != after {
		t.Fatalf("fixed file:\n%s\nwant:\n%s", b, after)
	}
	if code, out, _ := klint(t, "", "fix", "--rule", "pod-security-restricted", file); code != 0 || out != "" {
		t.Errorf("second fix: exit %d %q", code, out)
	}
	// A container without a securityContext, as a list item whose first
	// key shares the "- " line: the new key goes before its second key.
	// One in flow style cannot be edited exactly: said once, left alone.
	before = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  securityContext:\n    runAsNonRoot: true\n    seccompProfile: {type: RuntimeDefault}\n  containers:\n    - name: web # the app\n      image: nginx:1.27\n    - {name: flow, image: \"x:1\"}\n"
	after = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  securityContext:\n    runAsNonRoot: true\n    seccompProfile: {type: RuntimeDefault}\n  containers:\n    - name: web # the app\n      securityContext:\n        allowPrivilegeEscalation: false\n        capabilities:\n          drop:\n            - ALL\n      image: nginx:1.27\n    - {name: flow, image: \"x:1\"}\n"
	must(t, os.WriteFile(file, []byte(before), 0o644))
	code, _, errOut := klint(t, "", "fix", "--rule", "pod-security-restricted", file)
	if b, _ := os.ReadFile(file); code != 1 || string(b) != after {
		t.Fatalf("exit %d, fixed file:\n%s\nwant:\n%s", code, b, after)
	}
	if n := strings.Count(errOut, "containers/1/securityContext"); n != 1 {
		t.Errorf("the flow-style container is said %d times:\n%s", n, errOut)
	}
}
