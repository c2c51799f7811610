package rules

import (
	"fmt"
	"regexp"
	"sort"

	"github.com/klint-dev/klint/pkg/manifest"
)

var (
	_ = register(requiredMetadataRule("labels"))
	_ = register(requiredMetadataRule("annotations"))
)

// requiredMetadataRule is required-labels or required-annotations: the
// keys every object must carry, and patterns their values must match.
func requiredMetadataRule(field string) *Rule {
	return &Rule{
		ID: "required-" + field, Theme: ThemeMetadata, NoFix: "the values are the organisation's",
		Severity:    Warning,
		Source:      SourceGo,
		Off:         true,
		Description: fmt.Sprintf("An object lacks one of the %s the keys parameter lists, or has one whose value does not match the regular expression the values parameter gives for its key.", field),
		Rationale:   fmt.Sprintf("Teams key ownership, cost, alerting and policy on %s; an object without them falls through every one of those.", field),
		Remediation: fmt.Sprintf("Add the %s named in the message to metadata.%s.", field, field),
		Params:      map[string]any{"keys": []any{}, "values": map[string]any{}},
		Check: func(o *Object, _ *Run, p Params) []Report {
			return checkRequiredMetadata(o, field, p)
		},
	}
}

func checkRequiredMetadata(o *Object, field string, p Params) []Report {
	md, _ := o.Value["metadata"].(map[string]any)
	have, _ := md[field].(map[string]any)
	var reps []Report
	for _, k := range p.Strings("keys") {
		if _, ok := have[k]; !ok {
			reps = append(reps, Report{Path: "metadata", Message: fmt.Sprintf("%s %q has no %s %s", o.Kind, o.Name, field[:len(field)-1], k)})
		}
	}
	values := p.StringMap("values")
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v, ok := have[k].(string)
		if !ok {
			continue
		}
		re, err := regexp.Compile("^(?:" + values[k] + ")$")
		if err != nil {
			reps = append(reps, Report{Path: "metadata." + field, Message: fmt.Sprintf("values parameter for %s is not a regular expression: %v", k, err)})
			continue
		}
		if !re.MatchString(v) {
			reps = append(reps, Report{Path: manifest.KeyPath("metadata."+field, k), Message: fmt.Sprintf("%s %s of %s %q does not match %s", field[:len(field)-1], k, o.Kind, o.Name, values[k])})
		}
	}
	return reps
}
