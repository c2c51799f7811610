package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// No input problem quotes text from a value: a marker planted in a value
// on each error path (syntax, aliases, types, a Secret's data) must not
// appear in any output format.
func TestNoValueTextInProblemMessages(t *testing.T) {
	const marker = "hunter2"
	cases := map[string]string{
		"unknown-anchor.yaml":      "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  password: *hunter2\n",
		"self-anchor.yaml":         "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: &hunter2\n  password: *hunter2\n",
		"bad-escape.yaml":          "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  password: \"hunter2\\q\"\n",
		"unterminated.yaml":        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  password: \"hunter2\n",
		"tab.yaml":                 "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n\tpassword: hunter2\n",
		"bad-indent.yaml":          "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  password: hunter2\n   other: x\n",
		"flow.yaml":                "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: [hunter2}\n",
		"tagged.yaml":              "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  password: !!int hunter2\n",
		"not-base64.yaml":          "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  password: hunter2!!\n",
		"type-error.yaml":          "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  replicas: hunter2\n",
		"scalar-document.yaml":     "hunter2\n",
		"sequence-of-secrets.yaml": "- hunter2\n",
		"json-bad-escape.json":     `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"stringData":{"password":"hunter2\x"}}` + "\n",
		"env-dump-label.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels: {e: \"CI_TOKEN=hunter2\"}\n",
		"multiline-label.yaml":     "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels: {e: \"a\\nhunter2\"}\n",
		"env-type.yaml":            "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n    - name: c\n      image: nginx:1.27\n      env:\n        - name: PASSWORD\n          value: {hunter2: 1}\n",
	}
	dir := t.TempDir()
	var files []string // named, so that files without objects are reported too
	for name, content := range cases {
		files = append(files, filepath.Join(dir, name))
		if err := os.WriteFile(files[len(files)-1], []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, format := range []string{"text", "json", "sarif", "junit", "github"} {
		code, out, errOut := klint(t, "", append([]string{"--format", format}, files...)...)
		if code == 0 {
			t.Errorf("%s: exit 0 on broken input", format)
		}
		if strings.Contains(out+errOut, marker) {
			for _, l := range strings.Split(out+errOut, "\n") {
				if strings.Contains(l, marker) {
					t.Errorf("%s prints a value: %s", format, l)
				}
			}
		}
	}
	// Every file is reported on.
	_, out, _ := klint(t, "", files...)
	for name := range cases {
		if !strings.Contains(out, name+":") {
			t.Errorf("nothing reported for %s", name)
		}
	}
}
