package rules

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Bool reads a true-or-false parameter.
func (p Params) Bool(name string) bool {
	b, _ := p[name].(bool)
	return b
}

// Strings reads a list-of-strings parameter (from config, a list of
// any).
func (p Params) Strings(name string) []string {
	switch v := p[name].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// StringMap reads a map-of-strings parameter.
func (p Params) StringMap(name string) map[string]string {
	switch v := p[name].(type) {
	case map[string]string:
		return v
	case map[string]any:
		out := make(map[string]string, len(v))
		for k, x := range v {
			if s, ok := x.(string); ok {
				out[k] = s
			}
		}
		return out
	}
	return nil
}

// paramKind is the kind of value a parameter holds, as its default says.
func paramKind(v any) string {
	switch x := v.(type) {
	case bool:
		return "true or false"
	case int, int64:
		return "a whole number"
	case float64:
		if x == float64(int64(x)) {
			return "a whole number"
		}
		return "a number"
	case string:
		return "a string"
	case []any, []string:
		return "a list"
	case map[string]any, map[string]string:
		return "a mapping"
	}
	return "a value"
}

// CheckParams checks the parameters config sets for rule id against the
// rule's own: each must be one the rule has, of the kind of its default.
// A typo (mni for min) or a list where a number goes would otherwise be
// silently ignored, or read as zero.
func CheckParams(id string, defaults, set map[string]any) error {
	for _, name := range slices.Sorted(maps.Keys(set)) {
		def, ok := defaults[name]
		if !ok {
			return fmt.Errorf("config: rules.%s.params.%s: the rule has no such parameter (it has: %s)", id, name, strings.Join(slices.Sorted(maps.Keys(defaults)), ", "))
		}
		want, got := paramKind(def), paramKind(set[name])
		if want == "a value" || want == got || (want == "a number" && got == "a whole number") {
			continue
		}
		return fmt.Errorf("config: rules.%s.params.%s must be %s", id, name, want)
	}
	return nil
}
