package engine

import (
	"fmt"
	"slices"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
)

// A policy comes from the repository being linted, which may be a
// stranger's pull request: it must not be able to reach outside the
// process (send the runner's secrets over the network, read its
// environment) or make a verdict depend on the moment it runs.
//
// refusedBuiltins are left out of the capabilities the policies are
// compiled with, beside every builtin OPA itself marks nondeterministic.
var refusedBuiltins = map[string]string{
	"http.send":          "it makes HTTP requests",
	"net.lookup_ip_addr": "it makes DNS queries",
	"opa.runtime":        "it returns the process's environment",
	"trace":              "it writes to the evaluation's trace",
}

var (
	sandboxOnce sync.Once
	sandboxCaps *ast.Capabilities
)

// sandboxCapabilities is OPA's capabilities for this version less every
// builtin that reaches outside the process or is nondeterministic, with
// no host allowed for the network builtins.
func sandboxCapabilities() *ast.Capabilities {
	sandboxOnce.Do(func() {
		caps := ast.CapabilitiesForThisVersion()
		caps.Builtins = slices.DeleteFunc(caps.Builtins, func(b *ast.Builtin) bool {
			_, refused := refusedBuiltins[b.Name]
			return refused || b.Nondeterministic
		})
		caps.AllowNet = []string{}
		sandboxCaps = caps
	})
	return sandboxCaps
}

// refusedCall is why a module may not be loaded: the first call it makes
// to a builtin the sandbox leaves out, at its line. The compiler's
// capabilities refuse them too; this says why, in klint's words.
func refusedCall(file string, m *ast.Module) error {
	var err error
	check := func(op *ast.Term, loc *ast.Location) {
		if err != nil || op == nil {
			return
		}
		name := op.String()
		why, refused := refusedBuiltins[name]
		if b, ok := ast.BuiltinMap[name]; !refused && ok && b.Nondeterministic {
			refused, why = true, "its result depends on when or where it runs"
		}
		if refused {
			line := 1
			if loc != nil {
				line = loc.Row
			}
			err = fmt.Errorf("%s:%d: policy calls %s, which klint does not allow: %s, and a policy judges only the object it is given", file, line, name, why)
		}
	}
	ast.WalkExprs(m, func(e *ast.Expr) bool {
		if e.IsCall() {
			check(e.OperatorTerm(), e.Location)
		}
		return err != nil
	})
	ast.WalkTerms(m, func(t *ast.Term) bool {
		if c, ok := t.Value.(ast.Call); ok && len(c) > 0 {
			check(c[0], t.Location)
		}
		return err != nil
	})
	return err
}
