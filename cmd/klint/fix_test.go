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

// klint fix replaces a file whole (a new inode renamed over the old one,
// so a kill mid-write leaves the old bytes), keeps its mode, writes
// through a symlink inside the repository to its target, and leaves no
// temporary file behind.
func TestFixWritesAtomically(t *testing.T) {
	c := fixCases[0]
	dir := t.TempDir()
	file := filepath.Join(dir, "m.yaml")
	must(t, os.WriteFile(file, []byte(c.before), 0o640))
	must(t, os.Symlink("m.yaml", filepath.Join(dir, "link.yaml")))
	before, _ := os.Stat(file)
	if code, _, errOut := klint(t, "", "fix", filepath.Join(dir, "link.yaml")); code != 1 || errOut != "" {
		t.Fatalf("exit %d %s", code, errOut)
	}
	after, _ := os.Stat(file)
	if b, _ := os.ReadFile(file); string(b) != c.after {
		t.Fatalf("fixed file:\n%s", b)
	}
	if os.SameFile(before, after) {
		t.Error("the file was rewritten in place, not replaced")
	}
	if after.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", after.Mode())
	}
	if l, err := os.Lstat(filepath.Join(dir, "link.yaml")); err != nil || l.Mode()&os.ModeSymlink == 0 {
		t.Error("the symlink was replaced by a file")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("files left: %v", ents)
	}
}

// A symlink out of the repository is not followed by fix either: the
// file it leads to is neither read nor rewritten.
func TestFixDoesNotWriteOutside(t *testing.T) {
	top := t.TempDir()
	repo, outside := filepath.Join(top, "repo"), filepath.Join(top, "outside")
	must(t, os.MkdirAll(filepath.Join(repo, ".git"), 0o755))
	must(t, os.MkdirAll(outside, 0o755))
	must(t, os.WriteFile(filepath.Join(outside, "m.yaml"), []byte(fixCases[0].before), 0o644))
	must(t, os.Symlink("../outside/m.yaml", filepath.Join(repo, "m.yaml")))
	t.Chdir(repo)
	code, _, errOut := klint(t, "", "fix", ".")
	if b, _ := os.ReadFile(filepath.Join(outside, "m.yaml")); string(b) != fixCases[0].before {
		t.Error("the file outside the repository was rewritten")
	}
	if code != exitError || !strings.Contains(errOut, "m.yaml is a symlink (or is under one) that resolves outside the repository") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

// A CRLF file gets CRLF lines; of two Deployments of one name in a file
// the one the finding is about is fixed (by position, not identity); and
// --diff does not show a secret value in its context lines.
func TestFixLineEndingsPositionsAndSecrets(t *testing.T) {
	dir := t.TempDir()
	crlf := filepath.Join(dir, "crlf.yaml")
	must(t, os.WriteFile(crlf, []byte(strings.ReplaceAll(fixCases[0].before, "\n", "\r\n")), 0o644))
	if code, _, errOut := klint(t, "", "fix", crlf); code != 1 || errOut != "" {
		t.Fatalf("crlf: exit %d %s", code, errOut)
	}
	if b, _ := os.ReadFile(crlf); string(b) != strings.ReplaceAll(fixCases[0].after, "\n", "\r\n") {
		t.Errorf("crlf file:\n%q", b)
	}

	good := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: a}\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers: [{name: web, image: \"nginx:1.27\"}]\n"
	bad := strings.Replace(good, "namespace: a", "namespace: b", 1)
	bad = strings.Replace(bad, "        app: web\n", "        tier: x\n", 1)
	fixed := strings.Replace(bad, "        tier: x\n", "        app: web\n        tier: x\n", 1)
	two := filepath.Join(dir, "two.yaml")
	must(t, os.WriteFile(two, []byte(good+"---\n"+bad), 0o644))
	if code, _, errOut := klint(t, "", "fix", two); code != 1 || errOut != "" {
		t.Fatalf("two: exit %d %s", code, errOut)
	}
	if b, _ := os.ReadFile(two); string(b) != good+"---\n"+fixed {
		t.Errorf("two Deployments:\n%s", b)
	}

	secret := filepath.Join(dir, "secret.yaml")
	must(t, os.WriteFile(secret, []byte(strings.Replace(bad, "        tier: x\n", "        tier: x\n      annotations:\n        api-token: ghp_abcdefghijklmnop\n", 1)), 0o644))
	_, out, _ := klint(t, "", "fix", "--diff", secret)
	if strings.Contains(out, "ghp_") || !strings.Contains(out, "\n         api-token: (value not shown)\n") {
		t.Errorf("diff:\n%s", out)
	}
}

// image-pull-policy's fix sets the one value it accepts. klint fix adds
// it where the field is unset; where a value is written it says what to
// change (the mutating webhook replaces it; a file is only added to).
func TestFixImagePullPolicy(t *testing.T) {
	before := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: web\n      image: nginx:1.27\n    - name: side\n      image: busybox:1.36\n      imagePullPolicy: IfNotPresent # cached\n"
	after := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: web\n      imagePullPolicy: Always\n      image: nginx:1.27\n    - name: side\n      image: busybox:1.36\n      imagePullPolicy: IfNotPresent # cached\n"
	file := filepath.Join(t.TempDir(), "m.yaml")
	must(t, os.WriteFile(file, []byte(before), 0o644))
	code, out, errOut := klint(t, "", "fix", "--rule", "image-pull-policy", file)
	if code != 1 || !strings.Contains(errOut, "not fixed (replace /spec/containers/1/imagePullPolicy: only additions are applied to files); apply it by hand") {
		t.Fatalf("fix: exit %d\n%s%s", code, out, errOut)
	}
	if b, _ := os.ReadFile(file); string(b) != after {
		t.Fatalf("fixed file:\n%s\nwant:\n%s", b, after)
	}
}

// fix builds lint's engine from the same config and flags: the config's
// excludes leave files alone, and a --kube-version lint refuses fix
// refuses too.
func TestFixTakesLintsSettings(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	bad := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: web\n      image: nginx:1.27\n"
	must(t, os.MkdirAll("vendor", 0o755))
	must(t, os.WriteFile("vendor/p.yaml", []byte(bad), 0o644))
	must(t, os.WriteFile("p.yaml", []byte(bad), 0o644))
	must(t, os.WriteFile(".klint.yaml", []byte("exclude: [vendor/**]\n"), 0o644))
	if code, out, errOut := klint(t, "", "fix", "--rule", "image-pull-policy", "."); code != 1 {
		t.Fatalf("fix: exit %d\n%s%s", code, out, errOut)
	}
	if b, _ := os.ReadFile("vendor/p.yaml"); string(b) != bad {
		t.Errorf("an excluded file was fixed:\n%s", b)
	}
	if b, _ := os.ReadFile("p.yaml"); !strings.Contains(string(b), "imagePullPolicy: Always") {
		t.Errorf("p.yaml not fixed:\n%s", b)
	}
	if code, _, errOut := klint(t, "", "fix", "--kube-version", "1.99", "."); code != 2 || !strings.Contains(errOut, "newer than the Kubernetes API klint bundles") {
		t.Errorf("--kube-version 1.99: exit %d, %s", code, errOut)
	}
}

// fix judges what lint judges, in one run: a chart is rendered with
// lint's Helm flags (-f), a --context file is read but never rewritten,
// an object in a List is said and left, and a file lint cannot read is
// said (exit 2) while the others are still fixed.
func TestFixRunsLintsRun(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	deployment := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        tier: x\n    spec:\n      containers:\n        - name: web\n          image: nginx:1.27\n"
	fixed := strings.Replace(deployment, "        tier: x\n", "        app: web\n        tier: x\n", 1)

	must(t, os.MkdirAll("chart/templates", 0o755))
	must(t, os.WriteFile("chart/Chart.yaml", []byte("apiVersion: v2\nname: c\nversion: 0.1.0\n"), 0o644))
	must(t, os.WriteFile("chart/templates/d.yaml", []byte("{{- if .Values.web }}\n"+deployment+"{{- end }}\n"), 0o644))
	must(t, os.WriteFile("web-values.yaml", []byte("web: true\n"), 0o644))
	code, out, errOut := klint(t, "", "fix", "chart")
	if code != 0 || out != "" {
		t.Fatalf("chart without values: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = klint(t, "", "fix", "-f", "web-values.yaml", "chart")
	if code != 1 || !strings.Contains(out, "chart/templates/d.yaml:9:7: workload-selector-mismatch: not rewritten (rendered from chart with web-values.yaml); change the source there: add /spec/template/metadata/labels/app web") {
		t.Fatalf("chart with -f: exit %d\n%s%s", code, out, errOut)
	}

	must(t, os.MkdirAll("base", 0o755))
	must(t, os.MkdirAll("app", 0o755))
	must(t, os.WriteFile("base/d.yaml", []byte(deployment), 0o644))
	must(t, os.WriteFile("app/d.yaml", []byte(strings.ReplaceAll(deployment, "web", "api")), 0o644))
	code, out, errOut = klint(t, "", "fix", "--context", "base", "app")
	if code != 1 || out != "fixed app/d.yaml\n" || errOut != "" {
		t.Fatalf("--context: exit %d\n%s%s", code, out, errOut)
	}
	if b, _ := os.ReadFile("base/d.yaml"); string(b) != deployment {
		t.Errorf("a context file was rewritten:\n%s", b)
	}
	if b, _ := os.ReadFile("app/d.yaml"); string(b) != strings.ReplaceAll(fixed, "web", "api") {
		t.Errorf("app/d.yaml:\n%s", b)
	}

	// A kustomization that only lists its files is read as those files,
	// which are fixed in place.
	must(t, os.MkdirAll("listed", 0o755))
	must(t, os.WriteFile("listed/kustomization.yaml", []byte("resources: [d.yaml]\n"), 0o644))
	must(t, os.WriteFile("listed/d.yaml", []byte(deployment), 0o644))
	if code, out, errOut := klint(t, "", "fix", "listed"); code != 1 || out != "fixed listed/d.yaml\n" {
		t.Errorf("listed file: exit %d\n%s%s", code, out, errOut)
	}
	if b, _ := os.ReadFile("listed/d.yaml"); string(b) != fixed {
		t.Errorf("listed/d.yaml:\n%s", b)
	}

	list := "apiVersion: v1\nkind: List\nitems:\n  - " + strings.ReplaceAll(strings.TrimSuffix(deployment, "\n"), "\n", "\n    ") + "\n"
	must(t, os.WriteFile("app/list.yaml", []byte(list), 0o644))
	must(t, os.WriteFile("app/broken.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [\n"), 0o644))
	must(t, os.WriteFile("app/d.yaml", []byte(deployment), 0o644))
	code, out, errOut = klint(t, "", "fix", "app")
	if b, _ := os.ReadFile("app/list.yaml"); string(b) != list {
		t.Errorf("the List was rewritten:\n%s", b)
	}
	if b, _ := os.ReadFile("app/d.yaml"); string(b) != fixed {
		t.Errorf("app/d.yaml not fixed beside a broken file:\n%s", b)
	}
	if code != exitError || out != "fixed app/d.yaml\n" ||
		!strings.Contains(errOut, "klint: app/list.yaml: not fixed (Deployment web is an item of a List); apply it by hand\n") ||
		!strings.Contains(errOut, "klint: app/broken.yaml:4:1: yaml-syntax: invalid YAML") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}
