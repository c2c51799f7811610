package manifest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// MaxFileSize is the largest input klint reads; larger files are reported
// and skipped rather than risking the memory of a CI runner or the webhook.
const MaxFileSize = 32 << 20

// aliasBudgetPerByte bounds how many nodes a document may expand to through
// aliases, relative to its size. Ordinary manifests visit well under one
// node per byte; a billion-laughs document needs millions per byte.
const aliasBudgetPerByte = 16

// Parse reads one file's bytes into objects. Problems (syntax errors,
// duplicate keys, empty documents…) come back beside the objects that
// could still be read: a broken document never hides the others.
func Parse(file string, data []byte) ([]*Object, []Problem) {
	if len(data) > MaxFileSize {
		return nil, []Problem{{Kind: TooLarge, File: file, Pos: Position{1, 1},
			Message: fmt.Sprintf("file is larger than the %d MiB limit; split it into smaller files", MaxFileSize>>20)}}
	}
	if u, ok := fromUTF16(data); ok {
		data = u
	}
	if p, bad := checkText(file, data); bad {
		return nil, []Problem{p}
	}
	var objs []*Object
	var probs []Problem
	seen := map[ProblemKind]int{}
	var hidden []Problem // the first problem of each kind not shown
	report := func(p Problem) {
		seen[p.Kind]++
		if seen[p.Kind] <= maxSameProblem {
			probs = append(probs, p)
		} else if seen[p.Kind] == maxSameProblem+1 {
			hidden = append(hidden, p)
		}
	}
	docs := splitDocuments(data)
	for i, d := range docs {
		o, p, empty := parseDocument(file, i, d)
		// A leading "---" before the first document, or a trailing one at
		// the end of a file, is normal style: only an empty document
		// between two others is worth a word.
		if empty && i > 0 && i < len(docs)-1 {
			report(Problem{Kind: EmptyDocument, File: file, Pos: Position{d.firstLine, 1},
				Message: "empty document between two \"---\" separators; remove the extra separator"})
		}
		objs = append(objs, o...)
		for _, x := range p {
			report(x)
		}
	}
	// A file that repeats one problem thousands of times gets the first
	// few and a count, in the order of the file.
	for _, first := range hidden {
		first.Message = fmt.Sprintf("%d more like this in this file from here on, not shown one by one: %s", seen[first.Kind]-maxSameProblem, first.Message)
		probs = append(probs, first)
	}
	return objs, probs
}

// maxSameProblem is how many problems of one kind a file reports before
// counting the rest.
const maxSameProblem = 10

// blankDocument reports whether a document holds nothing but its
// separator, blank lines and comments, without parsing it.
func blankDocument(d document) bool {
	data := d.data
	if d.explicit {
		end := bytes.IndexByte(data, '\n')
		if end < 0 {
			end = len(data)
		}
		rest := bytes.TrimSpace(data[3:end])
		if len(rest) > 0 && rest[0] != '#' {
			return false
		}
		data = data[end:]
	}
	for len(data) > 0 {
		end := bytes.IndexByte(data, '\n')
		if end < 0 {
			end = len(data)
		}
		line := bytes.TrimSpace(data[:end])
		if len(line) > 0 && line[0] != '#' {
			return false
		}
		data = data[min(end+1, len(data)):]
	}
	return true
}

// fromUTF16 decodes text with a UTF-16 byte-order mark (as Windows tools
// save it) to UTF-8; lines and columns are the same.
func fromUTF16(data []byte) ([]byte, bool) {
	if len(data) < 2 || len(data)%2 != 0 {
		return nil, false
	}
	var order binary.ByteOrder
	switch {
	case data[0] == 0xFF && data[1] == 0xFE:
		order = binary.LittleEndian
	case data[0] == 0xFE && data[1] == 0xFF:
		order = binary.BigEndian
	default:
		return nil, false
	}
	units := make([]uint16, 0, len(data)/2-1)
	for i := 2; i+1 < len(data); i += 2 {
		units = append(units, order.Uint16(data[i:]))
	}
	return []byte(string(utf16.Decode(units))), true
}

// looksUTF16 is text whose every other byte is NUL: ASCII in UTF-16.
func looksUTF16(data []byte) bool {
	n := min(len(data), 64)
	if n < 4 {
		return false
	}
	even, odd := 0, 0
	for i := range n {
		if data[i] == 0 {
			if i%2 == 0 {
				even++
			} else {
				odd++
			}
		}
	}
	return even >= n/2-1 || odd >= n/2-1
}

// checkText rejects binary files and invalid UTF-8 with the line of the
// first bad byte. (UTF-16 with a byte-order mark has been decoded by
// then; without one, or UTF-32, it is rejected here with a word on why.)
func checkText(file string, data []byte) (Problem, bool) {
	bad := bytes.IndexByte(data, 0)
	what := "a NUL byte; this looks like a binary file, not a manifest"
	if bad >= 0 && looksUTF16(data) {
		what = "NUL bytes between characters: UTF-16 text without a byte-order mark; save the file as UTF-8"
	}
	if bad < 0 && !utf8.Valid(data) {
		for i := 0; i < len(data); {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n <= 1 {
				bad = i
				break
			}
			i += n
		}
		what = "bytes that are not valid UTF-8; save the file as UTF-8"
	}
	if bad < 0 {
		return Problem{}, false
	}
	line := 1 + bytes.Count(data[:bad], []byte{'\n'})
	col := bad - bytes.LastIndexByte(data[:bad], '\n')
	return Problem{Kind: NotText, File: file, Pos: Position{line, col}, Message: "file contains " + what}, true
}

// document is one YAML document's bytes and the line it starts on.
type document struct {
	data      []byte
	firstLine int // 1-based line of data[0] in the file
	explicit  bool
}

// splitDocuments cuts a YAML stream at "---" lines. Doing this ourselves
// (rather than letting the parser iterate) means a syntax error ends only
// its own document. A "---" at column 0 cannot be inside a block scalar,
// whose content is always indented, so a line-based split is safe for
// manifests.
func splitDocuments(data []byte) []document {
	if isJSONDocument(data) {
		if docs, ok := splitJSON(data); ok {
			return docs
		}
	}
	var docs []document
	start, startLine, line := 0, 1, 1
	explicit := false
	for i := 0; i < len(data); {
		end := bytes.IndexByte(data[i:], '\n')
		next := len(data)
		if end >= 0 {
			next = i + end + 1
		}
		l := data[i:next]
		if isSeparator(l) {
			if i > start || explicit {
				docs = append(docs, document{data[start:i], startLine, explicit})
			}
			start, startLine, explicit = i, line, true
		}
		i = next
		line++
	}
	if start < len(data) || explicit || len(docs) == 0 {
		docs = append(docs, document{data[start:], startLine, explicit})
	}
	return docs
}

func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	rest := line[3:]
	return len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\n' || rest[0] == '\r'
}

var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

func parseDocument(file string, docIdx int, d document) (objs []*Object, probs []Problem, empty bool) {
	if blankDocument(d) {
		return nil, nil, true
	}
	var root yaml.Node
	data, shifts := d.data, []colShift(nil)
	if isJSONDocument(data) {
		data, shifts = jsonEscapes(data)
	}
	err := yaml.Unmarshal(data, &root)
	if err != nil {
		p := Problem{Kind: SyntaxError, File: file, Pos: Position{d.firstLine, 1}}
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
			n, _ := strconv.Atoi(m[1])
			msg = m[2]
			// The parser's "did not find expected …" errors carry the
			// 0-based line of the construct they were parsing; make it the
			// 1-based line of that construct.
			if strings.HasPrefix(msg, "did not find expected") {
				n++
			}
			n, _ = newLineMapper(data).pos(n, 1)
			// yaml.v3 is not consistent about 0- and 1-based lines in
			// its errors: keep the position inside this document.
			last := d.firstLine + bytes.Count(d.data, []byte{'\n'})
			p.Pos.Line = min(max(d.firstLine+n-1, d.firstLine), last)
		}
		if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
			if i := bytes.Index(d.data, []byte("*"+strings.TrimSuffix(name, "' referenced"))); i >= 0 {
				p.Pos = Position{d.firstLine + bytes.Count(d.data[:i], []byte{'\n'}), i - bytes.LastIndexByte(d.data[:i], '\n')}
			}
		}
		p.Message = "invalid YAML: " + syntaxMessage(msg)
		return nil, []Problem{p}, false
	}
	if root.Kind == 0 || len(root.Content) == 0 || root.Content[0].Kind == 0 ||
		(root.Content[0].Kind == yaml.ScalarNode && root.Content[0].ShortTag() == "!!null") {
		return nil, nil, true
	}
	w := &walker{file: file, lineOffset: d.firstLine - 1, budget: aliasBudgetPerByte*len(d.data) + 10000, shifts: shifts, lines: newLineMapper(data)}
	top := root.Content[0]
	if top.Kind == yaml.AliasNode {
		top = top.Alias
	}
	if top.Kind != yaml.MappingNode {
		w.problem(NotKubernetes, top, fmt.Sprintf("document is a YAML %s, not a Kubernetes object (a mapping with apiVersion and kind)", kindName(top.Kind)))
		return nil, w.problems, false
	}
	// The value is walked first so that duplicate keys and alias bombs are
	// found once, before deciding whether this is a List.
	val, ok := w.walk(top, -1, -1, "")
	if !ok {
		return nil, w.problems, false
	}
	m := val.(map[string]any)
	apiVersion, _ := m["apiVersion"].(string)
	kind, _ := m["kind"].(string)
	if apiVersion == "" || kind == "" {
		missing, pk := "apiVersion and kind", NotKubernetes
		if apiVersion != "" {
			missing, pk = "kind", NotAnObject
		} else if kind != "" {
			missing, pk = "apiVersion", NotAnObject
		}
		w.problem(pk, top, "document has no "+missing+"; every Kubernetes object needs both")
		return nil, w.problems, false
	}
	items, isList := m["items"].([]any)
	// A typed list (ConfigMapList) holds objects; a custom resource whose
	// kind ends in List may have an items field of anything else.
	if kind == "List" || (strings.HasSuffix(kind, "List") && isList && allMappings(items)) {
		objs := w.listItems(docIdx, apiVersion, kind, items)
		t := sourceComment(d.data)
		for _, o := range objs {
			o.Template, o.src = t, d
		}
		return objs, w.problems, false
	}
	o := newObject(file, docIdx, -1, m, w.index)
	o.Template, o.src = sourceComment(d.data), d
	return []*Object{o}, w.problems, false
}

func allMappings(items []any) bool {
	for _, it := range items {
		if _, ok := it.(map[string]any); !ok {
			return false
		}
	}
	return true
}

// syntaxMessage makes a parser error safe and useful to print. The
// parser quotes input in a few messages (the name of an unknown anchor,
// which is whatever followed a "*" in a value, so "password: *hunter2"
// would print the password): no message may quote text from a value, so
// every quoted part is dropped.
func syntaxMessage(msg string) string {
	switch {
	case strings.HasPrefix(msg, "unknown anchor "):
		return "an alias (*name) refers to an anchor (&name) not defined before it in this document; a value that starts with * must be quoted"
	case strings.HasPrefix(msg, "anchor ") && strings.HasSuffix(msg, " value contains itself"):
		return "an anchor's value contains an alias to itself"
	case strings.HasPrefix(msg, "found character that cannot start any token"):
		return msg + " (a tab is not allowed for indentation, and @ and ` cannot start a plain value: quote it)"
	}
	if strings.HasPrefix(msg, "invalid map key") {
		return "invalid map key"
	}
	return quotedValue.ReplaceAllString(msg, "…")
}

// quotedValue is how the parser quotes a value in the rest of its
// messages ("cannot decode !!str `x` as a !!int"); its single quotes are
// around punctuation ("did not find expected ',' or '}'"), kept.
var quotedValue = regexp.MustCompile("`[^`]*`")

// sourceComment returns the template named by a "# Source: chart/templates/x.yaml"
// comment line that helm template writes at the top of each document.
func sourceComment(doc []byte) string {
	for len(doc) > 0 {
		line := doc
		if i := bytes.IndexByte(doc, '\n'); i >= 0 {
			line, doc = doc[:i], doc[i+1:]
		} else {
			doc = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 || bytes.Equal(line, []byte("---")) {
			continue
		}
		if rest, ok := bytes.CutPrefix(line, []byte("# Source: ")); ok {
			return string(bytes.TrimSpace(rest))
		}
		if line[0] != '#' {
			return ""
		}
	}
	return ""
}

// listItems makes one object per item of a List. Each item's position
// index is the slice of the document's index under that item (entries are
// in document order, so an item's descendants follow it contiguously),
// re-rooted at the item.
func (w *walker) listItems(docIdx int, apiVersion, kind string, items []any) []*Object {
	itemsEntry := w.child(0, func(n posNode) bool { return n.index < 0 && n.key == "items" })
	var objs []*Object
	for i, it := range items {
		start := w.child(itemsEntry, func(n posNode) bool { return int(n.index) == i })
		if start < 0 {
			continue // cannot happen: every item was walked
		}
		pos := Position{Line: int(w.index[start].line), Column: int(w.index[start].col)}
		m, ok := it.(map[string]any)
		if !ok {
			w.problems = append(w.problems, Problem{Kind: NotAnObject, File: w.file, Pos: pos, Message: fmt.Sprintf("item %d of this %s is not an object", i, kind)})
			continue
		}
		// Typed lists (ConfigMapList) may leave apiVersion and kind off their
		// items; the list's own type says what they are.
		if _, has := m["kind"]; !has && kind != "List" {
			m["kind"] = strings.TrimSuffix(kind, "List")
		}
		if _, has := m["apiVersion"]; !has && kind != "List" {
			m["apiVersion"] = apiVersion
		}
		if s, _ := m["kind"].(string); s == "" {
			w.problems = append(w.problems, Problem{Kind: NotAnObject, File: w.file, Pos: pos, Message: fmt.Sprintf("item %d of this List has no kind", i)})
			continue
		}
		end := start + 1
		for end < len(w.index) && int(w.index[end].parent) >= start {
			end++
		}
		sub := make([]posNode, end-start)
		copy(sub, w.index[start:end])
		for j := range sub {
			sub[j].parent -= int32(start)
		}
		sub[0].parent, sub[0].index = -1, -1
		objs = append(objs, newObject(w.file, docIdx, i, m, sub))
	}
	return objs
}

// child finds the first entry under parent that matches, or -1.
func (w *walker) child(parent int, match func(posNode) bool) int {
	if parent < 0 {
		return -1
	}
	for j := parent + 1; j < len(w.index); j++ {
		if int(w.index[j].parent) == parent && match(w.index[j]) {
			return j
		}
	}
	return -1
}

func newObject(file string, doc, item int, m map[string]any, index []posNode) *Object {
	o := &Object{File: file, Doc: doc, Item: item, Value: m, index: index}
	o.APIVersion, _ = m["apiVersion"].(string)
	o.Kind, _ = m["kind"].(string)
	if md, ok := m["metadata"].(map[string]any); ok {
		o.Name, _ = md["name"].(string)
		o.Namespace, _ = md["namespace"].(string)
	}
	return o
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "sequence"
	case yaml.ScalarNode:
		return "scalar"
	}
	return "value"
}

// walker converts a YAML node tree to JSON-compatible values while
// recording positions and input problems.
type walker struct {
	file       string
	lineOffset int
	budget     int
	index      []posNode
	problems   []Problem
	bombed     bool
	shifts     []colShift  // JSON escapes rewritten for the parser
	lines      *lineMapper // line breaks editors do not count
}

// pos is a node's position in the file, as an editor shows it.
func (w *walker) pos(n *yaml.Node) Position {
	line, col := n.Line, n.Column
	if w.shifts != nil {
		col = original(w.shifts, line, col)
	}
	if w.lines != nil {
		line, col = w.lines.pos(line, col)
	}
	return Position{Line: line + w.lineOffset, Column: col}
}

func (w *walker) problem(k ProblemKind, n *yaml.Node, msg string) {
	w.problems = append(w.problems, Problem{Kind: k, File: w.file, Pos: w.pos(n), Message: msg})
}

// walk returns the value of n. at is the node that stands for n in the
// source (the key for a mapping value, the item for a sequence entry);
// it is recorded in the index under parent with the given key or index.
func (w *walker) walk(n *yaml.Node, parent int32, index int32, key string) (any, bool) {
	return w.walkAt(n, n, parent, index, key)
}

// spend takes one node from the document's alias budget; false once the
// budget is exhausted (reported once, at node at).
func (w *walker) spend(at *yaml.Node) bool {
	w.budget--
	if w.budget < 0 {
		if !w.bombed {
			w.bombed = true
			w.problem(ExcessiveAliasing, at, "document expands aliases far beyond its size (a \"billion laughs\" document); refusing to expand it")
		}
		return false
	}
	return true
}

func (w *walker) walkAt(n, at *yaml.Node, parent int32, index int32, key string) (any, bool) {
	if !w.spend(at) {
		return nil, false
	}
	self := int32(len(w.index))
	p := w.pos(at)
	w.index = append(w.index, posNode{parent: parent, index: index, key: key, line: int32(p.Line), col: int32(p.Column)})
	return w.value(n, self)
}

func (w *walker) value(n *yaml.Node, self int32) (any, bool) {
	switch n.Kind {
	case yaml.AliasNode:
		return w.value(n.Alias, self)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		// A key already in m is a duplicate, unless a merge key put it
		// there (an explicit key overrides a merged one): only mappings
		// with a merge key pay for a second map of the explicit keys.
		var explicit map[string]bool
		for i := 0; i+1 < len(n.Content); i += 2 {
			if isMergeKey(n.Content[i]) {
				explicit = make(map[string]bool, len(n.Content)/2)
				break
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if isMergeKey(k) {
				if !w.merge(m, v, self) {
					return nil, false
				}
				continue
			}
			_, dup := m[k.Value]
			if explicit != nil {
				dup = explicit[k.Value]
				explicit[k.Value] = true
			}
			if dup {
				w.problem(DuplicateKey, k, fmt.Sprintf("duplicate key %q (first at line %d); the API server rejects duplicate fields", k.Value, w.firstKeyLine(n, k.Value)))
				continue
			}
			val, ok := w.walkAt(v, k, self, -1, k.Value)
			if !ok {
				return nil, false
			}
			m[k.Value] = val
		}
		return m, true
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for i, it := range n.Content {
			val, ok := w.walk(it, self, int32(i), "")
			if !ok {
				return nil, false
			}
			s = append(s, val)
		}
		return s, true
	case yaml.ScalarNode:
		return scalar(n), true
	}
	return nil, true
}

func isMergeKey(k *yaml.Node) bool {
	return k.Tag == "!!merge" || (k.Value == "<<" && k.Style == 0 && k.Kind == yaml.ScalarNode)
}

// firstKeyLine is the line of the first explicit key named key in n.
func (w *walker) firstKeyLine(n *yaml.Node, key string) int {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Value == key && !isMergeKey(k) {
			return w.pos(k).Line
		}
	}
	return 0
}

// merge applies a YAML merge key ("<<: *defaults"): keys already present
// win over merged ones.
func (w *walker) merge(m map[string]any, v *yaml.Node, self int32) bool {
	if v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	srcs := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		srcs = v.Content
	}
	for _, s := range srcs {
		// Each merge costs budget, even of an empty map: nesting merges
		// of merges multiplies the work without adding a node.
		if !w.spend(s) {
			return false
		}
		val, ok := w.value(s, self)
		if !ok {
			return false
		}
		if mm, isMap := val.(map[string]any); isMap {
			for k, x := range mm {
				if _, has := m[k]; !has {
					m[k] = x
				}
			}
		}
	}
	return true
}

// yaml11Bools are the plain scalars that YAML 1.1 (and so kubectl and the
// API server's YAML decoder) reads as booleans, though YAML 1.2 does not.
var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"n": false, "N": false, "no": false, "No": false, "NO": false, "off": false, "Off": false, "OFF": false,
}

func scalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!null":
		return nil
	case "!!bool":
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			return n.Value
		}
		return b
	case "!!int":
		s := strings.ReplaceAll(n.Value, "_", "")
		if strings.HasPrefix(s, "0o") {
			s = "0" + s[2:]
		}
		if i, err := strconv.ParseInt(s, 0, 64); err == nil {
			return i
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
		return n.Value
	case "!!float":
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return n.Value
		}
		return f
	case "!!str":
		if n.Style == 0 {
			if b, ok := yaml11Bools[n.Value]; ok {
				return b
			}
		}
	}
	return n.Value
}

// Document is one YAML document of a file: its bytes and the 1-based line
// it starts on. Documents are split as Parse splits them, so an object's
// Doc indexes this list.
type Document struct {
	Data      []byte
	FirstLine int
}

// SplitDocuments splits a file into its documents, as Parse does.
func SplitDocuments(data []byte) []Document {
	docs := splitDocuments(data)
	out := make([]Document, len(docs))
	for i, d := range docs {
		out[i] = Document{Data: d.data, FirstLine: d.firstLine}
	}
	return out
}

// MapValue is the value of key in the mapping n, or nil when n is not a
// mapping or has no such key.
func MapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
