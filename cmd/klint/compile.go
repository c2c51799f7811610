package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/klint-dev/klint/pkg/admission"
	"github.com/klint-dev/klint/pkg/apivalidation"
	kschema "github.com/klint-dev/klint/pkg/schema"
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
			fmt.Fprintf(stdout, "# klint %s: %d rules as ValidatingAdmissionPolicies. Left out:\n", buildVersion(), len(compiled))
			for _, l := range left {
				fmt.Fprintf(stdout, "#   %s: %s\n", l.Rule, l.Reason)
			}
			for _, c := range compiled {
				for _, obj := range []any{c.Policy, c.Binding} {
					out, err := cleanYAML(obj)
					if err != nil {
						return &exitCodeError{exitError, err}
					}
					fmt.Fprintf(stdout, "---\n%s", out)
				}
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
	for _, obj := range []any{c.Policy, c.Binding} {
		data, err := json.Marshal(obj)
		if err != nil {
			return err.Error()
		}
		gvk := schema.FromAPIVersionAndKind("admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy")
		if obj == any(c.Binding) {
			gvk.Kind = "ValidatingAdmissionPolicyBinding"
		}
		errs, _, _ := api.ValidateCreate(gvk, data)
		if len(errs) > 0 {
			return errs.ToAggregate().Error()
		}
	}
	return ""
}
