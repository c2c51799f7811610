package schema

import (
	"encoding/json"
	"math"
	"testing"
)

func checkMarshal(t *testing.T, v any) {
	t.Helper()
	want, werr := json.Marshal(v)
	got, gerr := marshal(v)
	if string(got) != string(want) || (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
		t.Errorf("marshal(%#v) = %s, %v; encoding/json: %s, %v", v, got, gerr, want, werr)
	}
}

// The schema stage's JSON is encoding/json's, byte for byte: error offsets
// and the order values are decoded in depend on it.
func TestMarshalIsEncodingJSON(t *testing.T) {
	for _, v := range []any{
		nil, true, false, "", "plain", `quo"te`, "back\\slash", "<a href='x'>&</a>", "tab\there\n", "ünïcödé", "\u2028", "bad \xff utf8",
		int64(0), int64(-42), int64(math.MaxInt64), 7,
		0.0, math.Copysign(0, -1), 0.5, 1.0, 1e20, 1e21, 1e-6, 1e-7, 123456789.125, -2.5e-9, 1.7976931348623157e308,
		math.NaN(), math.Inf(1), math.Inf(-1),
		[]any{}, []any{int64(1), "two", nil, []any{3.5}},
		map[string]any{}, map[string]any{"b": int64(1), "a": map[string]any{"z": nil, "<": "&"}, "": []any{true}},
		map[string]any{"x": math.NaN()},
	} {
		checkMarshal(t, v)
	}
}

func FuzzMarshalIsEncodingJSON(f *testing.F) {
	f.Add("key", "value", 1.5, int64(3))
	f.Add("\x00<", "\xff\u2029", 1e-300, int64(-1))
	f.Fuzz(func(t *testing.T, k, s string, x float64, n int64) {
		checkMarshal(t, map[string]any{k: s, s: []any{x, n, map[string]any{k: x}}})
	})
}
