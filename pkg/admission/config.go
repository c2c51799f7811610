package admission

import (
	"fmt"
	"maps"
	"slices"

	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/rules"
)

// DefaultExcludedNamespaces are never checked unless
// admission.excludedNamespaces says otherwise: the control plane's own.
var DefaultExcludedNamespaces = []string{"kube-system", "kube-public", "kube-node-lease"}

// Config is the admission section of .klint.yaml: what the webhook (and
// `klint review`) does with the engine's findings. The CLI's lint runs
// ignore it but still check it, so a typo is caught before it ships.
type Config struct {
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

// Check validates the values that need no engine; errAt builds an error
// at the line of the key at path.
func (c *Config) Check(errAt func(msg string, path ...string) error) error {
	if c.DenyAt != "" {
		if _, err := rules.ParseSeverity(c.DenyAt); err != nil {
			return errAt("admission.denyAt: "+err.Error(), "admission", "denyAt")
		}
	}
	for _, id := range slices.Sorted(maps.Keys(c.Actions)) {
		if a := c.Actions[id]; a != "deny" && a != "warn" && a != "off" {
			return errAt(fmt.Sprintf("admission.actions.%s: %q is not one of deny, warn, off", id, a), "admission", "actions", id)
		}
	}
	return nil
}

// CheckRules reports a rule named in actions or mutate that the engine
// does not know.
func (c *Config) CheckRules(e *engine.Engine, errAt func(msg string, path ...string) error) error {
	for _, id := range slices.Sorted(maps.Keys(c.Actions)) {
		if !e.Known(id) {
			return errAt(fmt.Sprintf("admission.actions.%s: no such rule (see klint rules)", id), "admission", "actions", id)
		}
	}
	for _, id := range c.Mutate {
		if !e.Known(id) {
			return errAt(fmt.Sprintf("admission.mutate: no such rule %q (see klint rules)", id), "admission", "mutate")
		}
	}
	return nil
}
