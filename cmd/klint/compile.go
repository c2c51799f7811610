package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/klint-dev/klint/pkg/admission"
	"github.com/klint-dev/klint/pkg/apivalidation"
	kschema "github.com/klint-dev/klint/pkg/schema"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

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
			mapVersion := mutatingPolicyVersion(kv)
			if mapVersion == "" {
				for _, f := range fixes {
					fixesLeft = append(fixesLeft, admission.NotCompiled{Rule: f.Rule, Reason: "MutatingAdmissionPolicy is served from Kubernetes 1.34 (admissionregistration.k8s.io/v1beta1, v1 from 1.36); --kube-version " + kv + " does not serve it"})
				}
				fixes = nil
			}
			var fixObjs []runtime.Object
			for _, f := range fixes {
				objs := []runtime.Object{f.Policy, f.Binding}
				if mapVersion != "v1" {
					if objs, err = inVersion(mapVersion, objs...); err != nil {
						return &exitCodeError{exitError, err}
					}
				}
				if why := refusedObjects(api, objs...); why != "" {
					fixesLeft = append(fixesLeft, admission.NotCompiled{Rule: f.Rule, Reason: "the API server refuses the mutating policy: " + why})
					continue
				}
				fixObjs = append(fixObjs, objs...)
			}
			fmt.Fprintf(stdout, "# klint %s: %d rules as ValidatingAdmissionPolicies. Left out:\n", buildVersion(), len(compiled))
			for _, l := range left {
				fmt.Fprintf(stdout, "#   %s: %s\n", l.Rule, l.Reason)
			}
			if len(fixObjs) > 0 && mapVersion != "v1" {
				fmt.Fprintf(stdout, "# The MutatingAdmissionPolicies are admissionregistration.k8s.io/%s, as Kubernetes %s serves them: off unless the API server runs with --feature-gates=MutatingAdmissionPolicy=true and --runtime-config=admissionregistration.k8s.io/%s=true.\n", mapVersion, kv, mapVersion)
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
			for _, o := range fixObjs {
				objs = append(objs, o)
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
		gvk := obj.GetObjectKind().GroupVersionKind()
		errs, _, _ := api.ValidateCreate(gvk, data)
		if len(errs) > 0 {
			return errs.ToAggregate().Error()
		}
	}
	return ""
}

// mutatingPolicyVersion is the admissionregistration.k8s.io version in
// which Kubernetes kv ("" for the default) serves MutatingAdmissionPolicy:
// v1 from 1.36, v1beta1 in 1.34 and 1.35 (off by default), "" before
// (alpha only).
func mutatingPolicyVersion(kv string) string {
	if kv == "" {
		return "v1"
	}
	v, err := kschema.ParseVersion(kv)
	switch {
	case err != nil:
		return ""
	case v.Major > 1 || v.Minor >= 36:
		return "v1"
	case v.Minor >= 34:
		return "v1beta1"
	}
	return ""
}

// inVersion is objs (admissionregistration.k8s.io/v1 objects) in another
// version of the group whose kinds have the same fields, as unstructured
// objects.
func inVersion(version string, objs ...runtime.Object) ([]runtime.Object, error) {
	out := make([]runtime.Object, 0, len(objs))
	for _, obj := range objs {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{Object: m}
		u.SetAPIVersion("admissionregistration.k8s.io/" + version)
		out = append(out, u)
	}
	return out, nil
}
