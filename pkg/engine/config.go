package engine

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/klint-dev/klint/pkg/rules"
	"github.com/klint-dev/klint/pkg/schema"
	"github.com/klint-dev/klint/pkg/workload"
)

// Config is the engine's part of .klint.yaml (pkg/config reads the file).
type Config struct {
	// KubeVersion is the Kubernetes version to judge apiVersions against.
	KubeVersion string `json:"kubeVersion,omitempty"`
	// FailOn is the lowest severity that makes klint exit 1.
	FailOn string `json:"failOn,omitempty"`
	// Policies are extra directories of Rego policies.
	Policies []string `json:"policies,omitempty"`
	// CRDs are files or directories of CustomResourceDefinitions that
	// custom resources are validated against (like --crd), relative to
	// the config file's directory.
	CRDs []string `json:"crds,omitempty"`
	// Rules configures rules by ID.
	Rules map[string]RuleConfig `json:"rules,omitempty"`
	// Exemptions exempt objects from rules.
	Exemptions []Exemption `json:"exemptions,omitempty"`
	// Exclude are globs of paths (relative to the working directory) that
	// are not read when directories are searched.
	Exclude []string `json:"exclude,omitempty"`
	// Helm configures how charts are rendered.
	Helm HelmConfig `json:"helm,omitempty"`
	// Baseline is a baseline file (like --baseline), relative to the
	// config file's directory.
	Baseline string `json:"baseline,omitempty"`
	// Base is a git revision to judge the run as the update of (like
	// --base): "origin/main".
	Base string `json:"base,omitempty"`
	// Workloads are custom resource kinds that carry a pod template,
	// beside the built-in ones (Argo Rollout, OpenKruise CloneSet, KEDA
	// ScaledJob, Knative Service): the pod rules check them.
	Workloads []workload.Kind `json:"workloads,omitempty"`
}

// HelmConfig is the helm section of .klint.yaml.
type HelmConfig struct {
	// ValuesSets is the glob (relative to each chart) of values files the
	// chart is rendered with in turn, beside its defaults (default
	// ci/*-values.yaml, the chart-testing convention).
	ValuesSets string `json:"valuesSets,omitempty"`
}

// RuleConfig turns a rule off, changes its severity or sets parameters;
// Suppressible false makes suppressions of it (annotations, exemptions)
// not count.
type RuleConfig struct {
	Enabled      *bool          `json:"enabled,omitempty"`
	Severity     string         `json:"severity,omitempty"`
	Params       map[string]any `json:"params,omitempty"`
	Suppressible *bool          `json:"suppressible,omitempty"`
}

// Exemption exempts the objects it matches from some rules (or all, when
// Rules is empty). Kind, Namespace and Name match exactly or as shell
// patterns ("web-*"); an empty one matches everything. A reason is
// required.
type Exemption struct {
	Kind      string   `json:"kind,omitempty"`
	Namespace string   `json:"namespace,omitempty"`
	Name      string   `json:"name,omitempty"`
	Rules     []string `json:"rules,omitempty"`
	Reason    string   `json:"reason"`
}

// Resolve validates the section and makes its paths absolute: they are
// relative to dir, the config file's directory. errAt builds an error at
// the line of the key at path.
func (c *Config) Resolve(dir string, errAt func(msg string, path ...string) error) error {
	if c.FailOn != "" {
		if _, err := rules.ParseSeverity(c.FailOn); err != nil {
			return errAt("failOn: "+err.Error(), "failOn")
		}
	}
	for i, w := range c.Workloads {
		if w.Kind == "" || w.Template == "" {
			return errAt(fmt.Sprintf("workloads[%d]: kind and template (the pod template's field path, such as spec.template) are required", i), "workloads")
		}
	}
	if c.KubeVersion != "" {
		v, err := schema.ParseVersion(c.KubeVersion)
		if err == nil {
			err = v.Known()
		}
		if err != nil {
			return errAt("kubeVersion: "+err.Error(), "kubeVersion")
		}
	}
	for _, list := range []struct {
		key   string
		paths []string
	}{{"policies", c.Policies}, {"crds", c.CRDs}} {
		for i, p := range list.paths {
			if !filepath.IsAbs(p) {
				list.paths[i] = filepath.Join(dir, p)
			}
			// Said here, at the key's line, rather than by the loader
			// later under a flag's name.
			if _, err := os.Stat(list.paths[i]); err != nil {
				return errAt(fmt.Sprintf("%s: %s does not exist (relative paths are relative to the config file's directory)", list.key, p), list.key)
			}
		}
	}
	for i, e := range c.Exemptions {
		if strings.TrimSpace(e.Reason) == "" {
			return errAt(fmt.Sprintf("exemptions[%d] has no reason; say why the objects are exempt", i), "exemptions")
		}
		for _, p := range []string{e.Kind, e.Namespace, e.Name} {
			if _, err := path.Match(p, ""); err != nil {
				return errAt(fmt.Sprintf("exemptions[%d]: bad pattern %q", i, p), "exemptions")
			}
		}
	}
	if c.Baseline != "" && !filepath.IsAbs(c.Baseline) {
		c.Baseline = filepath.Join(dir, c.Baseline)
	}
	ids := make([]string, 0, len(c.Rules))
	for id := range c.Rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if sev := c.Rules[id].Severity; sev != "" {
			if _, err := rules.ParseSeverity(sev); err != nil {
				return errAt(fmt.Sprintf("rules.%s: %v", id, err), "rules", id)
			}
		}
	}
	return nil
}

func (e Exemption) matches(o rules.ObjectRef, rule string) bool {
	if len(e.Rules) > 0 {
		found := false
		for _, r := range e.Rules {
			found = found || r == rule
		}
		if !found {
			return false
		}
	}
	return glob(e.Kind, o.Kind) && glob(e.Namespace, o.Namespace) && glob(e.Name, o.Name)
}

func glob(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	ok, _ := path.Match(pattern, s)
	return ok
}
