// Package rules is klint's catalogue: the Rule type and what a rule sees
// (the object with its typed and pod views, the run's indexes, its
// parameters), the Finding every rule's report becomes, and one file per
// built-in rule. pkg/engine runs them; a rule never needs to change it.
package rules

import (
	"fmt"
	"strings"
)

// Severity orders findings; higher is worse.
type Severity int

// Severities, in increasing order.
const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	}
	return "error"
}

// ParseSeverity reads "error", "warning" or "info".
func ParseSeverity(s string) (Severity, error) {
	switch strings.ToLower(s) {
	case "error":
		return Error, nil
	case "warning", "warn":
		return Warning, nil
	case "info":
		return Info, nil
	}
	return 0, fmt.Errorf("severity %q is not one of error, warning, info", s)
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	*s = v
	return err
}

// ObjectRef names the object a finding is about.
type ObjectRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Name       string `json:"name"`
}

func (r ObjectRef) String() string {
	if r.Kind == "" {
		return ""
	}
	n := r.Name
	if n == "" {
		n = "<unnamed>"
	}
	if r.Namespace != "" {
		n = r.Namespace + "/" + n
	}
	return r.Kind + " " + n
}

// PatchOp is one JSON Patch (RFC 6902) operation on an object.
type PatchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// Suppression says why a finding does not count.
type Suppression struct {
	By     string `json:"by"` // "annotation" or "config"
	Reason string `json:"reason"`
}

// Finding is one problem, from any source, resolved to a position.
type Finding struct {
	Rule       string       `json:"rule"`
	Severity   Severity     `json:"severity"`
	Message    string       `json:"message"`
	File       string       `json:"file"`
	Line       int          `json:"line"`
	Column     int          `json:"column"`
	Path       string       `json:"path"`
	Object     ObjectRef    `json:"object"`
	Container  string       `json:"container"`
	Fix        []PatchOp    `json:"fix,omitempty"`
	Suppressed *Suppression `json:"suppressed,omitempty"`
	// Approximate is set when the finding is on a rendered object and
	// the source of its field could not be known exactly.
	Approximate bool `json:"approximate,omitempty"`
	Warn        bool `json:"-"` // the engine's: see Settle
	// Related are other places that explain the finding: the values file
	// line a template took its value from, the line that included a
	// named template.
	Related []RelatedLocation `json:"related,omitempty"`
	// Renders name the chart renders (values sets) or kustomizations that
	// produced the finding; empty for plain files. A finding that several
	// renders produce at the same source line is reported once.
	Renders []string `json:"renders,omitempty"`
	// Template is the chart template that a rendered stream (helm
	// template | klint -) names in its "# Source:" comment for the
	// finding's document.
	Template string `json:"template,omitempty"`
	// Origin is the document the finding's object was read from, as
	// read: klint fix edits that document rather than finding one again
	// by kind and name. The engine sets it; it is empty for a finding on
	// no object.
	Origin Origin `json:"-"`

	// Warn (beside Approximate, sharing its word), Settled and Settle
	// are the engine's while the finding moves through a run, never
	// reported: a Rego warn result (its severity is at most Warning),
	// the severity a rule's Settle gave the finding
	// over the configured one, and its report's Settle until the finding
	// is settled.
	Settled *Severity                       `json:"-"`
	Settle  func(f *Finding, run *Run) bool `json:"-"`
}

// Origin is where an object was read: its file (a chart's or
// kustomization's rendered output for a rendered object), its document
// in the file, and its item in a List (-1 for none). Rendered is set for
// an object a chart or kustomization made, whose file is not the one a
// person edits (a file a kustomization only lists is read as it is).
type Origin struct {
	File      string
	Doc, Item int
	Rendered  bool
}

// RelatedLocation is a second place that explains a finding.
type RelatedLocation struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Message string `json:"message"`
}
