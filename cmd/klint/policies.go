package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/klint-dev/klint/pkg/admissionpolicy"
	"github.com/klint-dev/klint/pkg/apivalidation"
	"github.com/klint-dev/klint/pkg/boundary"
	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/parallel"
	"github.com/klint-dev/klint/pkg/rules"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	k8sschema "k8s.io/apimachinery/pkg/runtime/schema"
)

// maxPolicyFile bounds a file read while looking for admission policies.
const maxPolicyFile = 64 << 20

// loadPolicies finds the admission policies a run is judged by: the
// validating and mutating admission policies and bindings of the run's plain files and
// of --admission-policies, with the Namespaces of both and the params
// their paramKinds name. The run's files are scanned as text, on all
// cores, and parsed only when they name what is looked for. nil when
// there is no policy.
func loadPolicies(files []inputs.Input, dirs []string, bound *boundary.Boundary, exclude []string) engine.Policies {
	type scanned struct {
		objs  []*manifest.Object
		kinds []string // of a file not parsed: for params
	}
	var plain []inputs.Input
	for _, in := range files {
		if in.Kind == inputs.PlainFile && in.Problem == nil && in.Data == nil && in.Path != "-" {
			plain = append(plain, in)
		}
	}
	scans := make([]scanned, len(plain))
	parallel.Do(len(plain), func(i int) {
		data, ok := readRegular(plain[i].Path)
		switch {
		case !ok:
		case admissionpolicy.Holds(data) || bytes.Contains(data, []byte("kind: Namespace")):
			scans[i].objs = inputs.Read(inputs.Input{Path: plain[i].Path, Data: data}, nil, nil).Objects
		default:
			scans[i].kinds = kindsIn(data)
		}
	})
	var objs []*manifest.Object
	for _, sc := range scans {
		objs = append(objs, sc.objs...)
	}
	if len(dirs) > 0 {
		for _, in := range inputs.ExpandWithin(bound, dirs, exclude...) {
			if in.Kind == inputs.PlainFile {
				objs = append(objs, inputs.Read(in, nil, nil).Objects...)
			}
		}
	}
	if !hasPolicy(objs) {
		return nil
	}
	kinds := map[string]bool{}
	for _, o := range objs {
		if o.Kind == "ValidatingAdmissionPolicy" || o.Kind == "MutatingAdmissionPolicy" {
			spec, _ := o.Value["spec"].(map[string]any)
			if pk, ok := spec["paramKind"].(map[string]any); ok {
				if k, _ := pk["kind"].(string); k != "" {
					kinds[k] = true
				}
			}
		}
	}
	for i, sc := range scans {
		if slices.ContainsFunc(sc.kinds, func(k string) bool { return kinds[k] }) {
			if data, ok := readRegular(plain[i].Path); ok {
				objs = append(objs, inputs.Read(inputs.Input{Path: plain[i].Path, Data: data}, nil, nil).Objects...)
			}
		}
	}
	return policies{admissionpolicy.New(objs, apivalidation.Types)}
}

// readRegular reads a regular file of the run (the walk that found it kept
// it inside the repository); a pipe named on the command line is left to
// the run, which reads it as a stream.
func readRegular(path string) ([]byte, bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > maxPolicyFile {
		return nil, false
	}
	// Read into a buffer of the file's size: every plain file of the run
	// is read here, and growing a buffer from 512 bytes allocated and
	// copied each of them about twice over.
	var b bytes.Buffer
	b.Grow(int(fi.Size()) + bytes.MinRead)
	_, err = b.ReadFrom(f)
	return b.Bytes(), err == nil
}

// kindsIn are the values of the "kind: X" lines of a YAML text.
func kindsIn(data []byte) []string {
	var out []string
	for rest := data; ; {
		i := bytes.Index(rest, []byte("kind: "))
		if i < 0 {
			return out
		}
		rest = rest[i+len("kind: "):]
		end := bytes.IndexAny(rest, " \r\n#")
		if end < 0 {
			end = len(rest)
		}
		if k := strings.Trim(string(rest[:end]), `"'`); k != "" && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
}

func hasPolicy(objs []*manifest.Object) bool {
	for _, o := range objs {
		if o.Kind == "ValidatingAdmissionPolicy" || o.Kind == "MutatingAdmissionPolicy" {
			return true
		}
	}
	return false
}

// policies are a Set as the engine asks for them.
type policies struct{ *admissionpolicy.Set }

var severityOf = map[admissionpolicy.Action]rules.Severity{admissionpolicy.Deny: rules.Error, admissionpolicy.Warn: rules.Warning, admissionpolicy.Audit: rules.Info}

func (p policies) Judge(ctx context.Context, o *manifest.Object, typed k8sruntime.Object, old []byte) []engine.PolicyVerdict {
	// Admission sees the object with the server's defaults.
	value := o.Value
	if typed != nil {
		typed.GetObjectKind().SetGroupVersionKind(k8sschema.FromAPIVersionAndKind(o.APIVersion, o.Kind))
		if v, ok := apivalidation.Defaulted(typed); ok {
			value = v
		}
	}
	if old != nil {
		var m map[string]any
		if json.Unmarshal(old, &m) == nil {
			if v, ok := apivalidation.DefaultedJSON(k8sschema.FromAPIVersionAndKind(fmt.Sprint(m["apiVersion"]), fmt.Sprint(m["kind"])), old); ok {
				old, _ = json.Marshal(v)
			}
		}
	}
	var out []engine.PolicyVerdict
	for _, v := range p.Set.Judge(ctx, value, old) {
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
		out = append(out, engine.PolicyVerdict{Severity: severityOf[v.Action], Message: msg, Path: v.Path})
	}
	return out
}
