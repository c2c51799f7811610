package manifest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sameAsParse fails unless ParseJSON's fast path read data exactly as
// Parse does: the object's identity, value and position index.
func sameAsParse(t *testing.T, name string, data []byte) (fast bool) {
	t.Helper()
	o := parseJSONObject(name, data)
	if o == nil {
		return false
	}
	objs, probs := Parse(name, data)
	if len(objs) != 1 || len(probs) != 0 {
		t.Fatalf("%s: the fast path read an object where Parse reads %d objects and %v", name, len(objs), probs)
	}
	want := objs[0]
	if o.APIVersion != want.APIVersion || o.Kind != want.Kind || o.Name != want.Name || o.Namespace != want.Namespace || o.Doc != want.Doc || o.Item != want.Item {
		t.Errorf("%s: identity %+v, want %+v", name, o, want)
	}
	if !reflect.DeepEqual(o.Value, want.Value) {
		t.Errorf("%s: value\n%#v\nwant\n%#v", name, o.Value, want.Value)
	}
	if !reflect.DeepEqual(o.index, want.index) {
		for i := range min(len(o.index), len(want.index)) {
			if o.index[i] != want.index[i] {
				t.Errorf("%s: index entry %d is %+v, want %+v", name, i, o.index[i], want.index[i])
				break
			}
		}
		t.Errorf("%s: index of %d entries, want %d", name, len(o.index), len(want.index))
	}
	return true
}

// Every fixture object, as compact JSON (as the API server sends it) and
// indented, reads the same through the fast path as through Parse.
func TestParseJSONIsParse(t *testing.T) {
	fast := 0
	err := filepath.WalkDir("../../testdata/manifests", func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		objs, _ := Parse(p, data)
		for _, o := range objs {
			compact, _ := json.Marshal(o.Value)
			indented, _ := json.MarshalIndent(o.Value, "", "  ")
			for _, in := range [][]byte{compact, indented} {
				if sameAsParse(t, p, in) {
					fast++
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if fast < 200 {
		t.Errorf("the fast path read only %d fixture objects", fast)
	}
	for _, c := range []string{
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"é\u00e9\ud83d\ude00\/\n"},"data":{"a":"1"},"n":[1,-2,3.5,1e3,-0,12345678901234567890,1e400,true,false,null,[],{}]}`,
		"{\"apiVersion\":\"v1\",\r\n\"kind\":\"Pod\", \"metadata\": {\"name\": \"p\"}, \"spec\": {\"containers\": [{\"name\": \"c\", \"image\": \"nginx\"}]}}",
	} {
		if !sameAsParse(t, "case", []byte(c)) {
			t.Errorf("not read by the fast path: %s", c)
		}
	}
	// Left to Parse: a List, a duplicate key, a lone surrogate, not an object.
	for _, c := range []string{
		`{"apiVersion":"v1","kind":"List","items":[]}`,
		`{"apiVersion":"v1","kind":"ConfigMap","kind":"Secret"}`,
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"\ud83d"}}`,
		`[{"apiVersion":"v1","kind":"ConfigMap"}]`,
		`{"kind":"ConfigMap"}`,
	} {
		if parseJSONObject("case", []byte(c)) != nil {
			t.Errorf("read by the fast path: %s", c)
		}
		a, ap := ParseJSON("case", []byte(c))
		b, bp := Parse("case", []byte(c))
		if len(a) != len(b) || !reflect.DeepEqual(ap, bp) {
			t.Errorf("ParseJSON is not Parse on %s", c)
		}
	}
}

// FuzzParseJSON: whatever the fast path reads, Parse reads the same.
func FuzzParseJSON(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"a":"\u00e9"}}`))
	f.Add([]byte(`{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":3,"x":[1.5,-0,1e5,"s",null]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsParse(t, "fuzz", data)
	})
}
