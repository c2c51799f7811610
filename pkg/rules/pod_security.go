package rules

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/workload"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// The Pod Security Standards, judged by the pod-security-admission
// plugin's own checks (k8s.io/pod-security-admission/policy) at the
// policy version of the target Kubernetes version: one rule per level, so
// each is turned on or off and given its severity as any rule is. The
// baseline rule reports the baseline checks; the restricted rule the
// checks restricted adds on top. A Namespace of the run with
// pod-security.kubernetes.io labels decides the level its pods are held
// to (settlePodSecurity). Baseline is on by default (its violations are
// errors); restricted, a hardening target rather than a mistake, is off
// until enabled (warnings): on, it flags most workloads of a repository
// not written for it, and its findings would be most of a large run's
// memory (docs/performance.md).
var (
	_ = register(podSecurityRule(psaapi.LevelBaseline, Error,
		"A pod-bearing object violates the Pod Security Standards' baseline profile: privileged containers, host namespaces, hostPath volumes, host ports, added capabilities beyond the default set, and the like.",
		"A namespace labelled pod-security.kubernetes.io/enforce: baseline (or restricted) rejects the pod; without the label the pod can take over its node."))
	_ = register(podSecurityRule(psaapi.LevelRestricted, Warning,
		"A pod-bearing object does not meet the Pod Security Standards' restricted profile: privilege escalation allowed, running as root allowed, capabilities not dropped, no seccomp profile, volume types beyond the restricted set.",
		"A namespace labelled pod-security.kubernetes.io/enforce: restricted rejects the pod; the restricted profile is the hardening best practice."))
)

func podSecurityRule(level psaapi.Level, sev Severity, desc, rationale string) *Rule {
	return &Rule{
		Off: level == psaapi.LevelRestricted,
		ID:  "pod-security-" + string(level), Theme: ThemeSecurity, NoFix: noFixFor(level),
		Severity:    sev,
		Source:      SourceGo,
		Description: desc,
		Rationale:   rationale,
		Remediation: "Fix the field the finding points at (the message names the Pod Security Standards check and what it requires). The version parameter (default: the target Kubernetes version) picks the policy version; rules.<id>.enabled (or --enable, --disable) turns the rule on or off (baseline is on by default, restricted off).",
		Params:      map[string]any{"version": ""},
		Indexes:     []*IndexSpec{namespacesIndex},
		Settle:      settlePodSecurity(level),
		// The restricted profile's safe defaults would rewrite the
		// security context of nearly every workload of a repository.
		FixOptIn:         level == psaapi.LevelRestricted,
		SecuritySeverity: map[psaapi.Level]float64{psaapi.LevelBaseline: 7.0, psaapi.LevelRestricted: 4.0}[level],
		Check: func(o *Object, _ *Run, p Params) []Report {
			return checkPodSecurity(o, level, p)
		},
	}
}

// podSecurityChecks are the admission plugin's checks, by level.
var podSecurityChecks = sync.OnceValue(func() map[psaapi.Level][]policy.Check {
	out := map[psaapi.Level][]policy.Check{}
	for _, c := range policy.DefaultChecks() {
		out[c.Level] = append(out[c.Level], c)
	}
	return out
})

func checkPodSecurity(o *Object, level psaapi.Level, p Params) []Report {
	w := o.Workload
	if w == nil {
		return nil
	}
	version := psaapi.LatestVersion()
	if s, _ := p["version"].(string); s != "" && s != "latest" {
		v, err := psaapi.ParseVersion("v" + strings.TrimPrefix(s, "v"))
		if err != nil {
			return []Report{{Message: fmt.Sprintf("pod security: version parameter %q is not a Kubernetes version", s)}}
		}
		version = v
	}
	meta := &metav1.ObjectMeta{Labels: w.Labels, Annotations: w.Annotations}
	var out []Report
	for _, c := range podSecurityChecks()[level] {
		fn := versionedCheck(c, version)
		if fn == nil {
			continue
		}
		res := fn(meta, w.Spec)
		if res.Allowed {
			continue
		}
		for _, at := range podSecurityFields(c.ID, fn, meta, w) {
			// The detail of the check run on this container (or on the
			// pod alone) names only what is wrong here.
			r := at.result
			if r.Allowed { // the containers only fail together
				r = res
			}
			msg := fmt.Sprintf("Pod Security Standards %s (%s): %s", level, c.ID, r.ForbiddenReason)
			if r.ForbiddenDetail != "" {
				msg += " (" + r.ForbiddenDetail + ")"
			}
			out = append(out, Report{Path: at.path, Container: at.container, Message: msg, Fix: safeDefaultFix(c.ID, w, at.c)})
		}
	}
	return out
}

// The values safeDefaultFix adds, one copy for every finding: each
// restricted finding carries its fix to the end of the run (tens of
// thousands on a large repository), and nothing changes a fix's value.
var (
	allCapabilities            = []any{"ALL"}
	dropAll                    = map[string]any{"drop": allCapabilities}
	runtimeDefault             = map[string]any{"type": "RuntimeDefault"}
	restrictedContainerContext = map[string]any{"allowPrivilegeEscalation": false, "capabilities": dropAll}
	restrictedPodContext       = map[string]any{"runAsNonRoot": true, "seccompProfile": runtimeDefault}
)

// safeDefaultFix sets the restricted profile's safe defaults a check asks
// for, where they are unset (a value someone wrote is theirs to change):
// allowPrivilegeEscalation: false and capabilities dropping ALL on the
// container, runAsNonRoot: true and a RuntimeDefault seccomp profile on
// the pod. A missing securityContext is added whole, with every default
// of its level, so that the fixes of one container (or pod) agree
// whichever is applied first. Nil for other checks, and when the defaults
// would not resolve the finding (a capability added beyond
// NET_BIND_SERVICE, a container overriding the pod's setting).
func safeDefaultFix(id policy.CheckID, w *workload.Workload, c *workload.Container) []PatchOp {
	switch id {
	case "allowPrivilegeEscalation", "capabilities_restricted":
		if c == nil {
			return nil
		}
		sc, at := c.C.SecurityContext, pointer(c.Path)+"/securityContext"
		if sc == nil {
			return []PatchOp{{Op: "add", Path: at, Value: restrictedContainerContext}}
		}
		if id == "allowPrivilegeEscalation" {
			if sc.AllowPrivilegeEscalation != nil {
				return nil
			}
			return []PatchOp{{Op: "add", Path: at + "/allowPrivilegeEscalation", Value: false}}
		}
		switch caps := sc.Capabilities; {
		case caps == nil:
			return []PatchOp{{Op: "add", Path: at + "/capabilities", Value: dropAll}}
		case slices.ContainsFunc(caps.Add, func(c corev1.Capability) bool { return c != "NET_BIND_SERVICE" }):
			return nil
		case caps.Drop == nil:
			return []PatchOp{{Op: "add", Path: at + "/capabilities/drop", Value: allCapabilities}}
		case !slices.Contains(caps.Drop, "ALL"):
			return []PatchOp{{Op: "add", Path: at + "/capabilities/drop/-", Value: "ALL"}}
		}
	case "runAsNonRoot", "seccompProfile_restricted":
		if c != nil && c.C.SecurityContext != nil && ((id == "runAsNonRoot" && c.C.SecurityContext.RunAsNonRoot != nil) ||
			(id != "runAsNonRoot" && c.C.SecurityContext.SeccompProfile != nil)) {
			return nil // the container's own setting wins over the pod's
		}
		psc, at := w.Spec.SecurityContext, pointer(w.SpecPath)+"/securityContext"
		if psc == nil {
			return []PatchOp{{Op: "add", Path: at, Value: restrictedPodContext}}
		}
		if id == "runAsNonRoot" && psc.RunAsNonRoot == nil {
			return []PatchOp{{Op: "add", Path: at + "/runAsNonRoot", Value: true}}
		}
		if id != "runAsNonRoot" && psc.SeccompProfile == nil {
			return []PatchOp{{Op: "add", Path: at + "/seccompProfile", Value: runtimeDefault}}
		}
	}
	return nil
}

// pointer is a field path as a JSON Pointer.
func pointer(path string) string {
	var b strings.Builder
	for _, s := range manifest.SplitPath(path) {
		b.WriteByte('/')
		if s.Index >= 0 {
			b.WriteString(strconv.Itoa(s.Index))
		} else {
			b.WriteString(jsonPointerEscape(s.Key))
		}
	}
	return b.String()
}

// versionedCheck is the check as the policy version applies it, or nil
// when the version does not have it yet.
func versionedCheck(c policy.Check, v psaapi.Version) policy.CheckPodFn {
	var fn policy.CheckPodFn
	for _, vc := range c.Versions { // in increasing MinimumVersion
		if !v.Older(vc.MinimumVersion) {
			fn = vc.CheckPod
		}
	}
	return fn
}

type podField struct {
	path, container string
	result          policy.CheckResult
	c               *workload.Container // the container the field is in, if any
}

// podSecurityFields finds the fields that make a check fail: the check is
// run again on the pod with one container at a time (and with none), and
// for each that still fails, the field the check reads is the one
// reported (its nearest existing parent when it is unset, which is where
// it must be added).
func podSecurityFields(id policy.CheckID, fn policy.CheckPodFn, meta *metav1.ObjectMeta, w *workload.Workload) []podField {
	var out []podField
	alone := *w.Spec
	alone.InitContainers, alone.Containers, alone.EphemeralContainers = nil, nil, nil
	if r := fn(meta, &alone); !r.Allowed {
		for _, f := range podLevelFields(id, w) {
			// Each field gets the check's detail about itself alone (its
			// own volume, its own host namespace), not the pod's list.
			own := r
			if one, ok := onlyField(alone, w.SpecPath, f); ok {
				if r1 := fn(meta, &one); !r1.Allowed {
					own = r1
				}
			}
			out = append(out, podField{path: f, result: own})
		}
		return out
	}
	for _, c := range w.Containers() {
		one := alone
		if c.Init {
			one.InitContainers = []corev1.Container{*c.C}
		} else {
			one.Containers = []corev1.Container{*c.C}
		}
		r := fn(meta, &one)
		if r.Allowed {
			continue
		}
		switch {
		case id == "hostPorts":
			for j, port := range c.C.Ports {
				if port.HostPort != 0 {
					out = append(out, podField{path: fmt.Sprintf("%s.ports[%d].hostPort", c.Path, j), container: c.C.Name, result: r, c: &c})
				}
			}
		case id == "capabilities_baseline" && c.C.SecurityContext != nil && c.C.SecurityContext.Capabilities != nil:
			out = append(out, podField{path: c.Path + ".securityContext.capabilities.add", container: c.C.Name, result: r, c: &c})
		default:
			out = append(out, podField{path: c.Path + containerField(id), container: c.C.Name, result: r, c: &c})
		}
	}
	if len(out) == 0 { // an ephemeral container, or the containers together
		out = append(out, podField{path: w.SpecPath, result: policy.CheckResult{Allowed: true}})
	}
	return out
}

// onlyField is the pod spec (containers left out) with only the one
// volume or host namespace at path set; ok is false for other fields.
func onlyField(alone corev1.PodSpec, specPath, path string) (corev1.PodSpec, bool) {
	rest, _ := strings.CutPrefix(path, specPath+".")
	switch rest {
	case "hostNetwork", "hostPID", "hostIPC":
		alone.HostNetwork, alone.HostPID, alone.HostIPC = rest == "hostNetwork", rest == "hostPID", rest == "hostIPC"
		return alone, true
	}
	var i int
	if _, err := fmt.Sscanf(rest, "volumes[%d]", &i); err == nil && i >= 0 && i < len(alone.Volumes) {
		alone.Volumes = alone.Volumes[i : i+1]
		return alone, true
	}
	return alone, false
}

// containerField is the field of a container a check reads.
func containerField(id policy.CheckID) string {
	s := string(id)
	switch {
	case s == "privileged":
		return ".securityContext.privileged"
	case strings.HasPrefix(s, "capabilities"):
		return ".securityContext.capabilities"
	case s == "allowPrivilegeEscalation":
		return ".securityContext.allowPrivilegeEscalation"
	case s == "runAsNonRoot":
		return ".securityContext.runAsNonRoot"
	case s == "runAsUser":
		return ".securityContext.runAsUser"
	case strings.HasPrefix(s, "seccompProfile"):
		return ".securityContext.seccompProfile.type"
	case s == "seLinuxOptions":
		return ".securityContext.seLinuxOptions"
	case strings.HasPrefix(s, "procMount"):
		return ".securityContext.procMount"
	case s == "appArmorProfile":
		return ".securityContext.appArmorProfile.type"
	case s == "windowsHostProcess":
		return ".securityContext.windowsOptions.hostProcess"
	case s == "hostPorts":
		return ".ports"
	}
	return ""
}

// podLevelFields are the pod's own fields a check reads.
func podLevelFields(id policy.CheckID, w *workload.Workload) []string {
	s, spec, at := string(id), w.Spec, w.SpecPath
	switch {
	case s == "hostNamespaces":
		var out []string
		for _, f := range []struct {
			on   bool
			name string
		}{{spec.HostNetwork, "hostNetwork"}, {spec.HostPID, "hostPID"}, {spec.HostIPC, "hostIPC"}} {
			if f.on {
				out = append(out, at+"."+f.name)
			}
		}
		return out
	case s == "hostPathVolumes" || s == "restrictedVolumes":
		var out []string
		for i, v := range spec.Volumes {
			if (s == "hostPathVolumes" && v.HostPath != nil) || (s == "restrictedVolumes" && !restrictedVolume(v)) {
				out = append(out, fmt.Sprintf("%s.volumes[%d]", at, i))
			}
		}
		return out
	case s == "sysctls":
		return []string{at + ".securityContext.sysctls"}
	}
	if f := containerField(id); strings.HasPrefix(f, ".securityContext.") {
		return []string{at + f}
	}
	return []string{at}
}

// restrictedVolume reports whether the restricted profile allows a volume
// (its documented list: only to point at the volumes; the verdict is the
// check's).
func restrictedVolume(v corev1.Volume) bool {
	s := v.VolumeSource
	return s.ConfigMap != nil || s.CSI != nil || s.DownwardAPI != nil || s.EmptyDir != nil || s.Ephemeral != nil ||
		s.PersistentVolumeClaim != nil || s.Projected != nil || s.Secret != nil || s.Image != nil
}

const podSecurityLabelPrefix = "pod-security.kubernetes.io/"

// podSecurityLabels are a Namespace's pod-security labels, or nil.
func podSecurityLabels(o *Object) map[string]string {
	if o.Kind != "Namespace" || o.APIVersion != "v1" {
		return nil
	}
	md, _ := o.Value["metadata"].(map[string]any)
	labels, _ := md["labels"].(map[string]any)
	var out map[string]string
	for k, v := range labels {
		if s, ok := v.(string); ok && strings.HasPrefix(k, podSecurityLabelPrefix) {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = s
		}
	}
	return out
}

// namespacesIndex is the Pod Security policy of each Namespace of a
// world that has pod-security.kubernetes.io labels (a later Namespace of
// one name wins, as a later apply would).
var namespacesIndex = &IndexSpec{Name: "pod-security namespaces", New: func() Index { return namespacePolicies{} }}

type namespacePolicies map[string]psaapi.Policy

func (ix namespacePolicies) Add(o *Object) {
	if l := podSecurityLabels(o); l != nil {
		privileged := psaapi.LevelVersion{Level: psaapi.LevelPrivileged, Version: psaapi.LatestVersion()}
		ix[o.Name], _ = psaapi.PolicyToEvaluate(l, psaapi.Policy{Enforce: privileged, Audit: privileged, Warn: privileged})
	}
}

func (ix namespacePolicies) Merge(later Index) { maps.Copy(ix, later.(namespacePolicies)) }

// settlePodSecurity decides a Pod Security finding of level once the
// world's Namespaces are known. An object in a Namespace of its world
// (its render, or the plain files) that has pod-security.kubernetes.io
// labels is held to them, as the admission plugin holds its pods: a
// violation of the enforced level is an error, of the warn or audit
// level a warning, and of a level the namespace does not ask for
// nothing. Without such a Namespace, the rule's own severity applies.
// (The labels' versions are not applied: the checks are those of the
// rule's version parameter.)
func settlePodSecurity(level psaapi.Level) func(f *Finding, ns string, run *Run) (*Severity, bool) {
	return func(f *Finding, ns string, run *Run) (*Severity, bool) {
		pol, ok := indexOf[namespacePolicies](run, namespacesIndex)[ns]
		if !ok {
			return nil, true
		}
		var sev Severity
		switch {
		case psaapi.CompareLevels(pol.Enforce.Level, level) >= 0:
			sev = Error
		case psaapi.CompareLevels(pol.Warn.Level, level) >= 0 || psaapi.CompareLevels(pol.Audit.Level, level) >= 0:
			sev = Warning
		default:
			return nil, false // the namespace allows it
		}
		f.Message += fmt.Sprintf(" (namespace %s asks for %s)", ns, podSecurityAsks(pol, level))
		return &sev, true
	}
}

// podSecurityAsks names the namespace's modes that hold a level.
func podSecurityAsks(p psaapi.Policy, level psaapi.Level) string {
	var modes []string
	for _, m := range []struct {
		name string
		lv   psaapi.LevelVersion
	}{{"enforce", p.Enforce}, {"warn", p.Warn}, {"audit", p.Audit}} {
		if psaapi.CompareLevels(m.lv.Level, level) >= 0 {
			modes = append(modes, m.name+": "+string(m.lv.Level))
		}
	}
	return strings.Join(modes, ", ")
}

// noFixFor is why a Pod Security level offers no fix: baseline's remedies
// take away what the pod asked for; restricted's safe defaults are its fix.
func noFixFor(level psaapi.Level) string {
	if level == psaapi.LevelBaseline {
		return "each check's remedy takes away something the pod asked for (a host namespace, a capability), which may break it"
	}
	return ""
}
