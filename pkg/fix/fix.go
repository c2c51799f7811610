// Package fix applies the fixes rules offer (JSON Patches, the same ones
// the mutating webhook applies) to manifest files in place, keeping every
// byte it does not have to change: comments, key order, quoting,
// indentation and the other documents of the file. It edits text at the
// positions the YAML node tree gives, and never re-marshals an object.
package fix

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/rules"
	yaml "go.yaml.in/yaml/v3"
)

// Edit is a fix to apply to one object of a file.
type Edit struct {
	Doc int // the object's document in the file
	Ops []rules.PatchOp
}

// Apply applies edits to a file's bytes. Operations it cannot apply
// exactly (anything but adding a key to a block mapping) are returned as
// skipped, with the reason; the file is then left as it is for them.
func Apply(data []byte, edits []Edit) (out []byte, skipped []string) {
	docs := manifest.SplitDocuments(data)
	// Insertions, as (line of the file before which to insert, text).
	type insertion struct {
		before int
		text   string
	}
	var ins []insertion
	// Several findings may offer one fix (the securityContext a
	// container lacks): an addition is made (or said to be impossible)
	// once per document, and a different value for a path already added
	// is skipped, as JSON Patch would have it replace the first.
	added := map[string]string{}
	for _, e := range edits {
		if e.Doc < 0 || e.Doc >= len(docs) {
			continue
		}
		d := docs[e.Doc]
		var root yaml.Node
		if err := yaml.Unmarshal(d.Data, &root); err != nil || len(root.Content) == 0 {
			skipped = append(skipped, "document does not parse")
			continue
		}
		lines := bytes.Split(d.Data, []byte("\n"))
		for _, op := range e.Ops {
			key := fmt.Sprintf("%d %s", e.Doc, op.Path)
			value := fmt.Sprintf("%s %#v", op.Op, op.Value)
			if prev, ok := added[key]; ok {
				if prev != value {
					skipped = append(skipped, fmt.Sprintf("%s %s: another fix already adds it", op.Op, op.Path))
				}
				continue
			}
			line, text, err := addition(root.Content[0], lines, op)
			if err != nil {
				added[key] = value // said once
				skipped = append(skipped, fmt.Sprintf("%s %s: %v", op.Op, op.Path, err))
				continue
			}
			added[key] = value
			ins = append(ins, insertion{before: d.FirstLine - 1 + line, text: text})
		}
	}
	if len(ins) == 0 {
		return data, skipped
	}
	fileLines := strings.SplitAfter(string(data), "\n")
	var b strings.Builder
	for i, l := range fileLines {
		for _, in := range ins {
			if in.before == i+1 {
				if strings.HasSuffix(l, "\r\n") { // the file's line ending, not ours
					b.WriteString(strings.ReplaceAll(in.text, "\n", "\r\n"))
				} else {
					b.WriteString(in.text)
				}
			}
		}
		b.WriteString(l)
	}
	return []byte(b.String()), skipped
}

// addition works out the text that adds op's key, and the 1-based line of
// the document it goes before: the parent mapping's first key, at its
// indentation.
func addition(root *yaml.Node, lines [][]byte, op rules.PatchOp) (int, string, error) {
	if op.Op != "add" {
		return 0, "", fmt.Errorf("only additions are applied to files")
	}
	segs := strings.Split(strings.TrimPrefix(op.Path, "/"), "/")
	for i := range segs {
		segs[i] = strings.ReplaceAll(strings.ReplaceAll(segs[i], "~1", "/"), "~0", "~")
	}
	parent := root
	for _, s := range segs[:len(segs)-1] {
		switch parent.Kind {
		case yaml.MappingNode:
			var next *yaml.Node
			for i := 0; i+1 < len(parent.Content); i += 2 {
				if parent.Content[i].Value == s {
					next = parent.Content[i+1]
				}
			}
			if next == nil {
				return 0, "", fmt.Errorf("%s does not exist", s)
			}
			parent = next
		case yaml.SequenceNode:
			n, err := strconv.Atoi(s)
			if err != nil || n >= len(parent.Content) {
				return 0, "", fmt.Errorf("no item %s", s)
			}
			parent = parent.Content[n]
		default:
			return 0, "", fmt.Errorf("%s is not a mapping or list", s)
		}
	}
	key := segs[len(segs)-1]
	if parent.Kind != yaml.MappingNode || parent.Style&yaml.FlowStyle != 0 || len(parent.Content) == 0 {
		return 0, "", fmt.Errorf("the parent is not a block mapping with keys")
	}
	for i := 0; i+1 < len(parent.Content); i += 2 {
		if parent.Content[i].Value == key {
			return 0, "", fmt.Errorf("%s already exists", key)
		}
	}
	// The new key goes before the first key, at its indentation; when
	// the first key shares its line ("- name: web", an item of a list),
	// before the second, which starts its own line at the same column.
	startsLine := func(k *yaml.Node) bool {
		return k.Line-1 < len(lines) && strings.TrimSpace(string(lines[k.Line-1][:min(k.Column-1, len(lines[k.Line-1]))])) == ""
	}
	first := parent.Content[0]
	if !startsLine(first) {
		if len(parent.Content) < 4 || !startsLine(parent.Content[2]) || parent.Content[2].Column != first.Column {
			return 0, "", fmt.Errorf("the mapping starts on a line it shares")
		}
		first = parent.Content[2]
	}
	indent := strings.Repeat(" ", first.Column-1)
	text, err := render(key, op.Value, indent)
	if err != nil {
		return 0, "", err
	}
	return first.Line, text, nil
}

// render writes "key: value" as block YAML at an indentation.
func render(key string, value any, indent string) (string, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(map[string]any{key: value}); err != nil {
		return "", err
	}
	var b strings.Builder
	for _, l := range strings.SplitAfter(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		b.WriteString(indent + strings.TrimSuffix(l, "\n") + "\n")
	}
	return b.String(), nil
}
