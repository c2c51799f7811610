package rules

import (
	"sort"

	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/workload"
	"k8s.io/apimachinery/pkg/runtime"
)

// Source says where a rule comes from.
type Source string

// Rule sources.
const (
	SourceInput  Source = "input"  // problems with the file itself
	SourceSchema Source = "schema" // API-server decoding and validation
	SourceGo     Source = "go"     // built-in Go rules
	SourceRego   Source = "rego"   // Rego policies
	SourceUpdate Source = "update" // klint --base: the change since the base revision
	// SourceAdmission is a cluster's ValidatingAdmissionPolicies, judged
	// offline.
	SourceAdmission Source = "admission-policy"
	// SourceCEL is a rule of the user's written in CEL (a CELRule in a
	// policy directory).
	SourceCEL Source = "cel"
)

// The themes rules are grouped by, in the order the docs list them.
const (
	ThemeInput      = "Input"
	ThemeSchema     = "Schema and API versions"
	ThemeUpdates    = "Updates (--base)"
	ThemeWorkloads  = "Workloads and probes"
	ThemeDisruption = "Disruption budgets and autoscalers"
	ThemeResources  = "Resources"
	ThemeImages     = "Images"
	ThemeSecurity   = "Security"
	ThemeReferences = "Service accounts and references"
	ThemeRBAC       = "RBAC"
	ThemeNetworking = "Networking"
	ThemeMetadata   = "Metadata"
	ThemePolicies   = "Policies"
)

// Themes lists the themes in the order the docs list them.
var Themes = []string{ThemeInput, ThemeSchema, ThemeUpdates, ThemeWorkloads, ThemeDisruption, ThemeResources, ThemeImages, ThemeSecurity, ThemeReferences, ThemeRBAC, ThemeNetworking, ThemeMetadata, ThemePolicies}

// Rule is one check and everything a person needs to know about it. Rules
// whose Check is nil are reported by the engine itself (input and schema
// findings) or by Rego.
type Rule struct {
	ID          string
	Severity    Severity
	Description string
	Rationale   string
	Remediation string
	Source      Source
	// Theme groups the rule with its kind in the docs (README's table,
	// docs/rules.md); a Rego policy sets it in its metadata (custom.theme).
	Theme string
	// CrossObject rules look at other objects of the run; they see only
	// what the run contains (the changed files, in a pre-commit hook; the
	// one object, in admission).
	CrossObject bool
	// CrossObject and ReadsRun rules judge an object of plain files at
	// the end of the run, when the run's index is complete (the object is
	// read again from its source then: manifest.Detached); they judge a
	// render's objects when the render is done.
	//
	// ReadsRun rules look at the run's index (Run) beside the object,
	// but judge the object on its own too, so they run in admission
	// (nodeport-range: a duplicate nodePort needs the run, a port outside
	// the range does not). CrossObject rules read it too.
	ReadsRun bool
	// Indexes are what a rule reading the run needs of it: the engine
	// builds each from every object of the world (merging them across
	// files and renders) and hands them to Check in Run.
	Indexes []*IndexSpec
	// Settle, when set, holds the rule's findings until the indexes of
	// the object's world are complete (a render's when it is checked, the
	// plain files' at the end of the run), and then decides each, given
	// the object's namespace: the severity it gets (nil: the configured
	// one), or false to drop it. It may change the message.
	Settle func(f *Finding, namespace string, run *Run) (*Severity, bool)
	// Holds, on a rule reading the run, says that Check judges an object
	// without the run, and each report that depends on it carries a
	// Settle that decides it once the object's world is complete: the
	// engine checks the object at once and holds only those reports,
	// instead of keeping the object (read again from its source) until
	// the end of the run. CrossObject rules that hold still do not run in
	// admission.
	Holds bool
	// Kinds, when set, are the only kinds Check looks at: the engine
	// does not call it on others, and keeps only objects of these kinds
	// until the end of a run for the rules that read the run.
	Kinds []string
	// Off rules do not run until enabled (--enable, or config).
	Off bool
	// InputError rules report input klint could not read or render: a
	// run with one of their findings did not lint everything it was
	// given (the CLI exits 2).
	InputError bool
	// Params are the rule's parameters and their defaults, set in
	// .klint.yaml under rules.<id>.params.
	Params map[string]any
	// SecuritySeverity, for a rule about security, is how grave a finding
	// is on the CVSS scale (0.1-10; 0: not a security rule): SARIF's
	// security-severity, by which GitHub code scanning ranks alerts.
	SecuritySeverity float64
	// CEL, when set, is the rule said in CEL, for klint
	// admission-policies.
	CEL *CEL
	// FixOptIn rules offer fixes that klint fix applies only when the rule
	// is named (--rule): they would rewrite most of a repository.
	FixOptIn bool
	// NoFix says why the rule offers no fix (the docs print it): no one
	// value is right without asking.
	NoFix string
	// Check reports the rule's findings for one object. It must not do I/O
	// or keep state: rules run in parallel and in the webhook.
	Check func(o *Object, run *Run, p Params) []Report
}

// Report is what a rule says about an object; the engine turns it into a
// Finding with a position.
type Report struct {
	// Path is the field the report is about, in field.Path notation.
	Path      string
	Message   string
	Container string
	// Fix, when the rule can offer one safely, is a JSON Patch that
	// resolves the report.
	Fix []PatchOp
	// Warn marks a Rego warn result: its severity is at most Warning.
	Warn bool
	// Settle, when set (by a rule that Holds), decides the report once
	// the object's world is complete (a render's when it is checked, the
	// plain files' at the end of the run): false drops it. It may change
	// the finding's message. It captures what it needs of the object, not
	// the object.
	Settle func(f *Finding, run *Run) bool
}

// Object is a loaded object with what the schema stage learned of it.
type Object struct {
	*manifest.Object
	// Typed is the object decoded into its k8s.io/api type, or nil.
	Typed runtime.Object
	// Workload is the pod view of pod-bearing kinds, or nil.
	Workload *workload.Workload
	// Key tells the object apart from the others of its run; the engine
	// sets it.
	Key ObjectKey
}

// Ref names the object.
func (o *Object) Ref() ObjectRef {
	return ObjectRef{APIVersion: o.APIVersion, Kind: o.Kind, Namespace: o.Namespace, Name: o.Name}
}

// Params are a rule's parameters: its defaults with config on top.
type Params map[string]any

// Int reads an integer parameter.
func (p Params) Int(name string) int {
	switch v := p[name].(type) {
	case int:
		return v
	case int64:
		return int(v)
	case float64:
		return int(v)
	}
	return 0
}

var registry = map[string]*Rule{}

// Lookup is the built-in rule of that ID, or nil.
func Lookup(id string) *Rule { return registry[id] }

// Register adds a rule to the built-in ones (the catalogue's files do it
// as they are initialised; a test may too), and Unregister removes it.
func Register(r *Rule) *Rule { return register(r) }

// Unregister removes a rule Register added.
func Unregister(id string) { delete(registry, id) }

// register adds a built-in rule; called from each rule file's init.
func register(r *Rule) *Rule {
	if _, dup := registry[r.ID]; dup {
		panic("rule registered twice: " + r.ID)
	}
	registry[r.ID] = r
	return r
}

// Builtin lists the built-in rules (Go, schema and input), sorted by ID.
func Builtin() []*Rule {
	out := make([]*Rule, 0, len(registry))
	for _, r := range registry {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Engine-made rules: problems with the input and the schema stage.
var (
	ruleYAMLSyntax = register(&Rule{
		ID: "yaml-syntax", Theme: ThemeInput, Severity: Error, Source: SourceInput, InputError: true,
		Description: "Input is not valid YAML or JSON: a syntax error, a duplicate key, an alias bomb, a binary or non-UTF-8 file, or a file over the size limit.",
		Rationale:   "kubectl and the API server refuse such input; a duplicate key silently keeps one of two values in many tools.",
		Remediation: "Fix the syntax at the reported line; remove the duplicate key; save the file as UTF-8.",
	})
	ruleRender = register(&Rule{
		ID: "render", Theme: ThemeInput, Severity: Error, Source: SourceInput, InputError: true,
		Description: "A Helm chart or kustomization could not be rendered: a template that does not parse, a `required` value or `fail` call, a dependency that is not vendored, a kustomization that does not build, a remote kustomize resource (klint fetches nothing), a chart file that links outside the repository, or a render over its time, output or sequence budget.",
		Rationale:   "helm install or kubectl apply -k fails the same way, or klint refused to read or run what a pull request may use to reach the runner; what could not be rendered could not be linted either.",
		Remediation: "Fix the template or kustomization entry at the reported line; vendor missing chart dependencies with `helm dependency build` and remote resources into the repository; raise --render-timeout for a chart that is slow but sound.",
	})
	ruleUnreadable = register(&Rule{
		ID: "unreadable", Theme: ThemeInput, Severity: Error, Source: SourceInput, InputError: true,
		Description: "A path named on the command line does not exist, a file or directory cannot be read (permissions, a broken symlink), a symlink leads out of the repository or to /proc, /sys or /dev, or a directory is nested too deep.",
		Rationale:   "What cannot be read cannot be linted; what lies outside the repository is not klint's to read (a pull request could point a link at the runner's secrets). The rest of the run is still linted and reported, and klint exits 2.",
		Remediation: "Fix the path or the permissions, exclude the path with --exclude, or widen what klint reads with --allow-outside.",
	})
	ruleSkippedFile = register(&Rule{
		ID: "skipped-file", Theme: ThemeInput, Severity: Info, Source: SourceInput,
		Description: "A named pipe, socket or device with a manifest's name found while scanning a directory: not read.",
		Rationale:   "Reading a named pipe blocks until something writes to it, so a scan that read it could hang forever.",
		Remediation: "Nothing to do if this is expected; to read a named pipe, name it on the command line.",
	})
	ruleKustomizeDeprecated = register(&Rule{
		ID: "kustomize-deprecated", Theme: ThemeInput, Severity: Info, Source: SourceInput,
		Description: "A kustomization uses a field kustomize deprecates: bases, commonLabels, imageTags, patchesJson6902, patchesStrategicMerge or vars.",
		Rationale:   "kustomize still builds it but prints a warning on every build, and will drop the field in a later version.",
		Remediation: "Move the entries to the field named in the message (resources, labels, images, patches, replacements); `kustomize edit fix` does it.",
	})
	ruleEmptyDocument = register(&Rule{
		ID: "empty-document", Theme: ThemeInput, Severity: Info, Source: SourceInput,
		Description: "An empty YAML document between two \"---\" separators.",
		Rationale:   "Usually a leftover from editing; harmless to kubectl but often a sign that something was deleted by mistake.",
		Remediation: "Remove the extra \"---\".",
	})
	ruleSchema = register(&Rule{
		ID: "schema", Theme: ThemeSchema, Severity: Error, Source: SourceSchema,
		Description: "The API server would reject the object: an unknown or duplicate field, a value of the wrong type, an invalid name, label, annotation, port or selector, a missing required field, or a document without apiVersion and kind.",
		Rationale:   "kubectl apply fails (or, with client-side validation off, the field is silently dropped).",
		Remediation: "Fix the field at the reported line; an unknown field is usually a typo or a key indented under the wrong parent.",
	})
	ruleAPIWarning = register(&Rule{
		ID: "api-warning", Theme: ThemeSchema, Severity: Warning, Source: SourceSchema,
		Description: "The API server would create the object but warn about it: a deprecated annotation (seccomp, AppArmor), a deprecated node label in a selector or affinity (beta.kubernetes.io/os), a duplicate port, a name that is not a DNS label, and the rest its strategies' WarningsOnCreate say; from the API server's own code, in the CLI.",
		Rationale:   "kubectl prints the warning on every apply, and most say that a field no longer does anything or will stop working in a later version.",
		Remediation: "Do what the warning says at the reported field (move an annotation to its securityContext field, use kubernetes.io/os instead of beta.kubernetes.io/os…).",
	})
	ruleImmutableField = register(&Rule{
		ID: "immutable-field", Theme: ThemeUpdates, Severity: Error, Source: SourceUpdate,
		Description: "With --base, the object exists at the base revision and the change sets a field the API server does not let an update change: a workload's selector, a Job's template, a StatefulSet's volumeClaimTemplates or serviceName, a claim's storage class, an immutable ConfigMap's data, a CRD's scope; from the API server's own update validation, in the CLI.",
		Rationale:   "kubectl apply fails with \"field is immutable\" on the cluster where the old version runs: the rollout stops there, not in review.",
		Remediation: "Do what the message says for the kind: a new name, a delete and re-apply (and what it costs), or keep the old value. The related location is the field's line at the base revision.",
	})
	_ = register(&Rule{
		ID: "object-renamed", Theme: ThemeUpdates, Severity: Warning, Source: SourceUpdate,
		Description: "With --base, a Deployment, StatefulSet, DaemonSet, Service, PersistentVolumeClaim or Namespace of the base revision is gone and one of its kind, namespace and render is new, with the same spec or as the only new one there: a rename, which the cluster sees as a delete and a create.",
		Rationale:   "Whatever deletes the old object (kubectl apply --prune, Argo CD, Flux) deletes its pods at once, not when the new one's are ready; a renamed claim gets an empty volume; a renamed Service loses its clients' DNS name.",
		Remediation: "Keep the old name, or roll the rename out in two steps: add the new object, then remove the old one once the new one serves.",
	})
	_ = register(&Rule{
		ID: "crd-version-removed", Theme: ThemeUpdates, Severity: Warning, Source: SourceUpdate,
		Description: "With --base, a CustomResourceDefinition no longer lists a version it had at the base revision, and an object of the run still uses that version.",
		Rationale:   "The API server stops serving the version: applying the objects that use it fails, and clients that read it break. (Removing a version still in status.storedVersions is rejected outright: immutable-field or schema.)",
		Remediation: "Keep the version, with served: false once nothing uses it, until every object and client has moved to the new one.",
	})
	_ = register(&Rule{
		ID: "service-port-removed", Theme: ThemeUpdates, Severity: Warning, Source: SourceUpdate,
		Description: "With --base, a Service no longer has a port (by number or name) it had at the base revision, and an Ingress of the run still sends traffic to it.",
		Rationale:   "Once applied, the Ingress route has no endpoint and answers 503 until it is changed too.",
		Remediation: "Change the Ingress backend in the same change, or keep the port until the Ingress has moved.",
	})
	_ = register(&Rule{
		ID: "admission-policy", Theme: ThemePolicies, Severity: Error, Source: SourceAdmission,
		Description: "A ValidatingAdmissionPolicy of the run (or of --admission-policies) denies the object through a binding (error), warns about it (warning) or audits it (info), judged offline with the API server's own matching and CEL evaluation; or a policy's expression does not compile.",
		Rationale:   "The cluster enforces its admission policies on every apply: what a Deny binding refuses fails there, after review, unless CI judges it the same way first.",
		Remediation: "Change the object as the policy's message asks, or, for a policy of your own, fix the policy or its binding's match (named in the message, with their file and line).",
	})
	ruleRemovedAPI = register(&Rule{
		ID: "removed-api", Theme: ThemeSchema, Severity: Error, Source: SourceSchema,
		Description: "The apiVersion of this kind is removed in the target Kubernetes version (--kube-version).",
		Rationale:   "The API server no longer serves it: apply fails with \"no matches for kind\".",
		Remediation: "Move to the replacement apiVersion named in the message; see the upstream Deprecated API Migration Guide for field changes.",
	})
	ruleUnreleasedAPI = register(&Rule{
		ID: "unreleased-api", Theme: ThemeSchema, Severity: Error, Source: SourceSchema,
		Description: "The apiVersion of this kind is not served by the target Kubernetes version (--kube-version): it is newer than that version, or it is an alpha API, or a beta API introduced from 1.24 on, which the API server serves only when --runtime-config turns it on.",
		Rationale:   "The API server rejects it (\"no matches for kind\"), as it rejects a removed one: a manifest written for a newer cluster, or for one with a beta API turned on, fails on the cluster it is meant for.",
		Remediation: "Use an apiVersion the target version serves by default (the message names them), raise --kube-version if the cluster is newer, or suppress the finding for a cluster that turns the API on.",
	})
	ruleDeprecatedAPI = register(&Rule{
		ID: "deprecated-api", Theme: ThemeSchema, Severity: Warning, Source: SourceSchema,
		Description: "The apiVersion of this kind is deprecated in the target Kubernetes version and will be removed.",
		Rationale:   "Manifests that use it break on the upgrade that removes it.",
		Remediation: "Move to the replacement apiVersion named in the message before upgrading.",
	})
	ruleUnknownKind = register(&Rule{
		ID: "unknown-kind", Theme: ThemeSchema, Severity: Info, Source: SourceSchema,
		Description: "The kind is not built into Kubernetes (a custom resource), and no CustomResourceDefinition among the inputs or in --crd defines it; its schema is not checked, but the rules that apply still run.",
		Rationale:   "klint works offline: it knows a custom resource's schema only from its CRD, which the API server validates it against.",
		Remediation: "Give klint the CRD: lint it with the custom resources, or point --crd (config key crds) at a file or directory of CRDs, such as a vendored catalog. Or disable this rule if the note is noise.",
	})
	ruleInvalidSuppression = register(&Rule{
		ID: "invalid-suppression", Theme: ThemeInput, Severity: Warning, Source: SourceInput,
		Description: "An ignore.klint.dev/<rule> annotation without a reason, or naming a rule that does not exist.",
		Rationale:   "Suppressions are decisions someone has to revisit; without a reason nobody can.",
		Remediation: "Write why the finding does not apply as the annotation's value.",
	})
)

func ProblemRule(k manifest.ProblemKind) *Rule {
	switch k {
	case manifest.EmptyDocument:
		return ruleEmptyDocument
	case manifest.NotAnObject, manifest.NotKubernetes:
		return ruleSchema
	case manifest.RenderFailed:
		return ruleRender
	case manifest.Unreadable:
		return ruleUnreadable
	case manifest.NotRegular:
		return ruleSkippedFile
	case manifest.DeprecatedField:
		return ruleKustomizeDeprecated
	}
	return ruleYAMLSyntax
}

// Baseline rules: problems with the baseline file's entries.
var (
	_ = register(&Rule{
		ID: "baseline-expired", Theme: ThemeInput, Severity: Warning, Source: SourceInput,
		Description: "A baseline entry whose expires date has passed: it no longer hides its finding.",
		Rationale:   "A baseline is a debt with a due date; the finding it hid is reported again beside this note.",
		Remediation: "Fix the finding, or give the entry a new expires date and a reason.",
	})
	_ = register(&Rule{
		ID: "baseline-unused", Theme: ThemeInput, Severity: Info, Source: SourceInput,
		Description: "A baseline entry that matches no finding any more (fixed, or its file or object renamed).",
		Rationale:   "Entries that match nothing only make the baseline longer; a renamed file or object makes its findings new.",
		Remediation: "Remove the entry (klint --write-baseline rewrites the file without it).",
	})
)
