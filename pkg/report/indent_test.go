package report

import (
	"bytes"
	"encoding/json"
	"testing"
)

// appendIndent writes what json.Indent writes, for any JSON json.Marshal
// or json.Compact makes.
func TestAppendIndentIsJSONIndent(t *testing.T) {
	for _, in := range []string{
		`{}`, `[]`, `""`, `0`, `null`, `{"a":{}}`, `{"a":[]}`, `[[],{},[{}]]`,
		`{"a":1,"b":[1,2,{"c":"d"}],"e":{"f":null,"g":true}}`,
		`{"q":"a \"quoted\" ,:{}[] string\\","r":"\\\\","s":"\u00e9\u2028"}`,
		`[{"x":[[1],[2,[3]]]},"y",-1.5e10]`,
	} {
		checkIndent(t, []byte(in))
	}
}

func FuzzAppendIndent(f *testing.F) {
	for _, s := range []string{`{"a":[1,{"b":"c\"d"}],"e":{}}`, `[[],[{}]]`, `"x\\"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if !json.Valid(in) {
			return
		}
		checkIndent(t, in)
	})
}

func checkIndent(t *testing.T, in []byte) {
	t.Helper()
	var compact bytes.Buffer
	if err := json.Compact(&compact, in); err != nil {
		t.Fatalf("%q: %v", in, err)
	}
	var want bytes.Buffer
	if err := json.Indent(&want, compact.Bytes(), "", "  "); err != nil {
		t.Fatalf("%q: %v", in, err)
	}
	if got := appendIndent(nil, compact.Bytes(), "  "); !bytes.Equal(got, want.Bytes()) {
		t.Errorf("%q:\ngot  %s\nwant %s", compact.Bytes(), got, want.Bytes())
	}
}

// Each format that writes JSON writes what json.Encoder with SetIndent
// would, byte for byte.
func TestWriteIndentedIsTheEncoders(t *testing.T) {
	run := fixtureRun(t)
	for _, v := range []any{run.Result, run.Result.Findings, map[string]any{"html": "<a&b>", "empty": []int{}}} {
		var want, got bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		if err := writeIndented(&got, v, "  "); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("writeIndented differs from json.Encoder (%d vs %d bytes)", got.Len(), want.Len())
		}
	}
}
