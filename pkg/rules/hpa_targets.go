package rules

import (
	"fmt"
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
)

// The run's HorizontalPodAutoscalers and what they scale: two rules read
// this index, one from each side.
var (
	_ = register(&Rule{
		ID: "hpa-target-missing", Theme: ThemeDisruption, NoFix: "the target's new name is not in the manifest",
		Severity:    Warning,
		Source:      SourceGo,
		CrossObject: true,
		Kinds:       []string{"HorizontalPodAutoscaler"},
		Indexes:     []*IndexSpec{scalablesIndex},
		Description: "A HorizontalPodAutoscaler's scaleTargetRef names a Deployment, StatefulSet or ReplicaSet that is not among the objects checked.",
		Rationale:   "An autoscaler whose target does not exist scales nothing; usually the target was renamed and the autoscaler was not.",
		Remediation: "Point scaleTargetRef at the workload's kind and name. When the workload lives in files not checked in this run, run klint on the whole directory.",
		Check:       checkHPATargetMissing,
	})
	_ = register(&Rule{
		ID: "hpa-replicas-conflict", Theme: ThemeDisruption, NoFix: "removing spec.replicas changes what the first apply creates; the author decides",
		Severity:    Warning,
		Source:      SourceGo,
		CrossObject: true,
		Holds:       true,
		Kinds:       []string{"Deployment", "StatefulSet", "ReplicaSet"},
		Indexes:     []*IndexSpec{hpaTargetsIndex},
		Description: "A Deployment, StatefulSet or ReplicaSet that a HorizontalPodAutoscaler of the run scales sets spec.replicas.",
		Rationale:   "Every apply resets the replicas to the manifest's number, undoing what the autoscaler chose: a deploy under load scales the service down.",
		Remediation: "Remove spec.replicas from the manifest and let the autoscaler own it (server-side apply keeps it then).",
		Check:       checkHPAReplicasConflict,
	})
)

type scaleKey struct{ ns, kind, name string }

// scalablesIndex is the run's workloads an autoscaler can target.
var scalablesIndex = &IndexSpec{Name: "scalables", New: func() Index { return scalables{} }}

type scalables map[scaleKey]bool

func (ix scalables) Add(o *Object) {
	switch o.Kind {
	case "Deployment", "StatefulSet", "ReplicaSet":
		ix[scaleKey{o.Namespace, o.Kind, o.Name}] = true
	}
}

func (ix scalables) Merge(later Index) { maps.Copy(ix, later.(scalables)) }

// has reports whether the run holds the target; a namespace left to
// kubectl on either side matches any.
func (ix scalables) has(k scaleKey) bool {
	if ix[k] {
		return true
	}
	for x := range ix {
		if x.kind == k.kind && x.name == k.name && sameNamespace(x.ns, k.ns) {
			return true
		}
	}
	return false
}

// hpaTargetsIndex is what the run's autoscalers scale, with where each
// autoscaler is.
var hpaTargetsIndex = &IndexSpec{Name: "hpa targets", New: func() Index { return hpaTargets{} }, Kinds: []string{"HorizontalPodAutoscaler"}}

type hpaTargets map[scaleKey]scaledBy

// scaledBy is the autoscaler that scales a workload: where it is
// ("HorizontalPodAutoscaler name (file:line)"), and its minReplicas (1
// when unset).
type scaledBy struct {
	hpa         string
	minReplicas int32
}

func hpaTarget(o *Object) (kind, name string, ok bool) {
	switch h := o.Typed.(type) {
	case *autoscalingv2.HorizontalPodAutoscaler:
		return h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name, true
	case *autoscalingv1.HorizontalPodAutoscaler:
		return h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name, true
	}
	return "", "", false
}

func (ix hpaTargets) Add(o *Object) {
	if kind, name, ok := hpaTarget(o); ok {
		if _, seen := ix[scaleKey{o.Namespace, kind, name}]; !seen {
			min, _ := hpaMinMax(o)
			ix[scaleKey{o.Namespace, kind, name}] = scaledBy{fmt.Sprintf("HorizontalPodAutoscaler %s (%s:%d)", o.Name, o.File, o.Start().Line), min}
		}
	}
}

func (ix hpaTargets) Merge(later Index) { mergeFirst(ix, later.(hpaTargets)) }

func checkHPATargetMissing(o *Object, run *Run, _ Params) []Report {
	kind, name, ok := hpaTarget(o)
	if !ok || name == "" {
		return nil
	}
	switch kind {
	case "Deployment", "StatefulSet", "ReplicaSet":
	default:
		return nil // a custom resource with a scale subresource: not checked
	}
	if indexOf[scalables](run, scalablesIndex).has(scaleKey{o.Namespace, kind, name}) {
		return nil
	}
	return []Report{{Path: "spec.scaleTargetRef.name", Message: fmt.Sprintf("HorizontalPodAutoscaler %q scales %s %q, which is not in this run", o.Name, kind, name)}}
}

func checkHPAReplicasConflict(o *Object, _ *Run, _ Params) []Report {
	var set bool
	switch w := o.Typed.(type) {
	case *appsv1.Deployment:
		set = w.Spec.Replicas != nil
	case *appsv1.StatefulSet:
		set = w.Spec.Replicas != nil
	case *appsv1.ReplicaSet:
		set = w.Spec.Replicas != nil
	}
	if !set {
		return nil
	}
	ref := o.Ref()
	return []Report{{Path: "spec.replicas", Message: fmt.Sprintf("%s %q sets replicas", o.Kind, o.Name),
		Settle: func(f *Finding, run *Run) bool {
			by, ok := hpaTargetOf(run, ref.Namespace, ref.Kind, ref.Name)
			f.Message += fmt.Sprintf(", which %s scales: every apply resets its choice", by.hpa)
			return ok
		}}}
}

// hpaTargetOf says which autoscaler of the run scales the workload, if
// one does; a
// namespace left to kubectl on either side matches any.
func hpaTargetOf(run *Run, ns, kind, name string) (scaledBy, bool) {
	targets := indexOf[hpaTargets](run, hpaTargetsIndex)
	if by, ok := targets[scaleKey{ns, kind, name}]; ok {
		return by, true
	}
	for k, v := range targets {
		if k.kind == kind && k.name == name && sameNamespace(k.ns, ns) {
			return v, true
		}
	}
	return scaledBy{}, false
}
