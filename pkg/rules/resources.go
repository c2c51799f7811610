package rules

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The container resource rules: requests and limits, with what a
// LimitRange of the run defaults for the namespace.
var (
	_ = register(&Rule{
		ID: "missing-resource-requests", Theme: ThemeResources, NoFix: "the numbers come from measuring the workload",
		Severity:    Warning,
		Source:      SourceGo,
		Indexes:     []*IndexSpec{limitRangesIndex},
		Settle:      settleResourceDefaults,
		Description: "A container (or init container) has no cpu or no memory request, and no LimitRange of the run defaults it for the namespace. A limit without a request counts: the API server copies the limit into the request.",
		Rationale:   "The scheduler places pods by their requests: a pod without them lands on nodes that are already full, and is the first evicted under memory pressure (BestEffort).",
		Remediation: "Set resources.requests.cpu and resources.requests.memory to what the container uses under normal load. No fix is offered: the right numbers come from measuring the workload. In admission the object arrives with a LimitRange's defaults already applied.",
		Check:       checkMissingRequests,
	})
	_ = register(&Rule{
		ID: "missing-resource-limits", Theme: ThemeResources, NoFix: "the numbers come from measuring the workload",
		Severity:    Warning,
		Source:      SourceGo,
		Indexes:     []*IndexSpec{limitRangesIndex},
		Settle:      settleResourceDefaults,
		Params:      map[string]any{"cpu": false},
		Description: "A container (or init container) has no memory limit (nor a cpu limit, when the cpu parameter is true), and no LimitRange of the run defaults it for the namespace.",
		Rationale:   "A container without a memory limit can take the node's memory until the kernel kills something, often another pod. CPU limits are not asked by default: they throttle a container even when the node is idle.",
		Remediation: "Set resources.limits.memory (and limits.cpu where required) from the container's measured peak. No fix is offered: the right number comes from measuring the workload.",
		Check:       checkMissingLimits,
	})
	_ = register(&Rule{
		ID: "requests-equal-limits", Theme: ThemeResources, NoFix: "which of the two numbers is right comes from measuring the workload",
		Severity:    Warning,
		Source:      SourceGo,
		Off:         true,
		Description: "A container's cpu or memory request differs from its limit, or one of them is unset.",
		Rationale:   "Only pods whose every container requests what it is limited to get the Guaranteed QoS class: the last evicted under node pressure, and eligible for exclusive CPUs.",
		Remediation: "Set resources.requests equal to resources.limits for cpu and memory.",
		Check:       checkRequestsEqualLimits,
	})
	_ = register(&Rule{
		ID: "missing-ephemeral-storage", Theme: ThemeResources, NoFix: "the numbers come from measuring the workload",
		Severity:    Warning,
		Source:      SourceGo,
		Off:         true,
		Description: "A container has no ephemeral-storage request or limit.",
		Rationale:   "Logs, emptyDir volumes and writes to the container's layer use the node's disk: without a limit one container can fill it and get every pod on the node evicted; without a request the scheduler does not count it.",
		Remediation: "Set resources.requests and resources.limits for ephemeral-storage.",
		Check:       checkMissingEphemeralStorage,
	})
)

// limitRangesIndex is, per namespace, the container resources a
// LimitRange of the run gives a default request or limit to.
var limitRangesIndex = &IndexSpec{Name: "limit ranges", New: func() Index { return limitRanges{} }, Kinds: []string{"LimitRange"}}

// limitRanges maps namespace → "request/cpu", "limit/memory"… → true.
type limitRanges map[string]map[string]bool

func (ix limitRanges) Add(o *Object) {
	lr, ok := o.Typed.(*corev1.LimitRange)
	if !ok {
		return
	}
	for _, item := range lr.Spec.Limits {
		if item.Type != corev1.LimitTypeContainer {
			continue
		}
		set := ix[o.Namespace]
		if set == nil {
			set = map[string]bool{}
			ix[o.Namespace] = set
		}
		for name := range item.Default {
			// A default limit is also the default request (the
			// LimitRanger copies it when no defaultRequest is given).
			set["limit/"+string(name)], set["request/"+string(name)] = true, true
		}
		for name := range item.DefaultRequest {
			set["request/"+string(name)] = true
		}
	}
}

func (ix limitRanges) Merge(later Index) {
	for ns, set := range later.(limitRanges) {
		if ix[ns] == nil {
			ix[ns] = set
			continue
		}
		for k := range set {
			ix[ns][k] = true
		}
	}
}

// defaults reports whether a LimitRange applying to namespace ns
// defaults what ("request/cpu"…); a namespace left to kubectl matches
// any.
func (ix limitRanges) defaults(ns, what string) bool {
	for lrNS, set := range ix {
		if set[what] && sameNamespace(lrNS, ns) {
			return true
		}
	}
	return false
}

func checkMissingRequests(o *Object, _ *Run, _ Params) []Report {
	return missingResources(o, "requests", []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory})
}

func checkMissingLimits(o *Object, _ *Run, p Params) []Report {
	names := []corev1.ResourceName{corev1.ResourceMemory}
	if p.Bool("cpu") {
		names = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory}
	}
	return missingResources(o, "limits", names)
}

// missingResources reports each container's unset requests or limits
// (field) of each of names, one report each, at the field's path. What a
// LimitRange defaults is settled when the run's index is complete: the
// object need not wait for it.
func missingResources(o *Object, field string, names []corev1.ResourceName) []Report {
	if o.Workload == nil {
		return nil
	}
	what := strings.TrimSuffix(field, "s")
	var reps []Report
	for _, c := range o.Workload.Containers() {
		for _, name := range names {
			_, limited := c.C.Resources.Limits[name]
			_, requested := c.C.Resources.Requests[name]
			if limited || (field == "requests" && requested) {
				continue // a limit is also the request when none is set
			}
			reps = append(reps, Report{Path: c.Path + ".resources." + field + "." + string(name), Container: c.C.Name,
				Message: fmt.Sprintf("container %q has no %s %s", c.C.Name, name, what)})
		}
	}
	return reps
}

// settleResourceDefaults drops a missing request or limit that a
// LimitRange of the run defaults for the object's namespace.
func settleResourceDefaults(f *Finding, namespace string, run *Run) (*Severity, bool) {
	field, name, _ := strings.Cut(f.Path[strings.LastIndex(f.Path, ".resources.")+len(".resources."):], ".")
	return nil, !indexOf[limitRanges](run, limitRangesIndex).defaults(namespace, strings.TrimSuffix(field, "s")+"/"+name)
}

func checkRequestsEqualLimits(o *Object, _ *Run, _ Params) []Report {
	if o.Workload == nil {
		return nil
	}
	var reps []Report
	for _, c := range o.Workload.Containers() {
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			lim, limited := c.C.Resources.Limits[name]
			req, requested := c.C.Resources.Requests[name]
			switch {
			case !limited:
				reps = append(reps, Report{Path: c.Path + ".resources.limits", Container: c.C.Name,
					Message: fmt.Sprintf("container %q sets no %s limit", c.C.Name, name)})
			case requested && req.Cmp(lim) != 0:
				reps = append(reps, Report{Path: c.Path + ".resources.requests." + string(name), Container: c.C.Name,
					Message: fmt.Sprintf("container %q requests %s %s but is limited to %s", c.C.Name, req.String(), name, lim.String())})
			}
		}
	}
	return reps
}

func checkMissingEphemeralStorage(o *Object, _ *Run, _ Params) []Report {
	if o.Workload == nil {
		return nil
	}
	var reps []Report
	for _, c := range o.Workload.Containers() {
		_, limited := c.C.Resources.Limits[corev1.ResourceEphemeralStorage]
		_, requested := c.C.Resources.Requests[corev1.ResourceEphemeralStorage]
		if limited && requested {
			continue
		}
		what, field := "request", "requests"
		if !limited {
			what, field = "limit", "limits"
			if !requested {
				what = "request or limit"
			}
		}
		reps = append(reps, Report{Path: c.Path + ".resources." + field, Container: c.C.Name,
			Message: fmt.Sprintf("container %q has no ephemeral-storage %s", c.C.Name, what)})
	}
	return reps
}
