package engine

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/parallel"
	"github.com/klint-dev/klint/pkg/rules"
	"github.com/klint-dev/klint/pkg/schema"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	k8sschema "k8s.io/apimachinery/pkg/runtime/schema"
)

// Inputs are what RunInputs reads.
type Inputs struct {
	Inputs []inputs.Input
	// Stdin is read for the input "-".
	Stdin io.Reader
	// Render renders chart and kustomization inputs.
	Render inputs.RenderFunc
	// Progress, when set, is told after each input how many inputs of
	// how many are done and how many objects were checked so far. It is
	// called by one goroutine at a time.
	Progress func(done, total, objects int)
	// Policies, when set, are a cluster's admission policies, which judge
	// every reported object (admission-policy findings).
	Policies Policies
	// Base, when set, is the previous version of the run's changed
	// inputs (klint --base): a changed object is validated as the update
	// of its previous version, and Base's Late findings join the run's
	// at its end.
	Base Base
}

// Policies are admission policies (pkg/admissionpolicy).
type Policies interface {
	// Judge is what the policies say of o (typed, when its kind is built
	// in, as the schema stage decoded it), as created, or as the update
	// of old (its previous version's JSON) when old is not nil.
	Judge(ctx context.Context, o *manifest.Object, typed k8sruntime.Object, old []byte) []PolicyVerdict
	// Match reports whether a policy may match objects of the kind.
	Match(apiVersion, kind string) bool
}

// PolicyVerdict is one thing a policy says of an object.
type PolicyVerdict struct {
	Severity rules.Severity
	Message  string
	// Path is the field the verdict is about, or "" for the object.
	Path string
}

// Base is the previous version of a run (pkg/update).
type Base interface {
	schema.Base
	// Saw is told of every object of the run (the context's too).
	Saw(o *manifest.Object)
	// Late are the findings the base makes once every object of the run
	// is checked, each with its object's annotations (for suppressions).
	Late() ([]rules.Finding, []map[string]string)
}

// RunInputs reads the inputs and checks them as it goes, on all cores:
// each input (a file, or one chart or kustomization with everything it
// renders) is read, checked and released before the worker takes the
// next, and only findings and a compact index for the rules that read
// the run (pods' labels and ports, the plain files' Services) are kept
// until the end. Memory grows with the largest input and the index, not
// with the whole input. Findings come back sorted by file, line, column
// and rule, whatever the order the inputs were read in.
//
// Context inputs (Input.Context) are read for the index only: nothing is
// reported about them, and they are not counted in the summary. They
// take their place before the other inputs: a cross-object rule reports
// a conflict on the later of two objects, which is then the one reported
// on (a pre-commit hook's changed file, not the directory around it).
func (e *Engine) RunInputs(ctx context.Context, in Inputs) *Result {
	// The run's own view of the engine: with the strings its findings
	// share, and, in a run with a base or policies, whose schema stage
	// knows the base, and which knows the run's policies.
	run := *e
	run.strings = &interner{m: map[string]string{}}
	if in.Base != nil {
		sc := *e.schema
		run.schema, run.base = sc.WithBase(in.Base), in.Base
	}
	run.policies = in.Policies
	e = &run
	in.Inputs = slices.Clone(in.Inputs)
	slices.SortStableFunc(in.Inputs, func(a, b inputs.Input) int {
		return cmp.Compare(contextFirst(b), contextFirst(a))
	})
	order, sizes := inputs.DispatchOrder(in.Inputs)
	units := make([]*unitResult, len(in.Inputs))
	merged := newWorlds(units)
	var mu sync.Mutex
	done, objects := 0, 0
	sched := newScheduler(order, sizes, MaxInputBytesInFlight)
	sched.run(func(i int) {
		input := in.Inputs[i]
		l := inputs.Read(input, in.Stdin, in.Render)
		u := e.checkUnit(ctx, i, input.Render, l.Objects, l.Problems, !input.Context, true)
		if !input.Context {
			switch {
			case l.Skipped:
				u.res.Summary.Skipped++
			case input.Problem != nil: // reported, not read
			case input.Render != "": // its kustomization is counted once, below
			case input.Kind == inputs.ChartInput:
				u.res.Summary.Charts++
			case input.Kind == inputs.KustomizationInput:
				u.res.Summary.Kustomizations++
			default:
				u.res.Summary.Files++
			}
		}
		merged.done(i, u)
		if in.Progress != nil {
			mu.Lock()
			done++
			objects += len(l.Objects)
			in.Progress(done, len(in.Inputs), objects)
			mu.Unlock()
		}
	})
	res := e.finish(ctx, units, merged)
	if in.Base != nil {
		late := &Result{}
		fs, anns := in.Base.Late()
		for i := range fs {
			late.add(e, fs[i:i+1], anns[i])
		}
		res.merge(late)
		sortFindings(res.Findings)
		sortFindings(res.SuppressedFindings)
	}
	lists := map[string]bool{}
	for _, input := range in.Inputs {
		if input.Render != "" && !input.Context {
			lists[input.Render] = true
		}
	}
	res.Summary.Kustomizations += len(lists)
	return res
}

// MaxInputBytesInFlight bounds how many bytes of input RunInputs checks
// at once: an input is started only when it fits beside those being
// checked, or when none is (an input larger than the bound is checked
// alone). Checking costs about ten times an input's size in memory while
// it is under way, so two very large inputs side by side would be most of
// a run's peak; a worker that cannot start the next input takes the first
// later one that fits instead of waiting. A render's size is its
// directory's, a rough measure, so the bound is set well above a typical
// chart's few MB: a lower one checks charts one at a time, slower, for
// no memory saved (docs/performance.md has the measurements).
const MaxInputBytesInFlight = 32 << 20

// scheduler hands inputs to the workers in dispatch order, keeping the
// bytes in flight under a bound.
type scheduler struct {
	mu       sync.Mutex
	cond     *sync.Cond
	order    []int
	sizes    []int64
	taken    []bool
	head     int // order[:head] are all taken
	inFlight int64
	bound    int64
}

func newScheduler(order []int, sizes []int64, bound int64) *scheduler {
	s := &scheduler{order: order, sizes: sizes, taken: make([]bool, len(order)), bound: bound}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// next takes the first input, in dispatch order, that fits; it waits
// while none does. ok is false when every input is taken.
func (s *scheduler) next() (i int, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		for s.head < len(s.order) && s.taken[s.head] {
			s.head++
		}
		if s.head == len(s.order) {
			return 0, false
		}
		for j := s.head; j < len(s.order); j++ {
			if i := s.order[j]; !s.taken[j] && (s.inFlight == 0 || s.inFlight+s.sizes[i] <= s.bound) {
				s.taken[j] = true
				s.inFlight += s.sizes[i]
				return i, true
			}
		}
		s.cond.Wait()
	}
}

func (s *scheduler) release(i int) {
	s.mu.Lock()
	s.inFlight -= s.sizes[i]
	s.cond.Broadcast()
	s.mu.Unlock()
}

// run calls f on every input, on all cores. A panic in f is re-raised in
// the caller's goroutine, as parallel.Do does.
func (s *scheduler) run(f func(i int)) {
	parallel.Do(runtime.GOMAXPROCS(0), func(int) {
		for {
			i, ok := s.next()
			if !ok {
				return
			}
			func() {
				defer s.release(i)
				f(i)
			}()
		}
	})
}

func contextFirst(in inputs.Input) int {
	if in.Context {
		return 1
	}
	return 0
}

// RunObjects checks objects already read, with the problems reading them
// found, as the objects of one file (an admission request's object).
func (e *Engine) RunObjects(ctx context.Context, objs []*manifest.Object, probs []manifest.Problem) *Result {
	units := []*unitResult{e.checkUnit(ctx, 0, "", objs, probs, true, false)}
	res := e.finish(ctx, units, newWorlds(units))
	res.Summary.Files = 1
	return res
}

// unitResult is what checking one input found, and what it leaves for
// the end of the run: its plain objects' entries in the run's index and
// the objects that rules reading the plain files' run still have to
// judge.
type unitResult struct {
	res Result
	// world is the run the unit's index and deferred objects belong to:
	// "" for plain files, the kustomization for a file it only lists.
	world string
	// index is what the unit's plain objects add to their world's run.
	index    *rules.Run
	deferred []deferredObject
	// ids are the build identities of a listed file's objects: a
	// kustomization listing two objects with one identity does not build.
	ids []listedID
	// held are the findings of rules that settle them with the run
	// (Rule.Settle), of the unit's plain objects: their world's indexes
	// are complete at the end of the run.
	held []heldFinding
	// crds are the unit's CustomResourceDefinitions, and custom the
	// custom resources whose schema is checked at the end of the run,
	// against every CRD of the run (Options.CRDs).
	crds   []schema.Definition
	custom []pendingCustom
}

// pendingCustom is a custom resource whose schema is checked at the end
// of the run. Most have no CRD anywhere: their unknown-kind result is
// made while the object is at hand (provisional), and only those whose
// kind a CRD turns out to define are read again.
type pendingCustom struct {
	deferredObject
	gk          k8sschema.GroupKind
	provisional *Result
}

type listedID struct {
	id, file string
	pos      manifest.Position
	context  bool
}

// deferredObject is an object kept for the end of the run: itself, or
// (a plain file's, in a streamed run) its source, read again then.
type deferredObject struct {
	o      *rules.Object
	src    *manifest.Detached
	key    rules.ObjectKey
	report bool
}

// checkUnit checks the objects of one input (the unit-th of the run):
// the schema stage and every rule, except the rules reading the run on
// objects of plain files, whose run is complete only at the end. A
// render's objects are their own world, complete here, so every rule
// judges them now, except those of a kustomization read as the files it
// lists (world names it), whose world is complete at the end, as the
// plain files' is. With detach, the objects kept for the end are kept as
// their source.
func (e *Engine) checkUnit(ctx context.Context, unit int, world string, mos []*manifest.Object, probs []manifest.Problem, report, detach bool) *unitResult {
	u := &unitResult{world: world, index: rules.NewRun(e.indexes)}
	if report {
		var raw []rules.Finding
		for _, p := range probs {
			r := rules.ProblemRule(p.Kind)
			f := rules.Finding{Rule: r.ID, Message: p.Message, File: p.File, Line: p.Pos.Line, Column: p.Pos.Column}
			if p.Render != "" {
				f.Renders = []string{p.Render}
			}
			raw = append(raw, f)
		}
		u.res.add(e, raw, nil)
	}
	objs := make([]*rules.Object, len(mos))
	caps := make([]*capper, len(mos))
	found := make([][]rules.Finding, len(mos))
	custom := make([]bool, len(mos))
	defs := make([]*schema.Definition, len(mos))
	like := alike(mos)
	// One pass does what an object needs alone: the schema stage, the
	// local rules and the policies. Then its typed form (a CRD's is many
	// times its source) is let go unless the run's index or the rules
	// reading a render need it, so a unit never holds all of them.
	each(len(mos), func(i int) {
		if like[i] >= 0 {
			return // checked as its like is, below
		}
		mo := mos[i]
		caps[i] = e.newCapper()
		key := rules.ObjectKey{Unit: int32(unit), N: int32(i)}
		if ctx.Err() != nil {
			objs[i] = &rules.Object{Object: mo, Key: key}
			return
		}
		if e.base != nil {
			e.base.Saw(mo)
		}
		t0 := time.Now()
		sr := safeSchemaCheck(e.schema, mo)
		e.observed("schema", t0)
		o := e.object(mo, sr, key)
		objs[i] = o
		custom[i], defs[i] = sr.Custom, sr.Definition
		if report {
			for _, is := range sr.Issues {
				if is.CoveredBy != "" && e.enabled[is.CoveredBy] {
					continue // that rule says it, better, with a fix
				}
				if caps[i].keep(is.Rule) {
					f := e.finding(o, is.Rule, rules.Report{Path: is.Path, Message: is.Message})
					for _, p := range is.Related {
						f.Related = append(f.Related, rules.RelatedLocation{File: p.File, Line: p.Line, Column: p.Column, Message: p.Message})
					}
					found[i] = append(found[i], f)
				}
			}
			found[i] = e.checkRules(ctx, o, e.localRules, nil, caps[i], found[i])
			if ctx.Err() == nil {
				t0 := time.Now()
				for _, rr := range e.rego.eval(ctx, o) {
					if caps[i].keep(rr.rule) {
						found[i] = append(found[i], e.finding(o, rr.rule, rr.Report))
					}
				}
				e.observed("rego", t0)
				found[i] = append(found[i], e.suppressionProblems(o)...)
				found[i] = append(found[i], e.policyFindings(ctx, o, caps[i])...)
			}
		}
		if o.Workload == nil && !e.worldKind(o.Kind) && !e.indexKinds[o.Kind] {
			o.Typed = nil
		}
	})
	for i, j := range like {
		if j < 0 {
			continue
		}
		mo := mos[i]
		if e.base != nil {
			e.base.Saw(mo)
		}
		o := *objs[j]
		o.Object, o.Key = mo, rules.ObjectKey{Unit: int32(unit), N: int32(i)}
		objs[i] = &o
		caps[i], custom[i], defs[i] = caps[j].clone(), custom[j], defs[j]
		found[i] = make([]rules.Finding, len(found[j]))
		for k, f := range found[j] {
			if len(f.Renders) > 0 {
				f.Renders = []string{mo.Render}
			}
			if len(f.Related) > 0 {
				f.Related = relatedIn(objs[j].Object, mo, f)
			}
			found[i][k] = f
		}
	}
	u.checkOwnCustomResources(ctx, e, objs, defs, custom, caps, found, report)
	var renders map[string][]*rules.Object
	for i, o := range objs {
		if custom[i] && report {
			u.custom = append(u.custom, pendingCustom{deferredObject: deferredObject{o: o, key: o.Key, report: true},
				gk: k8sschema.FromAPIVersionAndKind(o.APIVersion, o.Kind).GroupKind(), provisional: e.customResult(ctx, nil, o)})
		}
		if world != "" {
			u.ids = append(u.ids, listedID{id: inputs.BuildIdentity(o.Object), file: o.File, pos: o.Start(), context: !report})
		}
		if o.Render != "" && o.Render != world {
			if renders == nil {
				renders = map[string][]*rules.Object{}
			}
			renders[o.Render] = append(renders[o.Render], o)
			continue
		}
		u.index.Add(o)
		if len(e.worldRules) > 0 && e.worldKind(o.Kind) {
			u.deferred = append(u.deferred, deferredObject{o: o, key: o.Key, report: report})
		}
	}
	if !report {
		u.deferred = nil // in the index; nothing to report about them
		u.tighten()
		return u
	}
	var runs map[string]*rules.Run
	if len(renders) > 0 && len(e.indexes)+len(e.worldRules) > 0 {
		runs = make(map[string]*rules.Run, len(renders))
		for k, os := range renders {
			runs[k] = rules.RunOf(os, e.indexes)
		}
	}
	if len(renders) > 0 && len(e.worldRules) > 0 {
		each(len(objs), func(i int) {
			if o := objs[i]; o.Render != "" && o.Render != world && e.worldKind(o.Kind) {
				found[i] = e.checkRules(ctx, o, e.worldRules, runs[o.Render], caps[i], found[i])
			}
		})
	}
	for i, o := range objs {
		if o.Render != "" && o.Render != world {
			found[i] = e.settle(o, found[i], runs[o.Render]) // the render's world is complete
		} else {
			found[i] = u.hold(e, o, found[i])
		}
		u.res.addObject(e, o, found[i], caps[i])
	}
	if detach {
		for i, d := range u.custom {
			if src := d.o.Detach(); src != nil {
				u.custom[i].o, u.custom[i].src = nil, src
			}
		}
		for i, d := range u.deferred {
			// A parsed object costs ten times its source: a plain
			// file's object is kept as its document's bytes, and read
			// and decoded again at the end of the run, when the rules
			// reading the run judge it.
			if src := d.o.Detach(); src != nil {
				u.deferred[i].o, u.deferred[i].src = nil, src
			}
		}
	}
	u.tighten()
	return u
}

// tighten moves what the unit keeps until the end of the run into
// arrays of their length: slices grown by appending have up to as much
// room again to spare, and at 16 times the corpus a run's units hold
// 140,000 findings.
func (u *unitResult) tighten() {
	u.held = tight(u.held)
	u.res.Findings = tight(u.res.Findings)
	u.res.SuppressedFindings = tight(u.res.SuppressedFindings)
	u.res.Objects = tight(u.res.Objects)
	u.deferred = tight(u.deferred)
}

func tight[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	if cap(s) == len(s) {
		return s
	}
	return append(make(S, 0, len(s)), s...)
}

// worlds merges the units' indexes into their worlds' runs in input
// order as the units are checked: a unit's index is folded in, and let
// go, once every unit before it has been, instead of every unit's index
// being held until the end of the run (at 16 times the corpus, the live
// heap's peak went from 372 to 272 MB). The order is the inputs',
// whatever order the workers finish in, so the runs are what merging at
// the end made.
type worlds struct {
	mu     sync.Mutex
	units  []*unitResult // units[i] is set when the i-th is checked
	next   int           // units[:next] are merged
	runs   map[string]*rules.Run
	ofUnit []*rules.Run
}

func newWorlds(units []*unitResult) *worlds {
	w := &worlds{units: units, runs: map[string]*rules.Run{}, ofUnit: make([]*rules.Run, len(units))}
	w.mu.Lock()
	w.mergeReady()
	w.mu.Unlock()
	return w
}

// done records the i-th unit, checked, and merges what is ready.
func (w *worlds) done(i int, u *unitResult) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.units[i] = u
	w.mergeReady()
}

func (w *worlds) mergeReady() {
	for ; w.next < len(w.units) && w.units[w.next] != nil; w.next++ {
		u := w.units[w.next]
		run := w.runs[u.world]
		if run == nil {
			run = u.index
			w.runs[u.world] = run
		} else {
			run.Merge(u.index)
		}
		w.ofUnit[w.next] = run
		u.index = nil
	}
}

// finish completes a run: the rules that read the plain files' run judge
// the objects kept for them, and the units' results are merged, in input
// order, into one sorted result. Every unit's index is in ws.
func (e *Engine) finish(ctx context.Context, units []*unitResult, ws *worlds) *Result {
	var deferred []deferredObject
	var worldOf []*rules.Run // of each deferred object
	worldOfUnit := ws.ofUnit
	var defs []schema.Definition
	var custom []pendingCustom
	for i, u := range units {
		defs = append(defs, u.crds...)
		custom = append(custom, u.custom...)
		u.crds, u.custom = nil, nil
		deferred = append(deferred, u.deferred...)
		for range u.deferred {
			worldOf = append(worldOf, worldOfUnit[i])
		}
		u.deferred = nil
	}
	// Each kept object is read again, judged and let go in turn.
	late := make([]*Result, len(deferred))
	each(len(deferred), func(i int) {
		d := &deferred[i]
		o := d.o
		if d.src != nil {
			mo := d.src.Object()
			sr := safeSchemaCheck(e.schema, mo)
			o = e.object(mo, sr, d.key)
		}
		*d = deferredObject{}
		c := e.newCapper()
		r := &Result{}
		r.addObject(e, o, e.checkRules(ctx, o, e.worldRules, worldOf[i], c, nil), c)
		r.Objects, r.Summary.Objects = nil, 0 // counted when its unit was checked
		late[i] = r
	})
	late = append(late, e.settleHeld(units, worldOfUnit))
	late = append(late, e.checkCustomResources(ctx, defs, custom)...)
	// The merged slices are allocated once, at their size, and each
	// unit's are let go as they are merged: growing them by appending
	// would cost the run's peak memory a second copy of every finding.
	var nf, ns, no int
	for _, r := range append(resultsOf(units), late...) {
		nf, ns, no = nf+len(r.Findings), ns+len(r.SuppressedFindings), no+len(r.Objects)
	}
	dups := duplicateIDs(units)
	res := &Result{Findings: make([]rules.Finding, 0, nf), SuppressedFindings: make([]rules.Finding, 0, ns), Objects: make([]ObjectInFile, 0, no)}
	for i, u := range units {
		res.merge(&u.res)
		units[i] = nil
	}
	for _, r := range late {
		res.merge(r)
	}
	res.add(e, dups, nil)
	if err := ctx.Err(); err != nil {
		res.Interrupted = err
	}
	res.Findings = mergeRenders(res.Findings, &res.Summary)
	res.SuppressedFindings = mergeRenders(res.SuppressedFindings, nil)
	res.Summary.Suppressed = len(res.SuppressedFindings)
	sortFindings(res.Findings)
	sortFindings(res.SuppressedFindings)
	return res
}

// checkOwnCustomResources keeps the unit's CRDs for the end of the run,
// and checks the unit's custom resources whose kind one of them defines
// against it now: a chart's or a kustomization's custom resources are
// written for the CRDs it ships, and a custom resource checked now is
// not kept until the end. It clears custom for those.
func (u *unitResult) checkOwnCustomResources(ctx context.Context, e *Engine, objs []*rules.Object, defs []*schema.Definition, custom []bool, caps []*capper, found [][]rules.Finding, report bool) {
	own := map[k8sschema.GroupKind]bool{}
	for i, d := range defs {
		if d == nil {
			continue
		}
		loc, _ := objs[i].Locate("")
		def := *d
		def.Where = fmt.Sprintf("%s:%d", loc.File, loc.Line)
		u.crds = append(u.crds, def)
		own[def.GK] = true
	}
	if len(u.crds) == 0 || !report {
		return
	}
	crs := e.schema.CRDs().WithRun(u.crds)
	each(len(objs), func(i int) {
		o := objs[i]
		if !custom[i] || !own[k8sschema.FromAPIVersionAndKind(o.APIVersion, o.Kind).GroupKind()] || ctx.Err() != nil {
			return
		}
		custom[i] = false
		found[i] = e.customFindings(crs, o, caps[i], found[i])
	})
}

// checkCustomResources checks the schema of the run's custom resources,
// now that every CRD of the run is known: against the first CRD of their
// kind in the run, else in the catalog, else unknown-kind.
func (e *Engine) checkCustomResources(ctx context.Context, defs []schema.Definition, custom []pendingCustom) []*Result {
	if len(custom) == 0 {
		return nil
	}
	crs := e.schema.CRDs().WithRun(defs)
	out := make([]*Result, len(custom))
	each(len(custom), func(i int) {
		d := &custom[i]
		if !crs.Defines(d.gk) {
			out[i] = d.provisional
		} else {
			o := d.o
			if d.src != nil {
				o = &rules.Object{Object: d.src.Object(), Key: d.key}
			}
			out[i] = e.customResult(ctx, crs, o)
		}
		*d = pendingCustom{}
	})
	return out
}

// customResult is the result of checking a custom resource's schema
// against crs (nil: no CRD is known).
func (e *Engine) customResult(ctx context.Context, crs schema.CustomResources, o *rules.Object) *Result {
	c := e.newCapper()
	var found []rules.Finding
	if ctx.Err() == nil {
		found = e.customFindings(crs, o, c, nil)
	}
	r := &Result{}
	r.addObject(e, o, found, c)
	r.Objects, r.Summary.Objects = nil, 0 // counted when its unit was checked
	return r
}

// customFindings appends to found what checking a custom resource's
// schema against crs finds.
func (e *Engine) customFindings(crs schema.CustomResources, o *rules.Object, c *capper, found []rules.Finding) []rules.Finding {
	t0 := time.Now()
	for _, is := range safeCustomCheck(e.schema, crs, o.Object) {
		if c.keep(is.Rule) {
			found = append(found, e.finding(o, is.Rule, rules.Report{Path: is.Path, Message: is.Message}))
		}
	}
	e.observed("schema", t0)
	return found
}

// duplicateIDs reports, for each kustomization read as the files it
// lists, an object whose build identity an earlier one in the list
// already has: kustomize refuses to build such a kustomization.
func duplicateIDs(units []*unitResult) []rules.Finding {
	var out []rules.Finding
	first := map[[2]string]listedID{}
	for _, u := range units {
		for _, id := range u.ids {
			key := [2]string{u.world, id.id}
			prev, dup := first[key]
			if !dup {
				first[key] = id
				continue
			}
			if id.context {
				continue
			}
			f := strings.Fields(id.id) // apiVersion kind namespace name
			out = append(out, rules.Finding{Rule: "render", File: id.file, Line: id.pos.Line, Column: id.pos.Column, Renders: []string{u.world},
				Message: fmt.Sprintf("kustomization does not build: %s %s/%s (%s) is also at %s:%d, and a build holds one object of each identity", f[1], f[2], f[3], f[0], prev.file, prev.pos.Line)})
		}
		u.ids = nil
	}
	return out
}

func resultsOf(units []*unitResult) []*Result {
	out := make([]*Result, len(units))
	for i, u := range units {
		out[i] = &u.res
	}
	return out
}

// checkRules runs rules on one object, appending what they report to
// found. The context is checked between rules: the budget bounds the work.
func (e *Engine) checkRules(ctx context.Context, o *rules.Object, rules []*rules.Rule, run *rules.Run, c *capper, found []rules.Finding) []rules.Finding {
	for _, r := range rules {
		if ctx.Err() != nil {
			return found
		}
		if len(r.Kinds) > 0 && !slices.Contains(r.Kinds, o.Kind) {
			continue
		}
		t0 := time.Now()
		for _, rep := range safeCheck(r, o, run, e.params[r.ID]) {
			if c.keep(r.ID) {
				found = append(found, e.finding(o, r.ID, rep))
			}
		}
		e.observed(r.ID, t0)
	}
	return found
}

// addObject adds one object's findings (and the object) to the result:
// findings about fields whose values klint assumed are dropped, and the
// object's annotations suppress.
func (res *Result) addObject(e *Engine, o *rules.Object, found []rules.Finding, c *capper) {
	if len(o.Assumed) > 0 {
		found = slices.DeleteFunc(found, func(f rules.Finding) bool { return slices.Contains(o.Assumed, f.Path) })
	}
	res.add(e, found, suppressionAnnotations(o))
	loc, _ := o.Locate("")
	res.Objects = append(res.Objects, ObjectInFile{File: loc.File, Object: o.Ref()})
	res.Summary.Objects++
	if c == nil {
		return
	}
	for rule, n := range c.omitted {
		if res.Omitted == nil {
			res.Omitted = map[string]int{}
		}
		res.Omitted[rule] += n
	}
}

// merge adds another partial result to res.
func (res *Result) merge(o *Result) {
	res.Findings = append(res.Findings, o.Findings...)
	res.SuppressedFindings = append(res.SuppressedFindings, o.SuppressedFindings...)
	res.Objects = append(res.Objects, o.Objects...)
	s, t := &res.Summary, o.Summary
	s.Files += t.Files
	s.Skipped += t.Skipped
	s.Charts += t.Charts
	s.Kustomizations += t.Kustomizations
	s.Objects += t.Objects
	s.Errors += t.Errors
	s.Warnings += t.Warnings
	s.Infos += t.Infos
	s.Suppressed += t.Suppressed
	for rule, n := range o.Omitted {
		if res.Omitted == nil {
			res.Omitted = map[string]int{}
		}
		res.Omitted[rule] += n
	}
}

// capper keeps at most max findings of each rule on one object
// (Options.MaxFindingsPerRule) and counts the rest.
type capper struct {
	e       *Engine
	kept    map[string]int
	omitted map[string]int
}

func (e *Engine) newCapper() *capper { return &capper{e: e} }

func (c *capper) clone() *capper {
	return &capper{e: c.e, kept: maps.Clone(c.kept), omitted: maps.Clone(c.omitted)}
}

// relatedIn is the related locations of f, a finding on like, as they
// are on mo, an object alike: the ones the object's map gives (the line
// that included a named template, the values file that set a value, which
// is the values set's own file when it sets the value the same), then
// the ones f's rule added. A finding whose related locations do not start
// with the map's keeps them.
func relatedIn(like, mo *manifest.Object, f rules.Finding) []rules.RelatedLocation {
	_, was := like.Locate(f.Path)
	if len(was) > len(f.Related) {
		return f.Related
	}
	for i, r := range was {
		if f.Related[i] != relatedLocation(r) {
			return f.Related
		}
	}
	_, is := mo.Locate(f.Path)
	out := make([]rules.RelatedLocation, 0, len(is)+len(f.Related)-len(was))
	for _, r := range is {
		out = append(out, relatedLocation(r))
	}
	return append(out, f.Related[len(was):]...)
}

// alike gives, for each object, the index of the first object of mos it
// is alike (manifest.Object.Alike), whose checks are its own, or -1.
func alike(mos []*manifest.Object) []int {
	like := make([]int, len(mos))
	var first map[string]int
	for i, mo := range mos {
		like[i] = -1
		if mo.Alike == "" {
			continue
		}
		if j, ok := first[mo.Alike]; ok {
			like[i] = j
			continue
		}
		if first == nil {
			first = map[string]int{}
		}
		first[mo.Alike] = i
	}
	return like
}

// keep counts a finding of rule against the cap.
func (c *capper) keep(rule string) bool {
	if _, known := c.e.rules[rule]; known && !c.e.enabled[rule] {
		return false // dropped by add in any case: not even located
	}
	if c.e.maxPerRule <= 0 {
		return true
	}
	if c.kept == nil {
		c.kept = map[string]int{}
	}
	c.kept[rule]++
	if c.kept[rule] > c.e.maxPerRule {
		if c.omitted == nil {
			c.omitted = map[string]int{}
		}
		c.omitted[rule]++
		return false
	}
	return true
}

// each runs f(0..n-1): on all cores when there are enough objects to be
// worth it, else in the caller's goroutine.
func each(n int, f func(i int)) {
	if n < 8 {
		for i := range n {
			f(i)
		}
		return
	}
	parallel.Do(n, f)
}

// heldFinding is a finding that waits for the run (pending), held
// until its world's indexes are complete, with what settling and
// suppressing it need.
type heldFinding struct {
	f   rules.Finding
	ns  string
	ann map[string]string
}

// pending reports whether f waits for its world's index: its rule
// settles its findings, or its report settles itself.
func (e *Engine) pending(f *rules.Finding) bool {
	if f.Settle != nil {
		return true
	}
	r := e.rules[f.Rule]
	return r != nil && r.Settle != nil
}

// decide settles a pending finding with its world's complete run: false
// drops it.
func (e *Engine) decide(f *rules.Finding, namespace string, run *rules.Run) bool {
	if f.Settle != nil {
		keep := f.Settle(f, run)
		f.Settle = nil
		if !keep {
			return false
		}
	}
	if r := e.rules[f.Rule]; r != nil && r.Settle != nil {
		sev, ok := r.Settle(f, namespace, run)
		if !ok {
			return false
		}
		f.Settled = sev
	}
	return true
}

// settle decides, with run complete, the findings of an object that wait
// for it; the others are kept as they are.
func (e *Engine) settle(o *rules.Object, found []rules.Finding, run *rules.Run) []rules.Finding {
	kept := found[:0]
	for _, f := range found {
		if e.pending(&f) && !e.decide(&f, o.Namespace, run) {
			continue
		}
		kept = append(kept, f)
	}
	return kept
}

// hold takes the findings that their rules settle out of a plain object's
// findings, to be settled at the end of the run.
func (u *unitResult) hold(e *Engine, o *rules.Object, found []rules.Finding) []rules.Finding {
	var ann map[string]string
	kept := found[:0]
	for _, f := range found {
		if !e.pending(&f) {
			kept = append(kept, f)
			continue
		}
		if ann == nil {
			ann = suppressionAnnotations(o)
		}
		u.held = append(u.held, heldFinding{f: f, ns: o.Namespace, ann: ann})
	}
	return kept
}

// settleHeld settles the held findings of each unit with its world's
// complete run (worlds[i] is units[i]'s).
func (e *Engine) settleHeld(units []*unitResult, worlds []*rules.Run) *Result {
	res := &Result{}
	for i, u := range units {
		for _, h := range u.held {
			f := h.f
			if !e.decide(&f, h.ns, worlds[i]) {
				continue
			}
			res.add(e, []rules.Finding{f}, h.ann)
		}
		u.held = nil
	}
	return res
}

// policyFindings are what the run's admission policies say of o: as the
// update of its previous version when the run has a base that knows
// one, as a create otherwise.
func (e *Engine) policyFindings(ctx context.Context, o *rules.Object, c *capper) []rules.Finding {
	if e.policies == nil || o.Kind == "" || !e.policies.Match(o.APIVersion, o.Kind) {
		return nil
	}
	var old []byte
	if e.base != nil {
		if data, err := schema.JSON(o.Value); err == nil {
			if prev, ok := e.base.Old(o.Object, data); ok {
				old = prev.Data
			}
		}
	}
	var out []rules.Finding
	for _, v := range e.policies.Judge(ctx, o.Object, o.Typed, old) {
		if c.keep("admission-policy") {
			f := e.finding(o, "admission-policy", rules.Report{Path: v.Path, Message: v.Message})
			sev := v.Severity
			f.Settled = &sev
			out = append(out, f)
		}
	}
	return out
}
