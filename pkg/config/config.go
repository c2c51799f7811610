// Package config reads .klint.yaml: the engine's settings (engine.Config)
// and the webhook's admission section (admission.Config), each owned and
// validated by its package. The file is decoded strictly: an unknown key
// is an error naming the file and line, so a typo never silently turns a
// setting off.
package config

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/klint-dev/klint/pkg/admission"
	"github.com/klint-dev/klint/pkg/boundary"
	"github.com/klint-dev/klint/pkg/engine"
	yamlv3 "go.yaml.in/yaml/v3"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// DefaultFile is looked for in the current directory.
const DefaultFile = ".klint.yaml"

// File is the whole config file.
type File struct {
	engine.Config
	// Admission configures the admission webhook and `klint review`.
	Admission admission.Config `json:"admission,omitempty"`
	// AllowOutside widens the run's boundary (as --allow-outside does),
	// honoured only in a config file outside the repository being linted:
	// a repository's own config cannot widen what klint reads of the
	// machine it runs on.
	AllowOutside []string `json:"allowOutside,omitempty"`

	file  string
	errAt func(msg string, path ...string) error
}

// Widen applies the config to the run's boundary b. A config inside b
// is the linted repository's own word, which may be a stranger's pull
// request: it can narrow or tune what klint does, never widen what it
// reads, so allowOutside there is an error and every path it names
// (policies, crds, baseline) must be inside b. A config outside b was
// given by whoever runs klint: its allowOutside and paths widen b.
func (f *File) Widen(b *boundary.Boundary) error {
	if f.file == "" {
		return nil
	}
	named := append(append(append([]string{}, f.Policies...), f.CRDs...), f.Baseline)
	if !b.Contains(f.file) {
		for i, p := range f.AllowOutside {
			if !filepath.IsAbs(p) {
				f.AllowOutside[i] = filepath.Join(filepath.Dir(f.file), p)
			}
		}
		b.Allow(f.AllowOutside...)
		b.Allow(named...)
		return nil
	}
	if len(f.AllowOutside) > 0 {
		return f.errAt("allowOutside is not honoured in the repository's own config (a pull request could make klint read the machine's files with it); give --allow-outside on the command line instead", "allowOutside")
	}
	for _, k := range []struct {
		key   string
		paths []string
	}{{"policies", f.Policies}, {"crds", f.CRDs}, {"baseline", []string{f.Baseline}}} {
		key := k.key
		for _, p := range k.paths {
			if p == "" {
				continue
			}
			if err := b.Check(p); err != nil {
				return f.errAt(key+": "+err.Error(), key)
			}
		}
	}
	return nil
}

// CheckRules reports a rule the engine does not know named in the
// admission section, at its line. The webhook's reviewer refuses such a
// config; a lint run checks it so CI catches the typo first.
func (f *File) CheckRules(e *engine.Engine) error {
	errAt := f.errAt
	if errAt == nil {
		errAt = func(msg string, _ ...string) error { return fmt.Errorf("config: %s", msg) }
	}
	return f.Admission.CheckRules(e, errAt)
}

// Reviewer builds what the webhook and klint review both answer with:
// the engine for one object at a time (single-object rules, at most
// admission.MaxListed findings per rule) from this config and the policy
// directories, the admission section's rules checked against it, and the
// reviewer. observe, when set, is told each rule's time (the webhook's
// metrics).
func (f *File) Reviewer(ctx context.Context, policies []string, observe func(rule string, d time.Duration)) (*admission.Reviewer, error) {
	e, err := engine.New(ctx, engine.Options{Config: &f.Config, PolicyDirs: policies, SingleObject: true, MaxFindingsPerRule: admission.MaxListed, ObserveRule: observe})
	if err != nil {
		return nil, err
	}
	if err := f.CheckRules(e); err != nil {
		return nil, err
	}
	return admission.NewReviewer(e, f.Admission)
}

// Load reads and checks a config file.
func Load(file string) (*File, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", file, err)
	}
	return Parse(file, data)
}

// Parse checks config bytes; file names them in errors and is the base of
// the relative paths they hold.
func Parse(file string, data []byte) (*File, error) {
	var c File
	j, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, decodeError(file, data, err)
	}
	// Keys match case-sensitively, as Kubernetes objects' do: "failon"
	// is an unknown key, not failOn.
	strict, err := kjson.UnmarshalStrict(j, &c, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err == nil && len(strict) > 0 {
		err = strict[0]
	}
	if err != nil {
		return nil, decodeError(file, data, err)
	}
	errAt := func(msg string, path ...string) error { return at(file, keyLine(data, path), msg) }
	c.errAt, c.file = errAt, file
	if err := c.Config.Resolve(filepath.Dir(file), errAt); err != nil {
		return nil, err
	}
	if err := c.Admission.Check(errAt); err != nil {
		return nil, err
	}
	return &c, nil
}

// decodeError rewords the JSON decoder's errors in the file's terms, at
// the line of the key they are about.
func decodeError(file string, data []byte, err error) error {
	msg := err.Error()
	if i := strings.LastIndex(msg, "json: "); i >= 0 {
		msg = msg[i+len("json: "):]
	}
	if k, ok := strings.CutPrefix(msg, "unknown field "); ok {
		key := strings.Trim(k, `"`)
		return at(file, keyLine(data, strings.Split(key, ".")), fmt.Sprintf("unknown key %q (see the configuration keys in README)", key))
	}
	// "cannot unmarshal string into Go struct field File.Config.rules of
	// type ...": the JSON path, after the Go names of the structs.
	if i := strings.Index(msg, "Go struct field "); strings.HasPrefix(msg, "cannot unmarshal") && i >= 0 {
		var path []string
		for _, p := range strings.Split(strings.Fields(msg[i+len("Go struct field "):])[0], ".") {
			if p != "" && !unicode.IsUpper(rune(p[0])) {
				path = append(path, p)
			}
		}
		return at(file, keyLine(data, path), fmt.Sprintf("%s has the wrong type (%s)", strings.Join(path, "."), strings.SplitN(msg, " into ", 2)[0]))
	}
	// The YAML parser's "yaml: line 3: ..." and "yaml: unmarshal
	// errors:\n  line 2: key "failOn" already set in map".
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return at(file, line, m[2])
	}
	return at(file, 0, msg)
}

var yamlLine = regexp.MustCompile(`line (\d+): (.*)`)

// at names the config file and, when known, the line.
func at(file string, line int, msg string) error {
	if line > 0 {
		return fmt.Errorf("config %s:%d: %s", file, line, msg)
	}
	return fmt.Errorf("config %s: %s", file, msg)
}

// keyLine is the line of the key at path (mapping keys from the root),
// or of the deepest key of it found; 0 when the document does not parse
// or its first key is absent. A path of one key that is not at the root
// is looked for anywhere, first match in document order.
func keyLine(data []byte, path []string) int {
	var root yamlv3.Node
	if yamlv3.Unmarshal(data, &root) != nil || len(root.Content) == 0 || len(path) == 0 {
		return 0
	}
	line, n := 0, root.Content[0]
	for _, key := range path {
		k, v := lookup(n, key)
		if k == nil {
			break
		}
		line, n = k.Line, v
	}
	if line == 0 && len(path) == 1 {
		line = find(root.Content[0], path[0])
	}
	return line
}

func lookup(n *yamlv3.Node, key string) (*yamlv3.Node, *yamlv3.Node) {
	if n.Kind != yamlv3.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i], n.Content[i+1]
		}
	}
	return nil, nil
}

func find(n *yamlv3.Node, key string) int {
	if k, _ := lookup(n, key); k != nil {
		return k.Line
	}
	for _, c := range n.Content {
		if l := find(c, key); l > 0 {
			return l
		}
	}
	return 0
}
