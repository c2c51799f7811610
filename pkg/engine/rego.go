package engine

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/klint-dev/klint/pkg/boundary"
	"github.com/klint-dev/klint/pkg/rules"
	"github.com/klint-dev/klint/policies"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// regoSet is every loaded policy package, compiled together, with one
// query prepared once that evaluates all enabled packages' deny and warn
// sets in a single evaluation per object.
type regoSet struct {
	rules    []*rules.Rule
	packages []*regoPackage
	modules  map[string]*ast.Module
	// compiler holds the modules, compiled once: every query is prepared
	// against it rather than compiling them again.
	compiler *ast.Compiler
	// enabled are the enabled packages, and store holds the rules'
	// parameters, as prepare left them.
	enabled []*regoPackage
	store   storage.Store
	// all is the query over every enabled package; byKind caches, per
	// kind, the query over the packages that can match it (those whose
	// custom.kinds lists it, and those that list no kinds).
	all    *regoQuery
	mu     sync.Mutex
	byKind map[string]*regoQuery
	bySet  map[string]*regoQuery // by the packages' paths
}

// regoQuery is one prepared query: nil pq when no package applies.
type regoQuery struct {
	pq *rego.PreparedEvalQuery
	// bindings lists, per query variable, the package and set it holds.
	bindings []regoBinding
	err      error
}

type regoPackage struct {
	path    string // data.klint.x
	rule    *rules.Rule
	hasDeny bool
	hasWarn bool
}

type regoBinding struct {
	pkg  *regoPackage
	warn bool
}

type regoReport struct {
	rule string
	rules.Report
}

// loadRego parses the shipped policies and the user's directories. Files
// ending in _test.rego are tests, not policies.
func loadRego(_ context.Context, dirs []string) (*regoSet, error) {
	rs := &regoSet{modules: map[string]*ast.Module{}}
	err := fs.WalkDir(policies.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !isPolicyFile(p) {
			return err
		}
		data, err := fs.ReadFile(policies.FS, p)
		if err != nil {
			return err
		}
		return rs.add("policies/"+p, data)
	})
	if err != nil {
		return nil, err
	}
	for _, dir := range dirs {
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("policy directory %s: %w", dir, err)
		}
		// A policy file that links out of its directory is not read: a
		// parse error would quote what it points to.
		within := boundary.New(dir)
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !isPolicyFile(p) {
				return err
			}
			data, err := within.ReadFile(p, 32<<20)
			if err != nil {
				return err
			}
			return rs.add(p, data)
		})
		if err != nil {
			return nil, err
		}
	}
	compiler := ast.NewCompiler().WithCapabilities(sandboxCapabilities())
	compiler.Compile(rs.modules)
	if compiler.Failed() {
		return nil, fmt.Errorf("policies do not compile: %w", compiler.Errors)
	}
	rs.compiler = compiler
	sort.Slice(rs.packages, func(i, j int) bool { return rs.packages[i].path < rs.packages[j].path })
	ids := map[string]string{}
	for _, p := range rs.packages {
		if !p.hasDeny && !p.hasWarn {
			return nil, fmt.Errorf("policy package %s defines neither deny nor warn", p.path)
		}
		if other, dup := ids[p.rule.ID]; dup {
			return nil, fmt.Errorf("policy packages %s and %s both use rule ID %q", other, p.path, p.rule.ID)
		}
		ids[p.rule.ID] = p.path
		rs.rules = append(rs.rules, p.rule)
	}
	return rs, nil
}

func isPolicyFile(p string) bool {
	return strings.HasSuffix(p, ".rego") && !strings.HasSuffix(p, "_test.rego")
}

// add parses one module. Packages must live under klint.*; their metadata
// annotation (on the package) gives the rule ID, severity and docs.
func (rs *regoSet) add(file string, data []byte) error {
	m, err := ast.ParseModuleWithOpts(file, string(data), ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1})
	if err != nil {
		return err
	}
	if err := refusedCall(file, m); err != nil {
		return err
	}
	path := m.Package.Path.String()
	if !strings.HasPrefix(path, "data.klint.") {
		return fmt.Errorf("%s: package %s must be under klint. (for example package klint.my_policy)", file, strings.TrimPrefix(path, "data."))
	}
	rs.modules[file] = m
	var pkg *regoPackage
	for _, p := range rs.packages {
		if p.path == path {
			pkg = p
		}
	}
	if pkg == nil {
		id := strings.ReplaceAll(path[strings.LastIndex(path, ".")+1:], "_", "-")
		pkg = &regoPackage{path: path, rule: &rules.Rule{ID: id, Severity: rules.Error, Source: rules.SourceRego, Theme: rules.ThemePolicies, Params: map[string]any{}}}
		rs.packages = append(rs.packages, pkg)
	}
	for _, r := range m.Rules {
		switch r.Head.Name.String() {
		case "deny":
			pkg.hasDeny = true
		case "warn":
			pkg.hasWarn = true
		}
	}
	for _, a := range m.Annotations {
		if a.Scope != "package" {
			continue
		}
		if err := applyAnnotation(pkg.rule, a, pkg.hasDeny); err != nil {
			return fmt.Errorf("%s:%d: %w", file, a.Location.Row, err)
		}
	}
	return nil
}

func applyAnnotation(r *rules.Rule, a *ast.Annotations, hasDeny bool) error {
	r.Description = a.Description
	if r.Description == "" {
		r.Description = a.Title
	}
	if !hasDeny {
		r.Severity = rules.Warning
	}
	for k, v := range a.Custom {
		s, _ := v.(string)
		switch k {
		case "id":
			r.ID = s
		case "severity":
			sev, err := rules.ParseSeverity(s)
			if err != nil {
				return err
			}
			r.Severity = sev
		case "rationale":
			r.Rationale = s
		case "remediation":
			r.Remediation = s
		case "theme":
			r.Theme = s
		case "enabled":
			b, ok := v.(bool)
			if !ok {
				return fmt.Errorf("custom.enabled must be true or false")
			}
			r.Off = !b
		case "kinds":
			list, ok := v.([]any)
			for _, k := range list {
				name, isString := k.(string)
				if !isString || name == "" {
					ok = false
					break
				}
				r.Kinds = append(r.Kinds, name)
			}
			if !ok || len(list) == 0 {
				return fmt.Errorf("custom.kinds must be a list of kinds (Deployment, Service…)")
			}
		case "security-severity":
			var f float64
			switch n := v.(type) {
			case float64:
				f = n
			case int:
				f = float64(n)
			case string:
				f, _ = strconv.ParseFloat(n, 64)
			default:
				f, _ = strconv.ParseFloat(fmt.Sprint(n), 64)
			}
			if f <= 0 || f > 10 {
				return fmt.Errorf("custom.security-severity must be a number from 0.1 to 10 (CVSS)")
			}
			r.SecuritySeverity = f
		case "params":
			m, ok := v.(map[string]any)
			if !ok {
				return fmt.Errorf("custom.params must be a mapping")
			}
			r.Params = m
		default:
			return fmt.Errorf("unknown custom metadata key %q (known: id, severity, security-severity, rationale, remediation, theme, enabled, kinds, params)", k)
		}
	}
	return nil
}

// prepare compiles the query over the enabled packages, with the rule
// parameters available to policies as data.params["<rule-id>"]. Queries
// over the packages that can match one kind are prepared when a kind is
// first met.
func (rs *regoSet) prepare(ctx context.Context, enabled map[string]bool, params map[string]rules.Params) error {
	rs.enabled = nil
	for _, p := range rs.packages {
		if enabled[p.rule.ID] {
			rs.enabled = append(rs.enabled, p)
		}
	}
	data := map[string]any{}
	for _, p := range rs.packages {
		data[p.rule.ID] = map[string]any(params[p.rule.ID])
	}
	rs.store = inmem.NewFromObject(map[string]any{"params": data})
	rs.byKind, rs.bySet = map[string]*regoQuery{}, map[string]*regoQuery{}
	rs.all = rs.compile(ctx, rs.enabled)
	if rs.all.err != nil {
		return fmt.Errorf("policies: %w", rs.all.err)
	}
	return nil
}

// compile prepares one query over pkgs' deny and warn sets.
func (rs *regoSet) compile(ctx context.Context, pkgs []*regoPackage) *regoQuery {
	q := &regoQuery{}
	var parts []string
	for _, p := range pkgs {
		for _, set := range []struct {
			name string
			has  bool
			warn bool
		}{{"deny", p.hasDeny, false}, {"warn", p.hasWarn, true}} {
			if !set.has {
				continue
			}
			v := fmt.Sprintf("r%d", len(q.bindings))
			parts = append(parts, fmt.Sprintf("%s := [x | some x in %s.%s]", v, p.path, set.name))
			q.bindings = append(q.bindings, regoBinding{p, set.warn})
		}
	}
	if len(parts) == 0 {
		return q
	}
	pq, err := rego.New(rego.Query(strings.Join(parts, "; ")), rego.Store(rs.store), rego.Compiler(rs.compiler), rego.Capabilities(sandboxCapabilities())).PrepareForEval(ctx)
	q.pq, q.err = &pq, err
	return q
}

// queryFor is the query over the packages that can match kind.
func (rs *regoSet) queryFor(kind string) *regoQuery {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if q, ok := rs.byKind[kind]; ok {
		return q
	}
	var pkgs []*regoPackage
	var key strings.Builder
	for _, p := range rs.enabled {
		if len(p.rule.Kinds) == 0 || slices.Contains(p.rule.Kinds, kind) {
			pkgs = append(pkgs, p)
			key.WriteString(p.path + " ")
		}
	}
	// Kinds that the same packages apply to share one query: most kinds
	// (every custom resource) get the packages that list no kinds.
	q, ok := rs.bySet[key.String()]
	switch {
	case ok:
	case len(pkgs) == len(rs.enabled):
		q = rs.all
	default:
		q = rs.compile(context.Background(), pkgs)
	}
	rs.bySet[key.String()] = q
	rs.byKind[kind] = q
	return q
}

// eval runs every enabled policy that can match the object's kind on it.
func (rs *regoSet) eval(ctx context.Context, o *rules.Object) []regoReport {
	if rs.all == nil || rs.all.pq == nil {
		return nil
	}
	q := rs.queryFor(o.Kind)
	if q.pq == nil && q.err == nil {
		return nil
	}
	// The object is converted to OPA's values lazily, as policies read
	// it: most read the kind and metadata, and converting a whole large
	// object (a CRD's schema) up front cost more than evaluating them.
	var results rego.ResultSet
	err := q.err
	if err == nil {
		// OPA watches ctx on a goroutine of its own per evaluation
		// unless given its cancellation: a callback on ctx's end is
		// free until then (and a run that cannot end never calls it).
		c := topdown.NewCancel()
		stop := context.AfterFunc(ctx, c.Cancel)
		results, err = q.pq.Eval(ctx, rego.EvalParsedInput(ast.LazyObject(o.Value)), rego.EvalExternalCancel(c))
		stop()
	}
	if err != nil && ctx.Err() != nil {
		return nil // the run is interrupted and reports that instead
	}
	if err != nil {
		var out []regoReport
		for _, b := range q.bindings {
			out = append(out, regoReport{b.pkg.rule.ID, rules.Report{Message: "policy failed to evaluate: " + err.Error()}})
		}
		return dedupe(out)
	}
	if len(results) == 0 {
		return nil
	}
	var out []regoReport
	for i, b := range q.bindings {
		vals, _ := results[0].Bindings[fmt.Sprintf("r%d", i)].([]any)
		for _, v := range vals {
			rep := toReport(v)
			rep.Warn = b.warn
			out = append(out, regoReport{b.pkg.rule.ID, rep})
		}
	}
	return out
}

func dedupe(in []regoReport) []regoReport {
	seen := map[string]bool{}
	var out []regoReport
	for _, r := range in {
		if !seen[r.rule] {
			seen[r.rule] = true
			out = append(out, r)
		}
	}
	return out
}

// toReport reads one element of a deny or warn set: {"msg", "path",
// "container"} or a plain string message.
func toReport(v any) rules.Report {
	switch x := v.(type) {
	case string:
		return rules.Report{Message: x}
	case map[string]any:
		var r rules.Report
		r.Message, _ = x["msg"].(string)
		r.Path, _ = x["path"].(string)
		r.Container, _ = x["container"].(string)
		if r.Message == "" {
			r.Message = fmt.Sprintf("policy result without msg: %v", x)
		}
		return r
	}
	return rules.Report{Message: fmt.Sprint(v)}
}
