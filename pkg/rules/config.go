package rules

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/klint-dev/klint/pkg/schema"
	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"
)

// DefaultConfigFile is looked for in the current directory.
const DefaultConfigFile = ".klint.yaml"

// Config is the .klint.yaml file.
type Config struct {
	// KubeVersion is the Kubernetes version to judge apiVersions against.
	KubeVersion string `json:"kubeVersion,omitempty"`
	// FailOn is the lowest severity that makes klint exit 1.
	FailOn string `json:"failOn,omitempty"`
	// Policies are extra directories of Rego policies.
	Policies []string `json:"policies,omitempty"`
	// Rules configures rules by ID.
	Rules map[string]RuleConfig `json:"rules,omitempty"`
	// Exemptions exempt objects from rules.
	Exemptions []Exemption `json:"exemptions,omitempty"`
	// Admission configures the admission webhook.
	Admission AdmissionConfig `json:"admission,omitempty"`
	// Exclude are globs of paths (relative to the working directory) that
	// are not read when directories are searched.
	Exclude []string `json:"exclude,omitempty"`
	// Helm configures how charts are rendered.
	Helm HelmConfig `json:"helm,omitempty"`
	// Baseline is a baseline file (like --baseline), relative to the
	// config file's directory.
	Baseline string `json:"baseline,omitempty"`
}

// HelmConfig is the helm section of .klint.yaml.
type HelmConfig struct {
	// ValuesSets is the glob (relative to each chart) of values files the
	// chart is rendered with in turn, beside its defaults (default
	// ci/*-values.yaml, the chart-testing convention).
	ValuesSets string `json:"valuesSets,omitempty"`
}

// DefaultExcludedNamespaces are never checked in admission unless
// admission.excludedNamespaces says otherwise: the control plane's own.
var DefaultExcludedNamespaces = []string{"kube-system", "kube-public", "kube-node-lease"}

// AdmissionConfig is the admission section of .klint.yaml.
type AdmissionConfig struct {
	// DenyAt is the lowest severity that denies a request (default error);
	// findings below it are returned as warnings.
	DenyAt string `json:"denyAt,omitempty"`
	// DryRun (audit mode) never denies: every finding is a warning.
	DryRun bool `json:"dryRun,omitempty"`
	// Actions override the decision per rule: deny, warn or off.
	Actions map[string]string `json:"actions,omitempty"`
	// ExcludedNamespaces are never checked (default: kube-system,
	// kube-public, kube-node-lease).
	ExcludedNamespaces []string `json:"excludedNamespaces,omitempty"`
	// Mutate lists the rules whose fixes the mutating webhook applies.
	Mutate []string `json:"mutate,omitempty"`
}

// RuleConfig turns a rule off, changes its severity or sets parameters.
type RuleConfig struct {
	Enabled  *bool          `json:"enabled,omitempty"`
	Severity string         `json:"severity,omitempty"`
	Params   map[string]any `json:"params,omitempty"`
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

// LoadConfig reads a config file strictly: an unknown key is an error that
// names the file, so a typo never silently turns a setting off.
func LoadConfig(file string) (*Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", file, err)
	}
	return ParseConfig(file, data)
}

// configError names the config file and, when known, the line.
func configError(file string, line int, msg string) error {
	if line > 0 {
		return fmt.Errorf("config %s:%d: %s", file, line, msg)
	}
	return fmt.Errorf("config %s: %s", file, msg)
}

// keyLine is the line of the first mapping key named key in a YAML
// document, or 0.
func keyLine(data []byte, key string) int {
	var root yamlv3.Node
	if yamlv3.Unmarshal(data, &root) != nil {
		return 0
	}
	var find func(n *yamlv3.Node) int
	find = func(n *yamlv3.Node) int {
		if n.Kind == yamlv3.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == key {
					return n.Content[i].Line
				}
			}
		}
		for _, c := range n.Content {
			if l := find(c); l > 0 {
				return l
			}
		}
		return 0
	}
	return find(&root)
}

// ParseConfig parses config bytes; file is used in errors.
func ParseConfig(file string, data []byte) (*Config, error) {
	var c Config
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		msg := err.Error()
		if i := strings.LastIndex(msg, "json: "); i >= 0 {
			msg = msg[i+len("json: "):]
		}
		line := 0
		if k, ok := strings.CutPrefix(msg, "unknown field "); ok {
			key := strings.Trim(k, `"`)
			line = keyLine(data, key)
			msg = fmt.Sprintf("unknown key %q (see the configuration keys in README)", key)
		} else if strings.HasPrefix(msg, "cannot unmarshal") {
			// "cannot unmarshal string into Go struct field Config.rules of type ..."
			if i := strings.Index(msg, "Go struct field "); i >= 0 {
				field := strings.Fields(msg[i+len("Go struct field "):])[0]
				parts := strings.Split(field, ".")
				line = keyLine(data, parts[len(parts)-1])
				msg = fmt.Sprintf("%s has the wrong type (%s)", strings.Join(parts[1:], "."), strings.SplitN(msg, " into ", 2)[0])
			}
		}
		return nil, configError(file, line, msg)
	}
	if c.FailOn != "" {
		if _, err := ParseSeverity(c.FailOn); err != nil {
			return nil, configError(file, keyLine(data, "failOn"), "failOn: "+err.Error())
		}
	}
	if c.KubeVersion != "" {
		if _, err := schema.ParseVersion(c.KubeVersion); err != nil {
			return nil, configError(file, keyLine(data, "kubeVersion"), "kubeVersion: "+err.Error())
		}
	}
	// Paths in the config are relative to the config file.
	for i, p := range c.Policies {
		if !filepath.IsAbs(p) {
			c.Policies[i] = filepath.Join(filepath.Dir(file), p)
		}
	}
	for i, e := range c.Exemptions {
		if strings.TrimSpace(e.Reason) == "" {
			return nil, fmt.Errorf("config %s: exemptions[%d] has no reason; say why the objects are exempt", file, i)
		}
		for _, p := range []string{e.Kind, e.Namespace, e.Name} {
			if _, err := path.Match(p, ""); err != nil {
				return nil, fmt.Errorf("config %s: exemptions[%d]: bad pattern %q", file, i, p)
			}
		}
	}
	if c.Baseline != "" && !filepath.IsAbs(c.Baseline) {
		c.Baseline = filepath.Join(filepath.Dir(file), c.Baseline)
	}
	for id, a := range c.Admission.Actions {
		if a != "deny" && a != "warn" && a != "off" {
			return nil, fmt.Errorf("config %s: admission.actions.%s: %q is not one of deny, warn, off", file, id, a)
		}
	}
	for id, rc := range c.Rules {
		if rc.Severity != "" {
			if _, err := ParseSeverity(rc.Severity); err != nil {
				return nil, fmt.Errorf("config %s: rules.%s: %w", file, id, err)
			}
		}
	}
	return &c, nil
}

func (e Exemption) matches(o ObjectRef, rule string) bool {
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
