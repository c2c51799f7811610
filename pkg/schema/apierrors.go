package schema

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/klint-dev/klint/pkg/manifest"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// apiIssues turns the API server's validation errors into schema issues:
// an error about a map of labels or annotations (the server names the
// map) points at the key it is about, and values that may be secret are
// not printed.
func apiIssues(o *manifest.Object, errs field.ErrorList) []Issue {
	issues := make([]Issue, 0, len(errs))
	for _, e := range errs {
		issues = append(issues, Issue{Rule: RuleSchema, Path: keyOfMapError(o, e), Message: errorBody(e), CoveredBy: coveredBy(e)})
	}
	return issues
}

// coveredBy names the rule that reports the API server's error too: a
// selector that does not match the template's labels
// (workload-selector-mismatch, which says which label and offers the
// fix), a nodePort on a Service whose type does not take one
// (nodeport-range).
func coveredBy(e *field.Error) string {
	switch {
	case strings.Contains(e.Detail, "`selector` does not match template `labels`"):
		return "workload-selector-mismatch"
	case e.Type == field.ErrorTypeForbidden && strings.HasSuffix(e.Field, ".nodePort") && strings.Contains(e.Detail, "may not be used when `type` is"):
		return "nodeport-range"
	}
	return ""
}

// mapFields are the last segments of field paths whose value is a map of
// string keys to strings, where the API server reports a bad key or value
// at the map.
var mapFields = map[string]bool{"labels": true, "annotations": true, "matchLabels": true, "nodeSelector": true, "selector": true}

func keyOfMapError(o *manifest.Object, e *field.Error) string {
	segs := splitPath(e.Field)
	bad, isString := e.BadValue.(string)
	if len(segs) == 0 || !isString || !mapFields[segs[len(segs)-1]] {
		return e.Field
	}
	m, ok := valueAt(o.Value, segs).(map[string]any)
	if !ok {
		return e.Field
	}
	if _, isKey := m[bad]; isKey {
		return manifest.KeyPath(e.Field, bad)
	}
	for k, v := range m {
		if s, ok := v.(string); ok && s == bad {
			return manifest.KeyPath(e.Field, k)
		}
	}
	return e.Field
}

func valueAt(v any, segs []string) any {
	for _, s := range segs {
		switch c := v.(type) {
		case map[string]any:
			v = c[s]
		case []any:
			i, err := strconv.Atoi(s)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			v = c[i]
		default:
			return nil
		}
	}
	return v
}

// secretish are field path segments under which a value may be a secret:
// data, env values, annotations (last-applied-configuration holds a whole
// Secret), arguments.
var secretish = map[string]bool{"data": true, "stringData": true, "binaryData": true, "env": true, "value": true,
	"annotations": true, "args": true, "command": true, "token": true, "password": true, "caBundle": true}

// errorBody is field.Error.Error (the field path, then the error), with
// the bad value left out where it may be a secret or is long.
func errorBody(e *field.Error) string {
	return e.Field + ": " + errorDetail(e)
}

func errorDetail(e *field.Error) string {
	show := true
	segs := splitPath(e.Field)
	for _, s := range segs {
		if secretish[s] {
			show = false
		}
	}
	if len(segs) > 0 && secretName(segs[len(segs)-1]) {
		show = false
	}
	switch v := reflect.ValueOf(e.BadValue); {
	case !v.IsValid(): // nil
	case v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() != reflect.Struct:
	case v.Kind() == reflect.String: // a string, or a string type (a pathType)
		show = show && quotable(v.String())
	case v.Kind() == reflect.Map && v.Type().Key().Kind() == reflect.String && v.Type().Elem().Kind() == reflect.String:
		// labels: their keys and values are not secret, unless they hold
		// what a template read from elsewhere
		for it := v.MapRange(); it.Next(); {
			show = show && quotable(it.Key().String()) && quotable(it.Value().String())
		}
	case v.Kind() >= reflect.Bool && v.Kind() <= reflect.Float64:
	case v.Type() == reflect.TypeOf(field.OmitValueType{}):
	default: // a struct of the API server's internal types means nothing to a reader
		show = false
	}
	if show {
		return e.ErrorBody()
	}
	c := *e
	switch c.Type {
	case field.ErrorTypeRequired, field.ErrorTypeForbidden, field.ErrorTypeTooLong, field.ErrorTypeInternal:
		return c.ErrorBody()
	}
	msg := c.Type.String() + ": (value not shown)"
	if c.Detail != "" {
		detail := c.Detail
		if s, ok := c.BadValue.(string); ok && s != "" {
			// A custom resource's schema errors repeat the value in the
			// detail ("must be of type email: \"…\"").
			detail = strings.ReplaceAll(detail, strconv.Quote(s), "(value not shown)")
			if len(s) >= 6 { // a shorter one would match the detail's own words and numbers
				detail = strings.ReplaceAll(detail, s, "(value not shown)")
			}
		}
		msg += ": " + detail
	}
	return msg
}

// envAssignment is NAME=value, the shape of an environment dump (what a
// chart's .Files.Get of /proc/self/environ, or a template's env, puts
// into a field).
var envAssignment = regexp.MustCompile(`(^|[^A-Za-z0-9_])[A-Z_][A-Z0-9_]*=[^=\s]`)

// quotable reports whether a bad value may be quoted in a message: short
// (at most 100 bytes), one line of printable text, and not shaped like
// an environment variable's assignment. A value is quoted to help find
// it; one that came from a file or the environment through a template
// is not the manifest's own, and may be the runner's secrets.
func quotable(s string) bool {
	if len(s) > 100 || envAssignment.MatchString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// secretName reports a field name that says its value is a secret: a
// custom resource's spec.adminPassword or spec.apiToken (the field
// holding the value, not one above it: a volume's secret.secretName is a
// name).
func secretName(s string) bool {
	l := strings.ToLower(s)
	if strings.HasSuffix(l, "name") || strings.HasSuffix(l, "ref") || strings.HasSuffix(l, "seconds") {
		return false // secretName, tokenSecretRef: names, not values
	}
	for _, w := range []string{"password", "passwd", "secret", "token", "credential", "privatekey", "apikey"} {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// warningIssues turns the API server's create warnings into api-warning
// issues at their fields. A warning a rule of the catalogue says too
// (duplicate-env) is left to that rule while it is on.
func warningIssues(warnings []string) []Issue {
	issues := make([]Issue, 0, len(warnings))
	for _, w := range warnings {
		path, text, found := strings.Cut(w, ": ")
		if !found || strings.ContainsAny(path, " \t") {
			path, text = "", w
		}
		is := Issue{Rule: RuleAPIWarning, Path: path, Message: "the API server warns: " + text}
		if strings.Contains(text, "hides previous definition of") {
			is.CoveredBy = "duplicate-env"
		}
		issues = append(issues, is)
	}
	return issues
}
