package helm

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"helm.sh/helm/v4/pkg/cli/values"
	"helm.sh/helm/v4/pkg/getter"
)

// mergeValues is Helm's values.Options.MergeValues without its getters:
// the same values, or an error where Helm's has one, for files, --set,
// --set-string and --set-file together.
func TestMergeValuesIsHelms(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.yaml", "image:\n  repository: nginx\n  tag: \"1.25\"\nreplicas: 2\nlabels: {team: web}\n")
	b := write("b.yaml", "image:\n  tag: \"1.27\"\nlabels: null\nports: [80, 443]\n")
	cert := write("cert.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n")
	broken := write("broken.yaml", "image: [\n")
	cases := []struct {
		name                        string
		files, set, setStr, setFile []string
	}{
		{name: "none"},
		{name: "files in order", files: []string{a, b}},
		{name: "set over files", files: []string{a}, set: []string{"image.tag=2.0", "replicas=3", "ports[1]=8443", "flag=true"}},
		{name: "set-string keeps strings", set: []string{"replicas=3"}, setStr: []string{"replicas=4", "version=010"}},
		{name: "set-file", files: []string{b}, setFile: []string{"tls.cert=" + cert}},
		{name: "broken file", files: []string{broken}},
		{name: "missing file", files: []string{filepath.Join(dir, "none.yaml")}},
		{name: "broken set", set: []string{"noequals"}},
		{name: "missing set-file", setFile: []string{"x=" + filepath.Join(dir, "none")}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, wantErr := (&values.Options{ValueFiles: c.files, Values: c.set, StringValues: c.setStr, FileValues: c.setFile}).MergeValues(getter.Providers{})
			got, err := mergeValues(c.files, c.set, c.setStr, c.setFile)
			if (err != nil) != (wantErr != nil) {
				t.Fatalf("error %v, Helm's %v", err, wantErr)
			}
			if err != nil {
				if err.Error() != wantErr.Error() {
					t.Errorf("error %q, Helm's %q", err, wantErr)
				}
				return
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("values %#v, Helm's %#v", got, want)
			}
			if len(got) == 0 && c.name != "none" {
				t.Errorf("no values merged")
			}
		})
	}
}
