package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "sigs.k8s.io/json"

	"github.com/klint-dev/klint/pkg/boundary"
	"github.com/klint-dev/klint/pkg/celrule"
	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/rules"
)

// celRuleKind is the kind of a rule of the user's written in CEL, in a
// policy directory beside Rego:
//
//	apiVersion: klint.dev/v1alpha1
//	kind: CELRule
//	metadata: {name: team-label}          # the rule ID
//	spec:
//	  severity: warning                   # error (default), warning or info
//	  description: Every Deployment names its team.
//	  match: [{apiGroups: [apps], resources: [deployments]}]
//	  expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
//	  message: every Deployment names its team     # or messageExpression
//	  fieldPath: metadata.labels          # where the finding points
//	  params: {team: platform}            # optional: variables.team
//
// It is evaluated as a ValidatingAdmissionPolicy validation, with the
// API server's own CEL compiler and evaluator (package celrule), by the
// CLI and the webhook, and klint admission-policies writes it as one.
// Its params are the rule's parameters (set in config as a built-in
// rule's are), each a variable of the policy by its name.
const (
	celRuleAPIVersion = "klint.dev/v1alpha1"
	celRuleKind       = "CELRule"
)

type celRuleSpec struct {
	Severity    string `json:"severity"`
	Description string `json:"description"`
	Match       []struct {
		APIGroups []string `json:"apiGroups"`
		Resources []string `json:"resources"`
	} `json:"match"`
	Expression        string         `json:"expression"`
	Message           string         `json:"message"`
	MessageExpression string         `json:"messageExpression"`
	FieldPath         string         `json:"fieldPath"`
	Params            map[string]any `json:"params"`
}

// loadCELRules reads the CELRules of the policy directories: every
// .yaml or .yml file whose text names the kind.
func loadCELRules(dirs []string, typeCheck func(*admissionregistrationv1.ValidatingAdmissionPolicy) []string) ([]*rules.Rule, error) {
	var out []*rules.Rule
	for _, dir := range dirs {
		within := boundary.New(dir)
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !(strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				return err
			}
			data, err := within.ReadFile(p, 32<<20)
			if err != nil {
				return err
			}
			if !strings.Contains(string(data), celRuleKind) {
				return nil
			}
			l := inputs.Read(inputs.Input{Path: p, Data: data}, nil, nil)
			if len(l.Problems) > 0 {
				pr := l.Problems[0]
				return fmt.Errorf("%s:%d: %s", pr.File, pr.Pos.Line, pr.Message)
			}
			for _, o := range l.Objects {
				if o.APIVersion != celRuleAPIVersion || o.Kind != celRuleKind {
					continue
				}
				r, err := celRule(o, typeCheck)
				if err != nil {
					return err
				}
				out = append(out, r)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// celRule builds the rule a CELRule says, or says what is wrong with it,
// at its line.
func celRule(o *manifest.Object, typeCheck func(*admissionregistrationv1.ValidatingAdmissionPolicy) []string) (*rules.Rule, error) {
	at := func(path, msg string) error {
		pos, _ := o.Pos(path)
		return fmt.Errorf("%s:%d: CELRule: %s", o.File, pos.Line, msg)
	}
	md, _ := o.Value["metadata"].(map[string]any)
	id, _ := md["name"].(string)
	if id == "" {
		return nil, at("metadata", "metadata.name (the rule ID) is required")
	}
	var spec celRuleSpec
	if err := decodeValue(o.Value["spec"], &spec); err != nil {
		return nil, at("spec", err.Error())
	}
	sev := rules.Error
	if spec.Severity != "" {
		s, err := rules.ParseSeverity(spec.Severity)
		if err != nil {
			return nil, at("spec.severity", err.Error())
		}
		sev = s
	}
	if len(spec.Match) == 0 {
		return nil, at("spec", "spec.match names no resources")
	}
	if spec.Expression == "" {
		return nil, at("spec", "spec.expression is required")
	}
	c := &rules.CEL{Expression: spec.Expression, MessageExpression: spec.MessageExpression}
	vars, err := c.Variables(spec.Params)
	if err != nil {
		return nil, at("spec.params", err.Error())
	}
	if _, err := celrule.Compile(celrule.Validation{Expression: spec.Expression, MessageExpression: spec.MessageExpression}, vars); err != nil {
		if msg, ok := strings.CutPrefix(err.Error(), "messageExpression: "); ok {
			return nil, at("spec.messageExpression", "the message expression does not compile: "+msg)
		}
		return nil, at("spec.expression", "the expression does not compile: "+err.Error())
	}
	message := spec.Message
	if message == "" {
		message = "the object fails CEL rule " + id + ": " + spec.Expression
	}
	c.Message = message
	for _, m := range spec.Match {
		for _, g := range m.APIGroups {
			c.Resources = append(c.Resources, rules.CELResources{Group: g, Resources: m.Resources})
		}
	}
	if typeCheck != nil {
		// The policy klint admission-policies writes for it, type-checked
		// at load as the API server type-checks it.
		policy, _ := c.Policy(id, spec.Params) // the parameters' names were checked above
		if problems := typeCheck(policy); len(problems) > 0 {
			path := "spec.expression"
			if strings.Contains(problems[0], "messageExpression") {
				path = "spec.messageExpression"
			}
			return nil, at(path, "the expression does not type-check against the matched kinds' schemas: "+strings.Join(problems, "; "))
		}
	}
	// The validation is compiled once per set of parameters (one per
	// engine, whose config sets them), and evaluated as the policy's.
	var programs sync.Map // JSON of the params → *celrule.Program
	programFor := func(p rules.Params) *celrule.Program {
		key, _ := json.Marshal(p)
		if prog, ok := programs.Load(string(key)); ok {
			return prog.(*celrule.Program)
		}
		vars, _ := c.Variables(p)
		prog, err := celrule.Compile(celrule.Validation{Expression: spec.Expression, Message: message, MessageExpression: spec.MessageExpression}, vars)
		if err != nil {
			prog = nil // parameters of config that do not compile: judged as failing closed below
		}
		actual, _ := programs.LoadOrStore(string(key), prog)
		return actual.(*celrule.Program)
	}
	pos, _ := o.Pos("")
	return &rules.Rule{
		ID: id, Theme: rules.ThemePolicies, Severity: sev, Source: rules.SourceCEL,
		Description: firstNonEmpty(spec.Description, message),
		Remediation: message,
		NoFix:       "a CEL rule offers no fix",
		CEL:         c,
		Params:      spec.Params,
		Rationale:   fmt.Sprintf("A CELRule of %s:%d.", o.File, pos.Line),
		Check: func(obj *rules.Object, _ *rules.Run, p rules.Params) []rules.Report {
			if obj.Kind == "" || !matches(spec, obj.APIVersion, obj.Kind) {
				return nil
			}
			prog := programFor(p)
			if prog == nil {
				return []rules.Report{{Path: spec.FieldPath, Message: "the rule does not compile with the parameters of the config"}}
			}
			if failed, msg := prog.Eval(context.Background(), obj.Value); failed {
				return []rules.Report{{Path: spec.FieldPath, Message: msg}}
			}
			return nil
		},
	}, nil
}

// matches reports whether the rule's match names the resource of objects
// of the kind, as a policy's resource rules do ("*" for any).
func matches(spec celRuleSpec, apiVersion, kind string) bool {
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return false
	}
	gvr, _ := meta.UnsafeGuessKindToResource(gv.WithKind(kind))
	for _, m := range spec.Match {
		if (slices.Contains(m.APIGroups, gv.Group) || slices.Contains(m.APIGroups, "*")) &&
			(slices.Contains(m.Resources, gvr.Resource) || slices.Contains(m.Resources, "*")) {
			return true
		}
	}
	return false
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// decodeValue decodes a YAML value into v strictly: an unknown field is
// an error.
func decodeValue(value any, v any) error {
	data, err := json.Marshal(value)
	if err != nil {
		return err
	}
	strict, err := kjson.UnmarshalStrict(data, v, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	if len(strict) > 0 {
		return strict[0]
	}
	return nil
}
