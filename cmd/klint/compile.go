package main

import (
	"encoding/json"
	"fmt"
	"io"
	"reflect"

	"github.com/klint-dev/klint/pkg/admission"
	"github.com/klint-dev/klint/pkg/apivalidation"
	kschema "github.com/klint-dev/klint/pkg/schema"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"
)

func newAdmissionPoliciesCmd(stdout io.Writer) *cobra.Command {
	var config, kubeVersion string
	var policies []string
	cmd := &cobra.Command{
		Use:   "admission-policies",
		Short: "Write klint's rules that judge one object as ValidatingAdmissionPolicies and bindings, for the API server to enforce without a webhook",
		Long: `admission-policies writes, as a YAML stream, a ValidatingAdmissionPolicy and
a ValidatingAdmissionPolicyBinding (admissionregistration.k8s.io/v1) for
every enabled rule that judges one object and is written in CEL (built in,
or a CELRule of --policy),
bound as the webhook acts on its findings (the config's admission section:
actions, denyAt, dryRun, excludedNamespaces), and skipping objects that
carry the rule's suppression annotation. The rules left out are listed,
with the reason, in comments at the top.

kubectl apply -f the output: the API server enforces the rules itself.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(config)
			if err != nil {
				return &exitCodeError{exitError, err}
			}
			kv := kubeVersion
			if kv == "" {
				kv = cfg.KubeVersion
			}
			if err := servesPolicies(kv); err != nil {
				return &exitCodeError{exitError, err}
			}
			rv, err := cfg.Reviewer(cmd.Context(), policies, nil)
			if err != nil {
				return &exitCodeError{exitError, err}
			}
			compiled, left := rv.Policies()
			// Each policy is validated as the API server validates its
			// create: CEL compiled, and its cost estimated against the
			// server's limit. One it would refuse is left out, with why.
			api := apivalidation.New()
			kept := compiled[:0]
			for _, c := range compiled {
				if why := refused(api, c); why != "" {
					left = append(left, admission.NotCompiled{Rule: c.Rule, Reason: "the API server refuses the policy: " + why})
					continue
				}
				kept = append(kept, c)
			}
			compiled = kept
			fixes, fixesLeft := rv.MutatingPolicies()
			if !servesMutatingPolicies(kv) {
				for _, f := range fixes {
					fixesLeft = append(fixesLeft, admission.NotCompiled{Rule: f.Rule, Reason: "MutatingAdmissionPolicy admissionregistration.k8s.io/v1 is served from Kubernetes 1.36; --kube-version " + kv + " does not serve it"})
				}
				fixes = nil
			}
			keptFixes := fixes[:0]
			for _, f := range fixes {
				if why := refusedObjects(api, f.Policy, f.Binding); why != "" {
					fixesLeft = append(fixesLeft, admission.NotCompiled{Rule: f.Rule, Reason: "the API server refuses the mutating policy: " + why})
					continue
				}
				keptFixes = append(keptFixes, f)
			}
			fixes = keptFixes
			fmt.Fprintf(stdout, "# klint %s: %d rules as ValidatingAdmissionPolicies. Left out:\n", buildVersion(), len(compiled))
			for _, l := range left {
				fmt.Fprintf(stdout, "#   %s: %s\n", l.Rule, l.Reason)
			}
			if len(fixesLeft) > 0 {
				fmt.Fprintf(stdout, "# Fixes of admission.mutate not written as MutatingAdmissionPolicies:\n")
				for _, l := range fixesLeft {
					fmt.Fprintf(stdout, "#   %s: %s\n", l.Rule, l.Reason)
				}
			}
			var objs []any
			for _, c := range compiled {
				objs = append(objs, c.Policy, c.Binding)
			}
			for _, f := range fixes {
				objs = append(objs, f.Policy, f.Binding)
			}
			for _, obj := range objs {
				out, err := cleanYAML(obj)
				if err != nil {
					return &exitCodeError{exitError, err}
				}
				fmt.Fprintf(stdout, "---\n%s", out)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "config file (default .klint.yaml, if present)")
	cmd.Flags().StringArrayVar(&policies, "policy", nil, "directory of policies whose CELRules are written too (repeatable)")
	cmd.Flags().StringVar(&kubeVersion, "kube-version", "", "Kubernetes version the cluster runs (default "+kschema.DefaultKubeVersion+", or kubeVersion in the config): from 1.30, which serves admissionregistration.k8s.io/v1 policies")
	return cmd
}

// servesPolicies says whether Kubernetes kv ("" for the default) serves
// ValidatingAdmissionPolicy in admissionregistration.k8s.io/v1 (from
// 1.30; v1beta1 before was off by default).
func servesPolicies(kv string) error {
	if kv == "" {
		return nil
	}
	v, err := kschema.ParseVersion(kv)
	if err != nil {
		return fmt.Errorf("--kube-version: %w", err)
	}
	if v.Major == 1 && v.Minor < 30 {
		return fmt.Errorf("--kube-version %s: ValidatingAdmissionPolicy admissionregistration.k8s.io/v1 is served from Kubernetes 1.30 (its v1beta1 before is off unless the cluster turns it on); use the webhook on %s", v, v)
	}
	return nil
}

// cleanYAML is obj as YAML without the empty creationTimestamp a typed
// object's metadata marshals to.
func cleanYAML(obj any) ([]byte, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if md, ok := m["metadata"].(map[string]any); ok {
		delete(md, "creationTimestamp")
	}
	return yaml.Marshal(m)
}

// refused is why the API server would refuse to create c's policy or
// binding, or "".
func refused(api *apivalidation.Validator, c admission.Compiled) string {
	return refusedObjects(api, c.Policy, c.Binding)
}

// refusedObjects is why the API server would refuse to create one of
// objs (typed admissionregistration.k8s.io/v1 objects), or "".
func refusedObjects(api *apivalidation.Validator, objs ...runtime.Object) string {
	for _, obj := range objs {
		data, err := json.Marshal(obj)
		if err != nil {
			return err.Error()
		}
		gvk := schema.FromAPIVersionAndKind("admissionregistration.k8s.io/v1", kindOf(obj))
		errs, _, _ := api.ValidateCreate(gvk, data)
		if len(errs) > 0 {
			return errs.ToAggregate().Error()
		}
	}
	return ""
}

func kindOf(obj runtime.Object) string {
	t := reflect.TypeOf(obj)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// servesMutatingPolicies says whether Kubernetes kv ("" for the default)
// serves MutatingAdmissionPolicy in admissionregistration.k8s.io/v1 (from
// 1.36).
func servesMutatingPolicies(kv string) bool {
	if kv == "" {
		return true
	}
	v, err := kschema.ParseVersion(kv)
	return err == nil && (v.Major > 1 || v.Minor >= 36)
}
