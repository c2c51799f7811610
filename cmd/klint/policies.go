package main

import (
	"context"
	"strings"

	"github.com/klint-dev/klint/pkg/admissionpolicy"
	"github.com/klint-dev/klint/pkg/boundary"
	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/rules"
)

// maxPolicyFile bounds a file read while looking for admission policies.
const maxPolicyFile = 64 << 20

// loadPolicies finds the admission policies a run is judged by: the
// ValidatingAdmissionPolicies and bindings of the run's plain files and
// of --admission-policies, with the Namespaces of both and the params
// their paramKinds name. A file is parsed only when its text names what
// is looked for. nil when there is no policy.
func loadPolicies(bound *boundary.Boundary, files []manifest.Input, dirs []string, exclude []string) engine.Policies {
	var objs []*manifest.Object
	var texts []struct {
		in   manifest.Input
		data []byte
	}
	for _, in := range files {
		if in.Kind != manifest.PlainFile || in.Problem != nil || in.Data != nil || in.Path == "-" {
			continue
		}
		data, err := bound.ReadFile(in.Path, maxPolicyFile)
		if err != nil {
			continue
		}
		if admissionpolicy.Holds(data) || strings.Contains(string(data), "kind: Namespace") {
			objs = append(objs, manifest.Read(manifest.Input{Path: in.Path, Data: data}, nil, nil).Objects...)
		} else {
			texts = append(texts, struct {
				in   manifest.Input
				data []byte
			}{in, data})
		}
	}
	if len(dirs) > 0 {
		for _, in := range manifest.ExpandWithin(bound, dirs, exclude...) {
			if in.Kind == manifest.PlainFile {
				objs = append(objs, manifest.Read(in, nil, nil).Objects...)
			}
		}
	}
	kinds := map[string]bool{}
	for _, o := range objs {
		if o.Kind == "ValidatingAdmissionPolicy" {
			spec, _ := o.Value["spec"].(map[string]any)
			if pk, ok := spec["paramKind"].(map[string]any); ok {
				if k, _ := pk["kind"].(string); k != "" {
					kinds[k] = true
				}
			}
		}
	}
	if !hasPolicy(objs) {
		return nil
	}
	for _, t := range texts {
		for k := range kinds {
			if strings.Contains(string(t.data), "kind: "+k) {
				objs = append(objs, manifest.Read(manifest.Input{Path: t.in.Path, Data: t.data}, nil, nil).Objects...)
				break
			}
		}
	}
	return policies{admissionpolicy.New(objs)}
}

func hasPolicy(objs []*manifest.Object) bool {
	for _, o := range objs {
		if o.Kind == "ValidatingAdmissionPolicy" {
			return true
		}
	}
	return false
}

// policies are a Set as the engine asks for them.
type policies struct{ *admissionpolicy.Set }

var severityOf = map[admissionpolicy.Action]rules.Severity{admissionpolicy.Deny: rules.Error, admissionpolicy.Warn: rules.Warning, admissionpolicy.Audit: rules.Info}

func (p policies) Judge(ctx context.Context, o *manifest.Object, old []byte) []engine.PolicyVerdict {
	var out []engine.PolicyVerdict
	for _, v := range p.Set.Judge(ctx, o, old) {
		msg := v.Message
		var at []string
		if v.PolicyAt != "" {
			at = append(at, "policy "+v.Policy+" at "+v.PolicyAt)
		}
		if v.BindAt != "" {
			at = append(at, "binding "+v.Binding+" at "+v.BindAt)
		}
		if len(at) > 0 {
			msg += " (" + strings.Join(at, ", ") + ")"
		}
		out = append(out, engine.PolicyVerdict{Severity: severityOf[v.Action], Message: msg})
	}
	return out
}
