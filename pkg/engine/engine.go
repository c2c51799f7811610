// Package engine is klint's one rule engine: it runs the catalogue of
// pkg/rules, the Rego policies, and the schema and input checks on a run,
// streaming its inputs, building the indexes the rules that read the run
// declare, settling what waits for them, and applying configuration,
// suppressions and the baseline, all producing the same rules.Finding. The
// CLI and the admission webhook both call Engine.Run, so they cannot
// disagree.
package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/rules"
	"github.com/klint-dev/klint/pkg/schema"
	"github.com/klint-dev/klint/pkg/workload"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	k8sschema "k8s.io/apimachinery/pkg/runtime/schema"
)

// SuppressAnnotationPrefix starts the suppression annotation, on an
// object or on its pod template: ignore.klint.dev/<rule-id>: "<reason>"
// for the whole object, ignore.klint.dev/<rule-id>.<container>: "<reason>"
// for one container's findings.
const SuppressAnnotationPrefix = "ignore.klint.dev/"

// Options configure an Engine.
type Options struct {
	// Config is the parsed .klint.yaml, or nil.
	Config *Config
	// KubeVersion overrides Config.KubeVersion.
	KubeVersion string
	// PolicyDirs are extra Rego directories, after Config.Policies.
	PolicyDirs []string
	// Enable and Disable turn rules on and off by ID, over the config.
	Enable, Disable []string
	// ObserveRule, when set, is told how long each rule took on each
	// object: Go rules by ID, the schema stage as "schema", and all Rego
	// policies together as "rego" (they are evaluated by one query).
	ObserveRule func(rule string, d time.Duration)
	// SingleObject is for admission, where each run holds one object:
	// cross-object rules, which would judge it against an empty world, do
	// not run.
	SingleObject bool
	// MaxFindingsPerRule, when positive, keeps at most that many findings
	// of each rule on each object and counts the rest in Result.Omitted:
	// admission names a few findings, and an object with 40,000
	// containers must not cost 120,000 kept findings in memory.
	MaxFindingsPerRule int
	// APIValidator, when set, validates built-in objects with the API
	// server's own code instead of the schema stage's subset (the CLI
	// sets it; the webhook does not link it).
	APIValidator schema.APIValidator
	// CRDs, when set, validates CustomResourceDefinitions and the
	// custom resources of the CRDs it holds and of those found in the
	// run (the CLI sets it; the webhook does not link it).
	CRDs schema.CRDs
	// TypeCheckCEL, when set, type-checks a CELRule's policy against the
	// matched kinds' OpenAPI schemas at load (the CLI sets it; the
	// webhook does not link the schemas): each "field: problem".
	TypeCheckCEL func(*admissionregistrationv1.ValidatingAdmissionPolicy) []string
	// Base, when set, is the previous version of the run's objects
	// (klint --base): a changed object is validated as the API server
	// validates its update.
	Base schema.Base
}

// Engine checks objects. It is built once and is safe for concurrent use.
type Engine struct {
	maxPerRule int
	schema     *schema.Checker
	rules      map[string]*rules.Rule
	enabled    map[string]bool
	// workloadKinds are the custom resource kinds that carry a pod
	// template: built in, and from config.
	workloadKinds map[k8sschema.GroupKind]workload.Kind
	// unsuppressible rules ignore suppressions (rules.<id>.suppressible:
	// false).
	unsuppressible map[string]bool
	severity       map[string]rules.Severity
	params         map[string]rules.Params
	exemptions     []Exemption
	rego           *regoSet
	// localRules are the enabled rules with a Check that judge an
	// object alone; worldRules read the run's index too (CrossObject or
	// ReadsRun). Both in ID order.
	localRules, worldRules []*rules.Rule
	// worldKinds are the kinds worldRules look at; nil when one of them
	// looks at every kind.
	worldKinds map[string]bool
	// indexes are the indexes worldRules read, each once; indexKinds the
	// kinds whose typed form they need.
	indexes    []*rules.IndexSpec
	indexKinds map[string]bool
	observe    func(rule string, d time.Duration)
	// base is the run's previous version, in a run with one
	// (RunInputs makes the run's copy of the engine).
	base Base
	// policies are the run's admission policies, in a run with some.
	policies Policies
	// strings are the run's (RunInputs): nil outside a run.
	strings *interner
}

// New builds an engine: the built-in rules, the shipped policies and any
// policy directories, with config applied. Unknown rule IDs in the config
// or flags are errors.
func New(ctx context.Context, opts Options) (*Engine, error) {
	cfg := opts.Config
	if cfg == nil {
		cfg = &Config{}
	}
	kv := cfg.KubeVersion
	if opts.KubeVersion != "" {
		kv = opts.KubeVersion
	}
	// The API types' scheme and the policies are built side by side:
	// together they are most of a run's start-up.
	var sc *schema.Checker
	var scErr error
	built := make(chan struct{})
	go func() {
		defer close(built)
		sc, scErr = schema.New(kv)
	}()
	rs, err := loadRego(ctx, append(append([]string{}, cfg.Policies...), opts.PolicyDirs...))
	<-built
	if scErr != nil {
		return nil, scErr
	}
	if opts.APIValidator != nil {
		sc.WithAPIValidator(opts.APIValidator)
	}
	if opts.CRDs != nil {
		sc.WithCRDs(opts.CRDs)
	}
	if opts.Base != nil {
		sc.WithBase(opts.Base)
	}
	if err != nil {
		return nil, err
	}
	e := &Engine{schema: sc, observe: opts.ObserveRule, maxPerRule: opts.MaxFindingsPerRule, rules: map[string]*rules.Rule{}, enabled: map[string]bool{},
		severity: map[string]rules.Severity{}, params: map[string]rules.Params{}, exemptions: cfg.Exemptions, rego: rs}
	for _, r := range rules.Builtin() {
		e.rules[r.ID] = r
	}
	e.workloadKinds = map[k8sschema.GroupKind]workload.Kind{}
	for _, k := range append(slices.Clone(workload.CustomKinds), cfg.Workloads...) {
		e.workloadKinds[k8sschema.GroupKind{Group: k.Group, Kind: k.Kind}] = k
	}
	for _, r := range rs.rules {
		if _, dup := e.rules[r.ID]; dup {
			return nil, fmt.Errorf("policy %s: rule ID %q is already taken by another rule", r.Source, r.ID)
		}
		e.rules[r.ID] = r
	}
	celRules, err := loadCELRules(append(append([]string{}, cfg.Policies...), opts.PolicyDirs...), opts.TypeCheckCEL)
	if err != nil {
		return nil, err
	}
	for _, r := range celRules {
		if _, dup := e.rules[r.ID]; dup {
			return nil, fmt.Errorf("CELRule %s (%s): rule ID %q is already taken by another rule", r.ID, strings.TrimSuffix(strings.TrimPrefix(r.Rationale, "A CELRule of "), "."), r.ID)
		}
		e.rules[r.ID] = r
	}
	for id, r := range e.rules {
		e.enabled[id] = !r.Off
		e.severity[id] = r.Severity
		p := rules.Params{}
		maps.Copy(p, r.Params)
		e.params[id] = p
	}
	for id, rc := range cfg.Rules {
		if _, ok := e.rules[id]; !ok {
			return nil, fmt.Errorf("config: rules.%s: no such rule (see klint rules)", id)
		}
		if rc.Enabled != nil {
			e.enabled[id] = *rc.Enabled
		}
		if rc.Severity != "" {
			e.severity[id], _ = rules.ParseSeverity(rc.Severity)
		}
		if err := rules.CheckParams(id, e.rules[id].Params, rc.Params); err != nil {
			return nil, err
		}
		maps.Copy(e.params[id], rc.Params)
		if rc.Suppressible != nil && !*rc.Suppressible {
			if e.unsuppressible == nil {
				e.unsuppressible = map[string]bool{}
			}
			e.unsuppressible[id] = true
		}
		// Configuring a rule's parameters is asking for it: a rule that is
		// off until configured (allowed-registries) turns on.
		if rc.Enabled == nil && len(rc.Params) > 0 {
			e.enabled[id] = true
		}
	}
	for i, ex := range cfg.Exemptions {
		for _, id := range ex.Rules {
			if e.unsuppressible[id] {
				return nil, fmt.Errorf("config: exemptions[%d] exempts from %s, which rules.%s.suppressible: false makes unsuppressible", i, id, id)
			}
		}
	}
	// A rule's version parameter, unset, is the target Kubernetes
	// version (the Pod Security Standards' policy version).
	for id, p := range e.params {
		if v, ok := p["version"]; ok && v == "" {
			e.params[id]["version"] = sc.Target().String()
		}
	}
	for _, list := range []struct {
		ids []string
		on  bool
	}{{opts.Enable, true}, {opts.Disable, false}} {
		for _, id := range list.ids {
			if _, ok := e.rules[id]; !ok {
				return nil, fmt.Errorf("no such rule %q (see klint rules)", id)
			}
			e.enabled[id] = list.on
		}
	}
	// A rule that is off until configured, turned on without the list
	// it needs (allowed-registries without registries), would flag
	// everything: say what is missing, once.
	for id, r := range e.rules {
		if !r.Off || !e.enabled[id] {
			continue
		}
		for name, def := range r.Params {
			if l, isList := def.([]any); isList && len(l) == 0 {
				if v, _ := e.params[id][name].([]any); len(v) == 0 {
					return nil, fmt.Errorf("rule %s is enabled but its parameter %s is empty: set rules.%s.params.%s in .klint.yaml", id, name, id, name)
				}
			}
		}
	}
	if err := rs.prepare(ctx, e.enabled, e.params); err != nil {
		return nil, err
	}
	if opts.SingleObject {
		for id, r := range e.rules {
			if r.CrossObject {
				e.enabled[id] = false
			}
		}
	}
	e.worldKinds = map[string]bool{}
	for _, r := range e.Rules() {
		if r.Check == nil || !e.enabled[r.ID] {
			continue
		}
		if (r.CrossObject || r.ReadsRun) && !r.Holds {
			e.worldRules = append(e.worldRules, r)
			if len(r.Kinds) == 0 {
				e.worldKinds = nil
			}
			for _, k := range r.Kinds {
				if e.worldKinds != nil {
					e.worldKinds[k] = true
				}
			}
		} else {
			e.localRules = append(e.localRules, r)
		}
		// The indexes of the rules that read the run or settle their
		// findings with it, each built once.
		for _, ix := range r.Indexes {
			if slices.Contains(e.indexes, ix) {
				continue
			}
			e.indexes = append(e.indexes, ix)
			for _, k := range ix.Kinds {
				if e.indexKinds == nil {
					e.indexKinds = map[string]bool{}
				}
				e.indexKinds[k] = true
			}
		}
	}
	return e, nil
}

// Rules lists every rule the engine knows, sorted by ID.
func (e *Engine) Rules() []*rules.Rule {
	out := make([]*rules.Rule, 0, len(e.rules))
	for _, r := range e.rules {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// worldKind reports whether the rules reading the run look at kind.
func (e *Engine) worldKind(kind string) bool {
	return len(e.worldRules) > 0 && (e.worldKinds == nil || e.worldKinds[kind])
}

// Rule is the engine's rule of that ID, or nil.
func (e *Engine) Rule(id string) *rules.Rule { return e.rules[id] }

// Known reports whether the engine has a rule of that ID.
func (e *Engine) Known(id string) bool { _, ok := e.rules[id]; return ok }

// Enabled reports whether a rule runs.
func (e *Engine) Enabled(id string) bool { return e.enabled[id] }

// Params are rule id's parameters for the run: its defaults with the
// config's on top.
func (e *Engine) Params(id string) rules.Params { return e.params[id] }

// Severity is a rule's severity in this engine's configuration.
func (e *Engine) Severity(id string) rules.Severity { return e.severity[id] }

// KubeVersion is the target Kubernetes version.
func (e *Engine) KubeVersion() string { return e.schema.Target().String() }

// panicOnUnregistered makes a finding of an unregistered rule a panic
// (set by the engine's tests).
var panicOnUnregistered = false

// add applies enablement, severity and suppressions (from the object's
// annotations ann and the config) to raw findings and counts them.
func (res *Result) add(e *Engine, raw []rules.Finding, ann map[string]string) {
	for _, f := range raw {
		if _, known := e.rules[f.Rule]; !known {
			// A finding of a rule the engine does not know is a bug in
			// klint: it is reported as an error rather than dropped (and
			// the engine's tests make it a panic).
			if panicOnUnregistered {
				panic(fmt.Sprintf("finding of unregistered rule %q: %s", f.Rule, f.Message))
			}
			f.Severity, f.Message = rules.Error, "internal error: finding of unregistered rule "+f.Rule+"; please report it: "+f.Message
			res.Findings = append(res.Findings, f)
			res.Summary.Errors++
			continue
		}
		if !e.enabled[f.Rule] {
			continue
		}
		f.Severity = e.severity[f.Rule]
		if f.Warn && f.Severity > rules.Warning {
			f.Severity = rules.Warning
		}
		if f.Settled != nil {
			f.Severity, f.Settled = *f.Settled, nil
		}
		if s := e.suppression(ann, f); s != nil {
			f.Suppressed = s
			res.SuppressedFindings = append(res.SuppressedFindings, f)
			res.Summary.Suppressed++
			continue
		}
		res.Findings = append(res.Findings, f)
		switch f.Severity {
		case rules.Error:
			res.Summary.Errors++
		case rules.Warning:
			res.Summary.Warnings++
		default:
			res.Summary.Infos++
		}
	}
}

// safeCheck runs one rule on one object; a panicking rule becomes a
// finding instead of taking the run (or the webhook) down.
func safeCheck(r *rules.Rule, o *rules.Object, run *rules.Run, p rules.Params) (reps []rules.Report) {
	defer func() {
		if v := recover(); v != nil {
			reps = []rules.Report{{Message: fmt.Sprintf("internal error: rule %s failed on this object (%v); please report it", r.ID, v)}}
		}
	}()
	return r.Check(o, run, p)
}

func (e *Engine) observed(rule string, since time.Time) {
	if e.observe != nil {
		e.observe(rule, time.Since(since))
	}
}

// safeSchemaCheck turns a panic in the schema stage into a finding, as
// safeCheck does for rules.
func safeSchemaCheck(c *schema.Checker, o *manifest.Object) (r schema.Result) {
	defer func() {
		if v := recover(); v != nil {
			r = schema.Result{Issues: []schema.Issue{{Rule: schema.RuleSchema, Message: fmt.Sprintf("internal error: the schema check failed on this object (%v); please report it", v)}}}
		}
	}()
	return c.Check(o)
}

// safeCustomCheck is safeSchemaCheck for a custom resource, checked
// against the run's CRDs.
func safeCustomCheck(c *schema.Checker, crs schema.CustomResources, o *manifest.Object) (issues []schema.Issue) {
	defer func() {
		if v := recover(); v != nil {
			issues = []schema.Issue{{Rule: schema.RuleSchema, Message: fmt.Sprintf("internal error: the schema check failed on this object (%v); please report it", v)}}
		}
	}()
	return c.CheckCustomResource(crs, o)
}

func (e *Engine) finding(o *rules.Object, rule string, rep rules.Report) rules.Finding {
	loc, rel := o.Locate(rep.Path)
	f := rules.Finding{
		Rule: rule, Message: e.strings.of(rep.Message), File: loc.File, Line: loc.Line, Column: loc.Column,
		Path: e.strings.of(rep.Path), Object: o.Ref(), Container: e.strings.of(rep.Container), Fix: rep.Fix, Warn: rep.Warn,
		Approximate: loc.Approximate, Settle: rep.Settle,
		Origin: rules.Origin{File: o.File, Doc: o.Doc, Item: o.Item, Rendered: o.Mapper != nil},
	}
	for _, r := range rel {
		f.Related = append(f.Related, relatedLocation(r))
	}
	if o.Render != "" {
		f.Renders = []string{o.Render}
	}
	f.Template = o.Template
	return f
}

// interner hands out one copy of each string a run's findings hold: a
// large run's findings repeat their messages, paths and container names
// (the same check failing on the same field of containers of the same
// name), and are held to the end of the run. (unique.Make forgets a
// string once its Handle is collected, even while the string is held:
// it would copy the same message again after every collection.)
type interner struct {
	mu sync.Mutex
	m  map[string]string
}

// of returns the run's copy of s; s itself outside a run (nil).
func (t *interner) of(s string) string {
	if t == nil || s == "" {
		return s
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if c, ok := t.m[s]; ok {
		return c
	}
	c := strings.Clone(s) // s may share a larger buffer
	t.m[c] = c
	return c
}

func relatedLocation(r manifest.Related) rules.RelatedLocation {
	return rules.RelatedLocation{File: r.File, Line: r.Line, Column: r.Column, Message: r.Message}
}

func (e *Engine) suppression(ann map[string]string, f rules.Finding) *rules.Suppression {
	if f.Object.Kind == "" || e.unsuppressible[f.Rule] {
		return nil // input problems belong to no object
	}
	if reason, ok := ann[SuppressAnnotationPrefix+f.Rule]; ok && strings.TrimSpace(reason) != "" {
		return &rules.Suppression{By: "annotation", Reason: reason}
	}
	if f.Container != "" {
		if reason, ok := ann[SuppressAnnotationPrefix+f.Rule+"."+f.Container]; ok && strings.TrimSpace(reason) != "" {
			return &rules.Suppression{By: "annotation", Reason: reason}
		}
	}
	for _, ex := range e.exemptions {
		if ex.matches(f.Object, f.Rule) {
			return &rules.Suppression{By: "config", Reason: ex.Reason}
		}
	}
	return nil
}

// suppressionAnnotations are the annotations that suppress an object's
// findings: its own, and its pod template's (where a workload's authors
// often write them); the object's win.
func suppressionAnnotations(o *rules.Object) map[string]string {
	ann := o.Annotations()
	if w := o.Workload; w != nil && !w.Pod {
		for k, v := range w.Annotations {
			if _, own := ann[k]; !own && strings.HasPrefix(k, SuppressAnnotationPrefix) {
				ann[k] = v
			}
		}
	}
	return ann
}

// suppressionProblems reports suppression annotations that cannot work:
// no reason, a rule or container that does not exist, a rule config makes
// unsuppressible.
func (e *Engine) suppressionProblems(o *rules.Object) []rules.Finding {
	var out []rules.Finding
	check := func(ann map[string]string, at string) {
		for _, k := range slices.Sorted(maps.Keys(ann)) {
			name, ok := strings.CutPrefix(k, SuppressAnnotationPrefix)
			if !ok {
				continue
			}
			id, container := name, ""
			if e.rules[id] == nil {
				if i := strings.LastIndexByte(name, '.'); i > 0 {
					id, container = name[:i], name[i+1:]
				}
			}
			p := at + "[" + k + "]"
			problem := ""
			switch {
			case e.rules[id] == nil:
				problem = fmt.Sprintf("%s names no rule %q (see klint rules)", k, name)
			case container != "" && !hasContainer(o, container):
				problem = fmt.Sprintf("%s names no container of this object (%q)", k, container)
			case strings.TrimSpace(ann[k]) == "":
				problem = fmt.Sprintf("%s has no reason, so it does not suppress anything; write why the rule does not apply", k)
			case e.unsuppressible[id]:
				problem = fmt.Sprintf("%s does not suppress anything: the configuration makes %s unsuppressible (rules.%s.suppressible: false)", k, id, id)
			}
			if problem != "" {
				out = append(out, e.finding(o, "invalid-suppression", rules.Report{Path: p, Message: problem}))
			}
		}
	}
	check(o.Annotations(), "metadata.annotations")
	if w := o.Workload; w != nil && !w.Pod {
		check(w.Annotations, strings.TrimSuffix(w.LabelsPath, "labels")+"annotations")
	}
	return out
}

func hasContainer(o *rules.Object, name string) bool {
	if o.Workload == nil {
		return false
	}
	for _, c := range o.Workload.Containers() {
		if c.C.Name == name {
			return true
		}
	}
	return false
}

func sortFindings(fs []rules.Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		if a.Rule != b.Rule {
			return a.Rule < b.Rule
		}
		return a.Message < b.Message
	})
}

// mergeRenders reports once a finding that several renders produce at the
// same source position (a base shared by overlays, a template line that
// every values set renders alike), naming all of them. Findings of plain
// files pass through. When sum is given, the merged duplicates are taken
// off its counts.
func mergeRenders(fs []rules.Finding, sum *Summary) []rules.Finding {
	// The object is not part of the key: overlays rename and move what
	// their base declares (prod-api in prod, api in dev), and the finding
	// is about the base's line. The first render's object is named.
	type key struct {
		rule, file, path, container, msg, kind string
		line, col                              int
	}
	first := map[key]int{}
	out := fs[:0]
	for _, f := range fs {
		if len(f.Renders) == 0 {
			out = append(out, f)
			continue
		}
		k := key{f.Rule, f.File, f.Path, f.Container, f.Message, f.Object.Kind, f.Line, f.Column}
		if i, ok := first[k]; ok {
			if !slices.Contains(out[i].Renders, f.Renders[0]) {
				out[i].Renders = append(out[i].Renders, f.Renders...)
			}
			if sum != nil {
				switch f.Severity {
				case rules.Error:
					sum.Errors--
				case rules.Warning:
					sum.Warnings--
				default:
					sum.Infos--
				}
			}
			continue
		}
		first[k] = len(out)
		out = append(out, f)
	}
	for i := range out {
		sort.Strings(out[i].Renders)
	}
	return out
}

// object is a loaded object with what the schema stage learned of it; a
// custom resource of a workload kind gets its pod view from its source.
func (e *Engine) object(mo *manifest.Object, sr schema.Result, key rules.ObjectKey) *rules.Object {
	o := &rules.Object{Object: mo, Typed: sr.Typed, Workload: sr.Workload, Key: key}
	if o.Workload == nil && o.Typed == nil && len(e.workloadKinds) > 0 {
		gk := k8sschema.FromAPIVersionAndKind(mo.APIVersion, mo.Kind).GroupKind()
		if k, ok := e.workloadKinds[gk]; ok {
			if w, ok := workload.OfCustom(mo.Value, k); ok {
				o.Workload = &w
			}
		}
	}
	return o
}
