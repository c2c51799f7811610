package engine

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/klint-dev/klint/pkg/rules"
	yaml "go.yaml.in/yaml/v3"
	syaml "sigs.k8s.io/yaml"
)

// Baseline is a file of accepted findings: a team adopting klint records
// today's findings, and later runs report only new ones. Entries are keyed
// on what does not change when lines move — rule, file, object, field
// path, container — never on line numbers.
type Baseline struct {
	// File is where the baseline was read from (findings about the
	// baseline itself point there).
	File    string          `json:"-" yaml:"-"`
	Version int             `json:"version" yaml:"version"`
	Entries []BaselineEntry `json:"entries" yaml:"entries"`

	lines []int // line of each entry in File
}

// BaselineEntry is one accepted finding. Reason and Expires are the
// team's: --write-baseline keeps them for entries that still match.
type BaselineEntry struct {
	Rule      string         `json:"rule" yaml:"rule"`
	File      string         `json:"file" yaml:"file"`
	Object    baselineObject `json:"object" yaml:"object,flow"`
	Path      string         `json:"path,omitempty" yaml:"path,omitempty"`
	Container string         `json:"container,omitempty" yaml:"container,omitempty"`
	Reason    string         `json:"reason,omitempty" yaml:"reason,omitempty"`
	// Expires (YYYY-MM-DD): from that day the entry no longer hides its
	// finding, and is reported itself.
	Expires string `json:"expires,omitempty" yaml:"expires,omitempty"`
}

// baselineObject is an ObjectRef as a baseline file writes it.
type baselineObject struct {
	APIVersion string `json:"apiVersion,omitempty" yaml:"apiVersion,omitempty"`
	Kind       string `json:"kind,omitempty" yaml:"kind,omitempty"`
	Namespace  string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	Name       string `json:"name,omitempty" yaml:"name,omitempty"`
}

func (o baselineObject) String() string { return rules.ObjectRef(o).String() }

// containerIndex is a container's position in a field path: the key uses
// the container's name instead, so a container added before it keeps the
// entry matching.
var containerIndex = regexp.MustCompile(`((?:^|\.)(?:initContainers|containers|ephemeralContainers))\[\d+\]`)

func (b BaselineEntry) key() string {
	path := b.Path
	if b.Container != "" {
		path = containerIndex.ReplaceAllString(path, "${1}[name="+b.Container+"]")
	}
	return strings.Join([]string{b.Rule, filepath.ToSlash(b.File), b.Object.APIVersion, b.Object.Kind, b.Object.Namespace, b.Object.Name, path, b.Container}, "\x00")
}

// StableKey identifies a finding across runs without its line: rule, file,
// object, field path and container (by name). Moving lines or adding a
// container before it keeps the key; renaming the file or the object
// makes a new one. Baselines and SARIF fingerprints use it.
func StableKey(f rules.Finding) string { return entryOf(f).key() }

func entryOf(f rules.Finding) BaselineEntry {
	file := f.File
	// Paths under the working directory are written relative to it, so
	// that a baseline made in one checkout matches in another.
	if filepath.IsAbs(file) {
		if cwd, err := os.Getwd(); err == nil {
			if rel, err := filepath.Rel(cwd, file); err == nil && !strings.HasPrefix(rel, "..") {
				file = rel
			}
		}
	}
	return BaselineEntry{Rule: f.Rule, File: filepath.ToSlash(file), Object: baselineObject(f.Object), Path: f.Path, Container: f.Container}
}

// ReadBaseline reads a baseline file (YAML or JSON). A missing file is an
// empty baseline only when allowMissing (for --write-baseline).
func ReadBaseline(file string, allowMissing bool) (*Baseline, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		if allowMissing && os.IsNotExist(err) {
			return &Baseline{File: file, Version: 1}, nil
		}
		return nil, fmt.Errorf("baseline %s: %w", file, err)
	}
	b := &Baseline{File: file}
	if err := syaml.UnmarshalStrict(data, b); err != nil {
		return nil, fmt.Errorf("baseline %s: %w", file, err)
	}
	for i, e := range b.Entries {
		if e.Expires != "" {
			if _, err := time.Parse(time.DateOnly, e.Expires); err != nil {
				return nil, fmt.Errorf("baseline %s: entry %d: expires %q is not a date (YYYY-MM-DD)", file, i+1, e.Expires)
			}
		}
	}
	// Entry lines, for findings about the entries themselves.
	var root yaml.Node
	if yaml.Unmarshal(data, &root) == nil && len(root.Content) > 0 {
		n := root.Content[0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "entries" {
				for _, it := range n.Content[i+1].Content {
					b.lines = append(b.lines, it.Line)
				}
			}
		}
	}
	return b, nil
}

// ApplyBaseline takes the findings the baseline accepts out of res (they
// are counted as baselined), reports expired entries (their findings stay)
// and entries that match nothing. Two identical findings need two entries.
func (e *Engine) ApplyBaseline(res *Result, b *Baseline, today time.Time) {
	byKey := map[string][]int{}
	for i, en := range b.Entries {
		byKey[en.key()] = append(byKey[en.key()], i)
	}
	used := make([]bool, len(b.Entries))
	var kept, notes []rules.Finding
	for _, f := range res.Findings {
		k := entryOf(f).key()
		if len(byKey[k]) == 0 {
			kept = append(kept, f)
			continue
		}
		i := byKey[k][0]
		byKey[k] = byKey[k][1:]
		used[i] = true
		en := b.Entries[i]
		if en.Expires != "" {
			if exp, _ := time.Parse(time.DateOnly, en.Expires); !today.Before(exp) {
				kept = append(kept, f)
				notes = append(notes, b.finding(i, "baseline-expired",
					fmt.Sprintf("baseline entry for %s at %s:%d expired on %s; the finding is reported again", f.Rule, f.File, f.Line, en.Expires)))
				continue
			}
		}
		res.Baselined = append(res.Baselined, f)
	}
	for i, en := range b.Entries {
		if !used[i] {
			notes = append(notes, b.finding(i, "baseline-unused",
				fmt.Sprintf("baseline entry for %s in %s (%s) matches no finding; remove it", en.Rule, en.File, en.Object)))
		}
	}
	for _, n := range notes {
		if e.enabled[n.Rule] {
			n.Severity = e.severity[n.Rule]
			kept = append(kept, n)
		}
	}
	res.Findings = kept
	res.recount()
	res.Summary.Baselined = len(res.Baselined)
	sortFindings(res.Findings)
}

func (b *Baseline) finding(i int, rule, msg string) rules.Finding {
	line := 1
	if i < len(b.lines) {
		line = b.lines[i]
	}
	return rules.Finding{Rule: rule, Message: msg, File: b.File, Line: line, Column: 3}
}

// NewBaseline records a run's findings, keeping the reason and expiry of
// the old baseline's entries that still match. Entries are sorted so that
// the file reviews well in a pull request.
func NewBaseline(res *Result, old *Baseline) *Baseline {
	prev := map[string][]BaselineEntry{}
	if old != nil {
		for _, en := range old.Entries {
			prev[en.key()] = append(prev[en.key()], en)
		}
	}
	nb := &Baseline{Version: 1, Entries: []BaselineEntry{}}
	for _, f := range append(append([]rules.Finding{}, res.Findings...), res.Baselined...) {
		en := entryOf(f)
		if p := prev[en.key()]; len(p) > 0 {
			en.Reason, en.Expires = p[0].Reason, p[0].Expires
			prev[en.key()] = p[1:]
		}
		nb.Entries = append(nb.Entries, en)
	}
	sort.SliceStable(nb.Entries, func(i, j int) bool {
		a, b := nb.Entries[i], nb.Entries[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.key() < b.key()
	})
	return nb
}

// Marshal writes the baseline as YAML with a header that says what it is.
func (b *Baseline) Marshal() ([]byte, error) {
	var body bytes.Buffer
	enc := yaml.NewEncoder(&body)
	enc.SetIndent(2)
	if err := enc.Encode(b); err != nil {
		return nil, err
	}
	data := body.Bytes()
	var out bytes.Buffer
	out.WriteString("# klint baseline: findings accepted as they are. `klint --baseline FILE` reports only\n")
	out.WriteString("# findings not listed here. Entries match on rule, file, object, field path and container,\n")
	out.WriteString("# not on lines; give an entry a reason and an expires date (YYYY-MM-DD) to revisit it.\n")
	out.Write(data)
	return out.Bytes(), nil
}
