package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A pre-commit hook lints the changed file alone: a Deployment naming a
// ServiceAccount, a ConfigMap and a Secret defined in files that did not
// change says nothing about them; the whole directory, where one name is
// wrong, says exactly that one, at its line.
func TestReferencesDoNotFloodAPreCommitRun(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("config.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: api, namespace: shop}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\ndata: {LEVEL: info}\n")
	deploy := write("deploy.yaml", `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      serviceAccountName: api
      containers:
        - name: api
          image: registry.example.com/api:1.0.0
          envFrom:
            - configMapRef: {name: settings}
            - secretRef: {name: db}
            - configMapRef: {name: setings}
`)
	only := []string{"--format", "json", "--enable", "service-account-missing,config-ref-missing", "--disable", "pod-security-baseline"}
	_, out, _ := klint(t, "", append(only, deploy)...)
	if strings.Contains(out, "service-account-missing") || strings.Contains(out, "config-ref-missing") {
		t.Errorf("the changed file alone:\n%s", out)
	}
	_, out, _ = klint(t, "", append(only, dir)...)
	r := decode(t, out)
	var got []string
	for _, f := range r.Findings {
		if f.Rule == "service-account-missing" || f.Rule == "config-ref-missing" {
			got = append(got, f.Rule+" "+filepath.Base(f.File)+":"+itoa(f.Line)+":"+itoa(f.Column)+" "+f.Message)
		}
	}
	// The run defines no Secret in shop: db is not judged.
	want := `config-ref-missing deploy.yaml:16:30 ConfigMap "setings" is not defined in this run and the reference is not optional`
	if len(got) != 1 || got[0] != want {
		t.Errorf("the whole directory: %q, want %q", got, want)
	}
}
