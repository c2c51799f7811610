package rules

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// The rules about what a pod names by reference — its ServiceAccount,
// ConfigMaps, Secrets and claims — and the run's index of what it
// defines.
var (
	_ = register(&Rule{
		ID: "service-account-missing", Theme: ThemeReferences, NoFix: "the ServiceAccount may be created elsewhere, or the name is a typo: klint cannot tell which",
		Severity:    Warning,
		Source:      SourceGo,
		CrossObject: true,
		Holds:       true,
		Kinds:       podKinds,
		Indexes:     []*IndexSpec{definitionsIndex},
		Params:      map[string]any{"assumeComplete": false},
		Description: "A pod's serviceAccountName names a ServiceAccount the run does not define. Said only for a namespace the run defines ServiceAccounts in (so a run of one changed file says nothing), or always with the assumeComplete parameter.",
		Rationale:   "The pods are not created: the ReplicaSet or Job reports `serviceaccount \"x\" not found` and the rollout hangs.",
		Remediation: "Add the ServiceAccount, or fix the name. When it is created elsewhere (another chart, by hand), suppress the finding on the object with the reason.",
		Check:       checkServiceAccountMissing,
	})
	_ = register(&Rule{
		ID: "config-ref-missing", Theme: ThemeReferences, NoFix: "the object it names belongs to someone else, or the name is a typo: klint cannot tell which",
		Severity:    Warning,
		Source:      SourceGo,
		CrossObject: true,
		Holds:       true,
		Kinds:       podKinds,
		Indexes:     []*IndexSpec{definitionsIndex},
		Params:      map[string]any{"assumeComplete": false},
		Description: "A ConfigMap, Secret or PersistentVolumeClaim that a container's env or envFrom, or a pod volume, uses without optional: true is not defined by the run. Said only for a namespace the run defines objects of that kind in (so a run of one changed file says nothing), or always with the assumeComplete parameter.",
		Rationale:   "The pod does not start: it waits in ContainerCreating (a volume) or CreateContainerConfigError (env) until the object appears.",
		Remediation: "Add the object, fix the name, or mark the reference optional: true if the pod can run without it. When the object is created elsewhere, suppress the finding on the workload with the reason.",
		Check:       checkConfigRefMissing,
	})
	_ = register(&Rule{
		ID: "automount-service-account-token", Theme: ThemeReferences, NoFix: "whether the application calls the Kubernetes API is not in the manifest; turning the token off breaks one that does",
		Severity:         Warning,
		SecuritySeverity: 4.0,
		Source:           SourceGo,
		CrossObject:      true,
		Holds:            true,
		Kinds:            podKinds,
		Off:              true,
		Indexes:          []*IndexSpec{definitionsIndex},
		Description:      "A pod mounts its ServiceAccount's API token: neither the pod nor its ServiceAccount (when the run defines it) sets automountServiceAccountToken: false.",
		Rationale:        "Most applications never call the Kubernetes API; a mounted token is then only something an attacker inside the container can use against the API server with the account's permissions.",
		Remediation:      "Set automountServiceAccountToken: false on the pod spec or on the ServiceAccount; a pod that calls the API sets it true explicitly. No fix is offered: whether the application calls the API is not in the manifest.",
		Check:            checkAutomountToken,
	})
)

// definitionsIndex records the ServiceAccounts, ConfigMaps, Secrets and
// PersistentVolumeClaims the world defines, by kind and namespace; a
// ServiceAccount's automountServiceAccountToken with it.
var definitionsIndex = &IndexSpec{Name: "definitions", New: func() Index { return definitions{} }, Kinds: []string{"ServiceAccount"}}

type kindNS struct{ kind, ns string }

type definitions map[kindNS]map[string]*bool

func (ix definitions) Add(o *Object) {
	switch o.Kind {
	case "ServiceAccount", "ConfigMap", "Secret", "PersistentVolumeClaim":
	default:
		return
	}
	if o.Name == "" {
		return
	}
	k := kindNS{o.Kind, o.Namespace}
	if ix[k] == nil {
		ix[k] = map[string]*bool{}
	}
	var automount *bool
	if sa, ok := o.Typed.(*corev1.ServiceAccount); ok {
		automount = sa.AutomountServiceAccountToken
	}
	if _, seen := ix[k][o.Name]; !seen {
		ix[k][o.Name] = automount
	}
}

func (ix definitions) Merge(later Index) {
	for k, names := range later.(definitions) {
		if ix[k] == nil {
			ix[k] = names
			continue
		}
		mergeFirst(ix[k], names)
	}
}

// lookup says whether the world defines kind/name for namespace ns (a
// namespace left to kubectl, on either side, matches any), and whether
// it can know: it defines objects of that kind in exactly that namespace.
func (ix definitions) lookup(kind, ns, name string) (found, knows bool, automount *bool) {
	for k, names := range ix {
		if k.kind != kind || !sameNamespace(k.ns, ns) {
			continue
		}
		knows = knows || k.ns == ns
		if a, ok := names[name]; ok {
			return true, true, a
		}
	}
	return false, knows, nil
}

func serviceAccountOf(spec *corev1.PodSpec) (name, path string) {
	switch {
	case spec.ServiceAccountName != "":
		return spec.ServiceAccountName, "serviceAccountName"
	case spec.DeprecatedServiceAccount != "":
		return spec.DeprecatedServiceAccount, "serviceAccount"
	}
	return "default", "serviceAccountName"
}

func checkServiceAccountMissing(o *Object, _ *Run, p Params) []Report {
	w := o.Workload
	if w == nil {
		return nil
	}
	name, field := serviceAccountOf(w.Spec)
	if name == "default" {
		return nil // every namespace has it
	}
	return []Report{{Path: w.SpecPath + "." + field, Message: fmt.Sprintf("ServiceAccount %q is not defined in this run", name),
		Settle: undefined("ServiceAccount", o.Namespace, name, assumeComplete(p))}}
}

// undefined settles a reference to kind/name: kept when the run does not
// define it and can know (or is assumed complete).
func undefined(kind, ns, name string, complete bool) func(*Finding, *Run) bool {
	return func(_ *Finding, run *Run) bool {
		found, knows, _ := indexOf[definitions](run, definitionsIndex).lookup(kind, ns, name)
		return !found && (knows || complete)
	}
}

func assumeComplete(p Params) bool {
	b := p.Bool("assumeComplete")
	return b
}

// configRef is a reference from a pod to a ConfigMap, Secret or claim.
type configRef struct {
	kind, name, path, container string
}

// configRefs lists the references of a pod spec that are not optional.
func configRefs(o *Object) []configRef {
	w := o.Workload
	var refs []configRef
	add := func(kind, name string, optional *bool, path, container string) {
		if name == "" || (optional != nil && *optional) || (kind == "ConfigMap" && name == "kube-root-ca.crt") {
			return // kube-root-ca.crt: every namespace has it
		}
		refs = append(refs, configRef{kind, name, path, container})
	}
	for _, c := range w.Containers() {
		for i, e := range c.C.Env {
			at := c.Path + ".env[" + strconv.Itoa(i) + "].valueFrom."
			if e.ValueFrom == nil {
				continue
			}
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil {
				add("ConfigMap", r.Name, r.Optional, at+"configMapKeyRef.name", c.C.Name)
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil {
				add("Secret", r.Name, r.Optional, at+"secretKeyRef.name", c.C.Name)
			}
		}
		for i, e := range c.C.EnvFrom {
			at := c.Path + ".envFrom[" + strconv.Itoa(i) + "]."
			if r := e.ConfigMapRef; r != nil {
				add("ConfigMap", r.Name, r.Optional, at+"configMapRef.name", c.C.Name)
			}
			if r := e.SecretRef; r != nil {
				add("Secret", r.Name, r.Optional, at+"secretRef.name", c.C.Name)
			}
		}
	}
	for i, v := range w.Spec.Volumes {
		at := w.SpecPath + ".volumes[" + strconv.Itoa(i) + "]."
		switch {
		case v.ConfigMap != nil:
			add("ConfigMap", v.ConfigMap.Name, v.ConfigMap.Optional, at+"configMap.name", "")
		case v.Secret != nil:
			add("Secret", v.Secret.SecretName, v.Secret.Optional, at+"secret.secretName", "")
		case v.PersistentVolumeClaim != nil:
			add("PersistentVolumeClaim", v.PersistentVolumeClaim.ClaimName, nil, at+"persistentVolumeClaim.claimName", "")
		case v.Projected != nil:
			for j, s := range v.Projected.Sources {
				src := at + "projected.sources[" + strconv.Itoa(j) + "]."
				if s.ConfigMap != nil {
					add("ConfigMap", s.ConfigMap.Name, s.ConfigMap.Optional, src+"configMap.name", "")
				}
				if s.Secret != nil {
					add("Secret", s.Secret.Name, s.Secret.Optional, src+"secret.name", "")
				}
			}
		}
	}
	return refs
}

func checkConfigRefMissing(o *Object, _ *Run, p Params) []Report {
	if o.Workload == nil {
		return nil
	}
	var reps []Report
	for _, r := range configRefs(o) {
		reps = append(reps, Report{Path: r.path, Container: r.container, Message: fmt.Sprintf("%s %q is not defined in this run and the reference is not optional", r.kind, r.name),
			Settle: undefined(r.kind, o.Namespace, r.name, assumeComplete(p))})
	}
	return reps
}

func checkAutomountToken(o *Object, _ *Run, _ Params) []Report {
	w := o.Workload
	if w == nil {
		return nil
	}
	at := w.SpecPath + ".automountServiceAccountToken"
	if a := w.Spec.AutomountServiceAccountToken; a != nil {
		if *a {
			return []Report{{Path: at, Message: "the pod mounts its ServiceAccount token explicitly (automountServiceAccountToken: true)"}}
		}
		return nil
	}
	name, _ := serviceAccountOf(w.Spec)
	ns := o.Namespace
	return []Report{{Path: at, Message: fmt.Sprintf("the pod mounts the token of ServiceAccount %q: neither the pod nor the ServiceAccount sets automountServiceAccountToken: false", name),
		Settle: func(_ *Finding, run *Run) bool {
			_, _, a := indexOf[definitions](run, definitionsIndex).lookup("ServiceAccount", ns, name)
			return a == nil || *a
		}}}
}
