package rules

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/klint-dev/klint/pkg/manifest"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

var _ = register(&Rule{
	ID: "workload-selector-mismatch", Theme: ThemeWorkloads,
	Severity:    Error,
	Source:      SourceGo,
	Description: "A workload's selector does not select the labels of its own pod template.",
	Rationale:   "The API server rejects apps/v1 workloads whose selector does not match the template; older APIs and ReplicationControllers create pods the controller then cannot see, and keep creating more.",
	Remediation: "Make spec.selector.matchLabels a subset of spec.template.metadata.labels (the mutating webhook can add the missing labels to the template).",
	CEL: &CEL{Resources: []CELResources{{Group: "apps", Resources: []string{"deployments", "replicasets", "statefulsets", "daemonsets"}}},
		// Only the fix: the API server refuses the mismatch itself.
		Fix: "!has(object.spec.selector) || !has(object.spec.selector.matchLabels) || size(object.spec.selector.matchLabels) == 0 ? [] : " +
			"!has(object.spec.template.metadata) ? [JSONPatch{op: 'add', path: '/spec/template/metadata', value: {'labels': object.spec.selector.matchLabels}}] : " +
			"!has(object.spec.template.metadata.labels) ? [JSONPatch{op: 'add', path: '/spec/template/metadata/labels', value: object.spec.selector.matchLabels}] : " +
			"object.spec.selector.matchLabels.exists(k, k in object.spec.template.metadata.labels && object.spec.template.metadata.labels[k] != object.spec.selector.matchLabels[k]) ? [] : " +
			"object.spec.selector.matchLabels.filter(k, !(k in object.spec.template.metadata.labels))" +
			".map(k, JSONPatch{op: 'add', path: '/spec/template/metadata/labels/' + jsonpatch.escapeKey(k), value: object.spec.selector.matchLabels[k]})"},
	Check: checkSelectorMismatch,
})

func checkSelectorMismatch(o *Object, _ *Run, _ Params) []Report {
	w := o.Workload
	if w == nil || w.Pod || !w.HasSelector {
		return nil
	}
	selPath := "spec.selector"
	if o.Kind == "CronJob" {
		selPath = "spec.jobTemplate.spec.selector"
	}
	if w.EqualitySelector != nil {
		if labels.SelectorFromSet(w.EqualitySelector).Matches(labels.Set(w.Labels)) {
			return nil
		}
		return []Report{{Path: mismatchPath(o, selPath, w.EqualitySelector, w.Labels), Message: mismatchMessage(o.Kind, w.EqualitySelector, w.Labels), Fix: addLabelsFix(o, w.LabelsPath, w.Labels, w.EqualitySelector)}}
	}
	sel, err := metav1.LabelSelectorAsSelector(w.Selector)
	if err != nil {
		return nil // an invalid selector is a schema finding
	}
	if sel.Empty() || sel.Matches(labels.Set(w.Labels)) {
		return nil
	}
	msg := mismatchMessage(o.Kind, w.Selector.MatchLabels, w.Labels)
	path := mismatchPath(o, selPath+".matchLabels", w.Selector.MatchLabels, w.Labels)
	if labels.SelectorFromSet(w.Selector.MatchLabels).Matches(labels.Set(w.Labels)) {
		msg = fmt.Sprintf("%s selector expressions (%s) do not select the pod template labels {%s}", o.Kind, sel, formatLabels(w.Labels))
		// At the first expression the labels fail.
		path = selPath + ".matchExpressions"
		for i, e := range w.Selector.MatchExpressions {
			one, err := metav1.LabelSelectorAsSelector(&metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{e}})
			if err == nil && !one.Matches(labels.Set(w.Labels)) {
				path = fmt.Sprintf("%s[%d]", path, i)
				break
			}
		}
	}
	return []Report{{Path: path, Message: msg, Fix: addLabelsFix(o, w.LabelsPath, w.Labels, w.Selector.MatchLabels)}}
}

// mismatchPath is the first selector key, in the order the manifest
// writes them, that the template's labels lack or set to another value:
// the line to look at.
func mismatchPath(o *Object, prefix string, want, have map[string]string) string {
	best, bestPos := "", manifest.Position{}
	for k, v := range want {
		if hv, ok := have[k]; ok && hv == v {
			continue
		}
		p := manifest.KeyPath(prefix, k)
		pos, _ := o.Pos(p)
		if best == "" || pos.Line < bestPos.Line || pos.Line == bestPos.Line && (pos.Column < bestPos.Column || pos.Column == bestPos.Column && p < best) {
			best, bestPos = p, pos
		}
	}
	if best == "" {
		return strings.TrimSuffix(prefix, ".matchLabels")
	}
	return best
}

func mismatchMessage(kind string, want, have map[string]string) string {
	var missing []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if hv, ok := have[k]; !ok {
			missing = append(missing, fmt.Sprintf("%s=%s (missing)", k, want[k]))
		} else if hv != want[k] {
			missing = append(missing, fmt.Sprintf("%s=%s (template has %s)", k, want[k], hv))
		}
	}
	return fmt.Sprintf("%s selector does not match its pod template labels: %s", kind, strings.Join(missing, ", "))
}

func formatLabels(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// addLabelsFix offers the template the selector's missing labels; it
// does not overwrite a label the template sets to another value, since
// other selectors (Services) may rely on it.
func addLabelsFix(o *Object, labelsPath string, have, want map[string]string) []PatchOp {
	if len(want) == 0 {
		return nil
	}
	ptr := "/" + strings.ReplaceAll(labelsPath, ".", "/")
	var ops []PatchOp
	if _, exists := o.Pos(labelsPath); !exists {
		labels := map[string]any{}
		for k, v := range want {
			labels[k] = v
		}
		// The template may have no metadata at all: add the parent.
		metaPath := strings.TrimSuffix(labelsPath, ".labels")
		if _, metaExists := o.Pos(metaPath); !metaExists {
			return []PatchOp{{Op: "add", Path: "/" + strings.ReplaceAll(metaPath, ".", "/"), Value: map[string]any{"labels": labels}}}
		}
		return []PatchOp{{Op: "add", Path: ptr, Value: labels}}
	}
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if v, ok := have[k]; ok {
			if v != want[k] {
				return nil
			}
			continue
		}
		ops = append(ops, PatchOp{Op: "add", Path: ptr + "/" + jsonPointerEscape(k), Value: want[k]})
	}
	return ops
}

func jsonPointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
