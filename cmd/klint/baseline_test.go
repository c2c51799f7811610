package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const baselineDeploy = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:latest
          readinessProbe: {tcpSocket: {port: 80}}
          livenessProbe: {tcpSocket: {port: 80}}
`

const baselineService = `apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: NodePort
  selector: {app: web}
  ports:
    - {name: http, port: 80, nodePort: 3080}
`

// A baseline hides the findings it lists, whatever moves: lines shift,
// documents swap, indentation changes. New findings are still reported,
// an expired entry stops hiding its finding and is reported itself, an
// entry that matches nothing is an info, and --write-baseline over an
// existing file keeps the reasons and dates of the entries that still
// match.
func TestBaseline(t *testing.T) {
	dir := t.TempDir()
	manifest := filepath.Join(dir, "app.yaml")
	base := filepath.Join(dir, "klint-baseline.yaml")
	os.WriteFile(manifest, []byte(baselineDeploy+"---\n"+baselineService), 0o644)
	off := []string{"--disable", "recommended-labels,pod-security-restricted,probes-identical,writable-root-filesystem,missing-resource-requests,missing-resource-limits,replicas-minimum"}
	code, _, errOut := klint(t, "", append(off, "--write-baseline", base, manifest)...)
	if code != 0 || !strings.Contains(errOut, "wrote 2 findings") {
		t.Fatalf("write: exit %d, %s", code, errOut)
	}

	// Moved lines, swapped documents, other indentation: nothing new.
	moved := "# a comment\n\n" + baselineService + "---\n" + strings.ReplaceAll(baselineDeploy, "        - name: web", "      - name: web")
	moved = strings.ReplaceAll(moved, "          image:", "        image:")
	moved = strings.ReplaceAll(moved, "          readinessProbe:", "        readinessProbe:")
	moved = strings.ReplaceAll(moved, "          livenessProbe:", "        livenessProbe:")
	os.WriteFile(manifest, []byte(moved), 0o644)
	code, out, _ := klint(t, "", append(off, "--baseline", base, manifest)...)
	if code != 0 || !strings.Contains(out, "0 errors, 0 warnings, 0 infos, 0 suppressed, 2 baselined") {
		t.Fatalf("moved: exit %d\n%s", code, out)
	}

	// A second container on :latest is a new finding; the first stays hidden.
	two := strings.Replace(moved, "      - name: web", "      - name: sidecar\n        image: busybox:latest\n        readinessProbe: {tcpSocket: {port: 81}}\n        livenessProbe: {tcpSocket: {port: 81}}\n      - name: web", 1)
	os.WriteFile(manifest, []byte(two), 0o644)
	code, out, _ = klint(t, "", append(off, "--baseline", base, "--format", "json", manifest)...)
	r := decode(t, out)
	if code != 1 || len(r.Findings) != 1 || r.Findings[0].Rule != "image-latest-tag" || r.Findings[0].Container != "sidecar" {
		t.Fatalf("new finding: exit %d %+v", code, r.Findings)
	}

	// An expired entry and an unused one.
	b, _ := os.ReadFile(base)
	edited := strings.Replace(string(b), "    container: web\n", "    container: web\n    reason: replaced in the next release\n    expires: \"2020-01-01\"\n", 1)
	edited = strings.Replace(edited, "    path: spec.ports[0].nodePort\n", "    path: spec.ports[0].nodePort\n    reason: legacy load balancer\n", 1)
	if edited == string(b) {
		t.Fatalf("baseline file not as expected:\n%s", b)
	}
	os.WriteFile(base, []byte(edited), 0o644)
	os.WriteFile(manifest, []byte(baselineDeploy), 0o644) // the Service is gone
	code, out, _ = klint(t, "", append(off, "--baseline", base, "--format", "json", manifest)...)
	r = decode(t, out)
	var got []string
	for _, f := range r.Findings {
		got = append(got, f.Rule+"@"+filepath.Base(f.File))
	}
	if code != 1 || strings.Join(got, ",") != "image-latest-tag@app.yaml,baseline-expired@klint-baseline.yaml,baseline-unused@klint-baseline.yaml" {
		t.Fatalf("expired/unused: exit %d %v", code, got)
	}

	// Rewriting keeps the reason and date of the entry that still matches.
	klint(t, "", append(off, "--write-baseline", base, manifest)...)
	b, _ = os.ReadFile(base)
	if !strings.Contains(string(b), "reason: replaced in the next release") || !strings.Contains(string(b), `expires: "2020-01-01"`) ||
		strings.Contains(string(b), "nodeport-range") {
		t.Errorf("rewritten baseline:\n%s", b)
	}
}

func decode(t *testing.T, out string) jsonReport {
	t.Helper()
	var r jsonReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return r
}

// The baseline klint writes into the directory it lints is not read back
// as a manifest: the next run has no skipped file.
func TestBaselineFileIsNotAnInput(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("app.yaml", []byte(baselineDeploy), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := klint(t, "", "--write-baseline", "klint-baseline.yaml", "."); code != 0 {
		t.Fatalf("write: exit %d, %s", code, errOut)
	}
	code, out, _ := klint(t, "", "--baseline", "klint-baseline.yaml", "--format", "json", ".")
	r := decode(t, out)
	if code != 0 || r.Summary.Skipped != 0 || r.Summary.Files != 1 {
		t.Errorf("exit %d, summary %+v", code, r.Summary)
	}
}
