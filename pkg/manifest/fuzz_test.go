package manifest

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzJSON feeds JSON to the loader: every valid JSON object with
// apiVersion and kind must load as one object (no syntax problem), with
// the same value encoding/json reads, and positions inside the input.
func FuzzJSON(f *testing.F) {
	f.Add([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"url":"http:\/\/a\/b","e":"\ud83d\ude00","lone":"\ud800"}}`))
	f.Add([]byte("{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"ConfigMap\",\n\t\"metadata\": {\"name\": \"x\"}\n}\n"))
	f.Add([]byte(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","annotations":{"a":"\u2028\u0085\r"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}`))
	f.Add([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}} {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b"}}`))
	f.Add([]byte(`{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"a"}}]}`))
	f.Add([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"n":1e400,"m":-0,"k":"\"\\\/\b\f\n\r\t"}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var want map[string]any
		if !utf8.Valid(data) || json.Unmarshal(data, &want) != nil || !json.Valid(data) {
			return
		}
		if v, _ := want["apiVersion"].(string); v == "" {
			return
		}
		if k, _ := want["kind"].(string); k == "" || k == "List" || len(k) > 4 && k[len(k)-4:] == "List" {
			return
		}
		if hasDuplicateKeys(data) {
			return // JSON allows them; the API server's decoder does not, and klint reports them
		}
		objs, probs := Parse("f.json", data)
		for _, p := range probs {
			if p.Kind == SyntaxError {
				t.Fatalf("valid JSON rejected: %v", p)
			}
		}
		if len(objs) != 1 {
			return // not an object klint reads (a problem says why)
		}
		got, _ := json.Marshal(objs[0].Value)
		exp, _ := json.Marshal(want)
		if !bytes.Equal(got, exp) && !numbersDiffer(want) {
			t.Fatalf("value differs from encoding/json:\n got %s\nwant %s", got, exp)
		}
		lines := bytes.Count(data, []byte{'\n'}) + 1
		if lines == 1 {
			// No line feed at all: lines are numbered by carriage
			// returns, as a classic Mac editor and the parser do.
			lines = bytes.Count(data, []byte{'\r'}) + 1
		}
		for _, n := range objs[0].index {
			if n.line < 1 || int(n.line) > lines || n.col < 1 {
				t.Fatalf("position %d:%d outside the input (%d lines)", n.line, n.col, lines)
			}
		}
	})
}

// hasDuplicateKeys reports whether some JSON object in data repeats a key.
func hasDuplicateKeys(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []map[string]bool
	expectKey := []bool{}
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, map[string]bool{})
				expectKey = append(expectKey, true)
			case '[':
				stack = append(stack, nil)
				expectKey = append(expectKey, false)
			default:
				stack, expectKey = stack[:len(stack)-1], expectKey[:len(expectKey)-1]
				if len(expectKey) > 0 && stack[len(stack)-1] != nil {
					expectKey[len(expectKey)-1] = true
				}
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1] != nil && expectKey[n-1] {
				if stack[n-1][v] {
					return true
				}
				stack[n-1][v] = true
				expectKey[n-1] = false
				continue
			}
			if n := len(stack); n > 0 && stack[n-1] != nil {
				expectKey[n-1] = true
			}
		default:
			if n := len(stack); n > 0 && stack[n-1] != nil {
				expectKey[n-1] = true
			}
		}
	}
}

// numbersDiffer: klint keeps integers as int64 and YAML reads some
// numbers (1e400, -0) differently from float64; values with numbers are
// compared only for acceptance and positions.
func numbersDiffer(v any) bool {
	switch c := v.(type) {
	case map[string]any:
		for _, x := range c {
			if numbersDiffer(x) {
				return true
			}
		}
	case []any:
		for _, x := range c {
			if numbersDiffer(x) {
				return true
			}
		}
	case float64:
		return true
	}
	return false
}
