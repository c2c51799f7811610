package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"slices"
	"strings"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"

	"github.com/klint-dev/klint/pkg/admission"
	"github.com/klint-dev/klint/pkg/admissionpolicy"
	"github.com/klint-dev/klint/pkg/apivalidation"
	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/rules"
	k8sschema "k8s.io/apimachinery/pkg/runtime/schema"
)

// Every rule klint admission-policies compiles gives, as a policy
// evaluated by the API server's own admission-policy code, the verdict
// the CLI gives on every object of the rule's fixtures (outside the
// namespaces admission leaves alone): a finding of the rule exactly when
// the policy fails, with the binding's action the webhook's (Deny for an
// error, Warn below).
func TestCompiledPoliciesAgreeWithTheCLI(t *testing.T) {
	// Every rule said in CEL, the ones off by default too.
	cfg := filepath.Join(t.TempDir(), "klint.yaml")
	var conf strings.Builder
	conf.WriteString("rules:\n")
	// Parameters other than the defaults, which the policies' variables
	// carry: good.yaml's ndots 1 now fails, and so does its registry.
	params := map[string]string{"dnsconfig-ndots": ", params: {max: 0}", "deprecated-registry": ", params: {registries: [registry.k8s.io/]}"}
	for _, r := range rules.Builtin() {
		if r.CEL != nil && r.CEL.Expression != "" {
			conf.WriteString("  " + r.ID + ": {enabled: true" + params[r.ID] + "}\n")
		}
	}
	os.WriteFile(cfg, []byte(conf.String()), 0o644)
	code, out, errOut := klint(t, "", "admission-policies", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	generated := inputs.Read(inputs.Input{Path: "policies.yaml", Data: []byte(out)}, nil, nil).Objects
	set := admissionpolicy.New(generated, nil)
	actions := map[string]string{}
	for _, o := range generated {
		if o.Kind == "ValidatingAdmissionPolicyBinding" {
			spec := o.Value["spec"].(map[string]any)
			actions[spec["policyName"].(string)] = fmt.Sprint(spec["validationActions"])
		}
	}
	if set.Len() < 4 || set.Len()*2 != len(generated) {
		t.Fatalf("%d policies, %d objects:\n%s", set.Len(), len(generated), out)
	}
	// Every object of every fixture, judged by the CLI in one run.
	_, out, _ = klint(t, "", "-o", "json", "--config", cfg, "../../testdata/manifests")
	var rep struct {
		Findings []struct {
			Rule, File string
			Object     struct{ Kind, Namespace, Name string }
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	flagged := map[string]bool{}
	for _, f := range rep.Findings {
		flagged[f.Rule+" "+f.File+" "+f.Object.Kind+" "+f.Object.Namespace+"/"+f.Object.Name] = true
	}
	var compiled []*rules.Rule
	for _, r := range rules.Builtin() {
		if r.CEL == nil || r.CEL.Expression == "" {
			continue
		}
		compiled = append(compiled, r)
		want := "[Warn]"
		if r.Severity == rules.Error {
			want = "[Deny]"
		}
		if name := admission.PolicyPrefix + r.ID; actions[name] != want {
			t.Errorf("%s is bound with %s, want %s", name, actions[name], want)
		}
	}
	compared, failed := 0, 0
	for _, in := range inputs.Expand([]string{"../../testdata/manifests"}) {
		if in.Kind != inputs.PlainFile {
			continue
		}
		for _, o := range inputs.Read(in, nil, nil).Objects {
			md, _ := o.Value["metadata"].(map[string]any)
			ns, _ := md["namespace"].(string)
			name, _ := md["name"].(string)
			if slices.Contains(admission.DefaultExcludedNamespaces, ns) || !set.Match(o.APIVersion, o.Kind) {
				continue
			}
			data, _ := json.Marshal(o.Value)
			value, ok := apivalidation.DefaultedJSON(k8sschema.FromAPIVersionAndKind(o.APIVersion, o.Kind), data)
			if !ok {
				continue // not an object the API server would admit
			}
			verdicts := set.Judge(context.Background(), value, nil)
			for _, r := range compiled {
				policy := admission.PolicyPrefix + r.ID
				fails := false
				for _, v := range verdicts {
					fails = fails || v.Policy == policy
					if v.Policy == policy && strings.Contains(v.Message, "resulted in error") {
						t.Errorf("%s on %s: %s", policy, in.Path, v.Message)
					}
				}
				if cli := flagged[r.ID+" "+in.Path+" "+o.Kind+" "+ns+"/"+name]; fails != cli {
					t.Errorf("%s, %s %s/%s: the policy %s fails it %v, the CLI flags it %v", in.Path, o.Kind, ns, name, policy, fails, cli)
				}
				compared++
				if fails {
					failed++
				}
			}
		}
	}
	if failed == 0 {
		t.Error("no fixture object fails a compiled policy")
	}
	for _, param := range []string{"dnsconfig-ndots good.yaml", "deprecated-registry good.yaml"} {
		id, file, _ := strings.Cut(param, " ")
		if !slices.ContainsFunc(rep.Findings, func(f struct {
			Rule, File string
			Object     struct{ Kind, Namespace, Name string }
		}) bool {
			return f.Rule == id && strings.HasSuffix(f.File, id+"/"+file)
		}) {
			t.Errorf("with its parameter set, %s flags nothing in its %s", id, file)
		}
	}
	t.Logf("%d verdicts (fixture object × compiled rule) alike, %d of them failures", compared, failed)
}

// A policy the API server would refuse (an expression that does not
// compile, or over the cost limit) is left out of klint
// admission-policies, with the server's reason.
func TestRefusedPolicyIsLeftOut(t *testing.T) {
	cfg, err := loadConfig("")
	if err != nil {
		t.Fatal(err)
	}
	rv, err := cfg.Reviewer(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	compiled, _ := rv.Policies()
	if len(compiled) == 0 {
		t.Fatal("nothing compiled")
	}
	api := apivalidation.New()
	if why := refused(api, compiled[0]); why != "" {
		t.Fatalf("%s refused: %s", compiled[0].Rule, why)
	}
	broken := compiled[0]
	p := broken.Policy.DeepCopy()
	p.Spec.Validations[0].Expression = "variables.containers.all(c, c.image >"
	broken.Policy = p
	if why := refused(api, broken); !strings.Contains(why, "compilation failed") {
		t.Errorf("a policy that does not compile: %q", why)
	}
}

// A cluster older than 1.30 does not serve the policies klint writes;
// one older than 1.34 no mutating policy.
func TestAdmissionPoliciesNeedKubernetes130(t *testing.T) {
	code, out, errOut := klint(t, "", "admission-policies", "--kube-version", "1.29")
	if code != 2 || out != "" || !strings.Contains(errOut, "is served from Kubernetes 1.30") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	cfg := filepath.Join(t.TempDir(), "klint.yaml")
	os.WriteFile(cfg, []byte("admission:\n  mutate: [workload-selector-mismatch]\n"), 0o644)
	code, out, errOut = klint(t, "", "admission-policies", "--config", cfg, "--kube-version", "1.30")
	if code != 0 || strings.Contains(out, "kind: MutatingAdmissionPolicy") || !strings.Contains(out, "#   workload-selector-mismatch: MutatingAdmissionPolicy is served from Kubernetes 1.34 (admissionregistration.k8s.io/v1beta1, v1 from 1.36); --kube-version 1.30 does not serve it") {
		t.Errorf("1.30: exit %d, %s\n%s", code, errOut, out)
	}
	// 1.34 and 1.35 serve them in v1beta1 (when the cluster turns them
	// on), which the API server's own mutating policy code applies alike.
	for version, apiVersion := range map[string]string{"1.35": "admissionregistration.k8s.io/v1beta1", "1.36": "admissionregistration.k8s.io/v1"} {
		_, out, _ := klint(t, "", "admission-policies", "--config", cfg, "--kube-version", version)
		objs := inputs.Read(inputs.Input{Path: "p.yaml", Data: []byte(out)}, nil, nil).Objects
		var mutating []string
		for _, o := range objs {
			if strings.HasPrefix(o.Kind, "MutatingAdmissionPolicy") {
				mutating = append(mutating, o.APIVersion+" "+o.Kind)
			}
		}
		if want := []string{apiVersion + " MutatingAdmissionPolicy", apiVersion + " MutatingAdmissionPolicyBinding"}; !slices.Equal(mutating, want) {
			t.Errorf("%s: %q, want %q", version, mutating, want)
		}
		if m := admissionpolicy.NewMutator(objs, nil); m.Len() != 1 {
			t.Errorf("%s: %d mutating policies read back", version, m.Len())
		}
		if beta := strings.Contains(out, "--feature-gates=MutatingAdmissionPolicy=true"); beta != (version == "1.35") {
			t.Errorf("%s: says the beta API must be turned on: %v", version, beta)
		}
	}
}

// The fixes written as MutatingAdmissionPolicies make, under the API
// server's own mutating policy code, the object the mutating webhook
// makes with the same fixes (klint fix writes their additions to files;
// a replacement, such as a pull policy changed to Always, it reports):
// on every object of the fix rules' fixtures, the policies applied to the
// object as the server sees it (with its defaults) give the webhook's
// mutation of the object, with the same defaults.
func TestCompiledFixesAgreeWithTheMutatingWebhook(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "klint.yaml")
	os.WriteFile(cfg, []byte("admission:\n  mutate: [image-pull-policy, workload-selector-mismatch]\nrules:\n  image-pull-policy: {enabled: true}\n"), 0o644)
	code, out, errOut := klint(t, "", "admission-policies", "--config", cfg)
	if code != 0 || strings.Count(out, "kind: MutatingAdmissionPolicy\n") != 2 {
		t.Fatalf("exit %d, %s\n%s", code, errOut, out)
	}
	mutator := admissionpolicy.NewMutator(inputs.Read(inputs.Input{Path: "p.yaml", Data: []byte(out)}, nil, nil).Objects, apivalidation.Types)
	conf, err := loadConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rv, err := conf.Reviewer(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defaulted := func(o *manifest.Object) map[string]any {
		data, _ := json.Marshal(o.Value)
		v, ok := apivalidation.DefaultedJSON(k8sschema.FromAPIVersionAndKind(o.APIVersion, o.Kind), data)
		if !ok {
			return nil
		}
		return v
	}
	// webhook is the object the mutating webhook makes of o.
	webhook := func(o *manifest.Object) *manifest.Object {
		raw, _ := json.Marshal(o.Value)
		gvk := k8sschema.FromAPIVersionAndKind(o.APIVersion, o.Kind)
		d := rv.Mutate(context.Background(), &admissionv1.AdmissionRequest{UID: "1", Kind: metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind},
			Namespace: "shop", Operation: admissionv1.Create, Object: k8sruntime.RawExtension{Raw: raw}})
		if d.Patch == nil {
			return o
		}
		p, err := jsonpatch.DecodePatch(d.Patch)
		if err != nil {
			t.Fatal(err)
		}
		mutated, err := p.Apply(raw)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		json.Unmarshal(mutated, &v)
		return &manifest.Object{APIVersion: o.APIVersion, Kind: o.Kind, Value: v}
	}
	compared, changed := 0, 0
	for _, rule := range []string{"image-pull-policy", "workload-selector-mismatch"} {
		files, _ := filepath.Glob(filepath.Join("../../testdata/manifests", rule, "*.yaml"))
		for _, file := range files {
			for _, o := range inputs.Read(inputs.Input{Path: file}, nil, nil).Objects {
				in, want := defaulted(o), defaulted(webhook(o))
				if in == nil || want == nil {
					continue
				}
				got, err := mutator.Mutate(context.Background(), in, nil)
				if err != nil {
					t.Errorf("%s %s: %v", file, o.Kind, err)
					continue
				}
				gotJSON, _ := json.Marshal(got)
				wantJSON, _ := json.Marshal(want)
				if string(gotJSON) != string(wantJSON) {
					t.Errorf("%s, %s: the mutating policies make\n%s\nthe webhook makes\n%s", file, o.Kind, gotJSON, wantJSON)
				}
				inJSON, _ := json.Marshal(in)
				if string(inJSON) != string(wantJSON) {
					changed++
				}
				compared++
			}
		}
	}
	if changed == 0 {
		t.Error("no fixture object is changed by a fix")
	}
	t.Logf("%d fixture objects, %d changed by the fixes, alike", compared, changed)
}
