package helm

import (
	"bytes"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/klint-dev/klint/pkg/manifest"
)

// mark appends " #klint@<id>.<line>@" to the lines of a template: every
// line outside an action that does not end in "-}}" (which would trim the
// space before the marker and keep the line break after it). A following
// "{{-" trims the line break but not the marker, so the marker stays at
// the end of the line's output, where it belongs. Inside a named template
// (define), a line followed by "{{-" is left unmarked: its marker would
// become part of the value the template returns. The marker is a YAML
// comment.
//
// Marks reach a value only through include and tpl, the functions that
// return rendered text. Where their result is not printed as it is (see
// capturedText), mark writes unmarkCall after the call, so that trunc,
// sha256sum, fromYaml, eq or a variable see exactly the text an unmarked
// render gives them, and the marked render, stripped, is the plain render.
// It returns the offsets of data where it wrote unmarkCall.
func mark(data []byte, id int) ([]byte, []int) {
	var acts []action
	var inserts []int
	for i := 0; i < len(data); {
		j := bytes.Index(data[i:], []byte("{{"))
		if j < 0 {
			break
		}
		a := lexAction(data, i+j)
		if !a.comment {
			acts = append(acts, a)
			inserts = append(inserts, a.capturedText(data)...)
		}
		i = a.end
	}
	slices.Sort(inserts) // a call inside another's arguments ends first
	var out bytes.Buffer
	out.Grow(len(data) + bytes.Count(data, []byte("\n"))*16 + len(inserts)*len(unmarkCall))
	var blocks []bool // open blocks; true for a define
	ai, ii := 0, 0    // next action to open or close blocks; next insert
	write := func(from, to int) {
		for ; ii < len(inserts) && inserts[ii] <= to; ii++ {
			out.Write(data[from:inserts[ii]])
			out.WriteString(unmarkCall)
			from = inserts[ii]
		}
		out.Write(data[from:to])
	}
	cur := 0 // the first action that does not end before the line's end
	for start, line := 0, 1; ; line++ {
		nl := bytes.IndexByte(data[start:], '\n')
		if nl < 0 {
			write(start, len(data))
			break
		}
		nl += start
		for ; ai < len(acts) && acts[ai].start < nl; ai++ {
			switch acts[ai].word(data, 0) {
			case "define", "block":
				blocks = append(blocks, true)
			case "if", "range", "with":
				blocks = append(blocks, false)
			case "end":
				if len(blocks) > 0 {
					blocks = blocks[:len(blocks)-1]
				}
			}
		}
		for cur < len(acts) && acts[cur].end <= nl {
			cur++
		}
		inAction := cur < len(acts) && acts[cur].start < nl
		inDefine := slices.Contains(blocks, true)
		l := data[start:nl]
		trimmed := bytes.TrimRight(l, " \t\r")
		next := bytes.TrimLeft(data[nl+1:min(nl+1+256, len(data))], " \t")
		cr := bytes.HasSuffix(l, []byte("\r"))
		if inAction || bytes.HasSuffix(trimmed, []byte("-}}")) || inDefine && bytes.HasPrefix(next, []byte("{{-")) {
			write(start, nl+1)
		} else {
			end := nl
			if cr {
				end--
			}
			write(start, end)
			out.WriteString(" #klint@")
			out.Write(strconv.AppendInt(nil, int64(id), 10))
			out.WriteByte('.')
			out.Write(strconv.AppendInt(nil, int64(line), 10))
			out.WriteByte('@')
			write(end, nl+1)
		}
		start = nl + 1
	}
	return out.Bytes(), inserts
}

// unmarkCall is what mark writes after an include or tpl whose result a
// template computes with; unmarkFunc strips the marks from it.
const (
	unmarkFunc = "klintUnmark"
	unmarkCall = " | " + unmarkFunc
)

func unmark(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	stripped, _, _, _ := stripMarkers(s)
	return stripped
}

// stripMarkers removes the markers from a rendered line (as markerRe
// would, without a regular expression: this runs on every line) and
// returns the first marker's template and line.
func stripMarkers(l string) (stripped string, id, line int, found bool) {
	if !strings.Contains(l, "@") {
		return l, 0, 0, false
	}
	var b strings.Builder
	rest := l
	for {
		i := strings.IndexByte(rest, '#')
		if i < 0 {
			break
		}
		n, tid, tline, ok := parseMarker(rest[i:])
		if !ok {
			b.WriteString(rest[:i+1])
			rest = rest[i+1:]
			continue
		}
		head := rest[:i]
		if strings.HasSuffix(head, " ") {
			head = head[:len(head)-1]
		}
		b.WriteString(head)
		if !found {
			id, line, found = tid, tline, true
		}
		rest = rest[i+n:]
	}
	b.WriteString(rest)
	return b.String(), id, line, found
}

// parseMarker reads "#klint@<id>.<line>@" (in any letter case) at the
// start of s, returning its length.
func parseMarker(s string) (n, id, line int, ok bool) {
	const head = "#klint@"
	if len(s) < len(head)+4 || !strings.EqualFold(s[:len(head)], head) {
		return 0, 0, 0, false
	}
	i := len(head)
	num := func() (int, bool) {
		start, v := i, 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' && i-start < 9 {
			v = v*10 + int(s[i]-'0')
			i++
		}
		return v, i > start
	}
	var okID, okLine bool
	if id, okID = num(); !okID || i >= len(s) || s[i] != '.' {
		return 0, 0, 0, false
	}
	i++
	if line, okLine = num(); !okLine || i >= len(s) || s[i] != '@' {
		return 0, 0, 0, false
	}
	return i + 1, id, line, true
}

// lineSource is where one rendered line came from.
type lineSource struct {
	tmpl        int // template id, or -1 when unknown
	line        int // 1-based line in the template
	approximate bool
}

// lineMap maps the lines of one rendered template to template lines.
type lineMap struct {
	out   *template // the template whose output this is
	src   []*template
	lines []lineSource
	text  [][]byte // rendered lines
	r     *renderer
}

// markedSources strips the marks from each line of a marked render and
// finds each line's source: its first marker, or the next one after it
// (the lines an action such as toYaml wrote end before its marker).
func markedSources(out *template, marked string, src []*template) ([]string, []lineSource) {
	lines := strings.Split(marked, "\n")
	sources := make([]lineSource, len(lines))
	next := lineSource{tmpl: -1}
	for k := len(lines) - 1; k >= 0; k-- {
		var id, line int
		var found bool
		lines[k], id, line, found = stripMarkers(lines[k])
		if found && id < len(src) {
			next = lineSource{tmpl: id, line: line}
		}
		sources[k] = next
		if next.tmpl < 0 {
			sources[k] = lineSource{tmpl: out.id, line: 1, approximate: true}
		}
	}
	return lines, sources
}

// rendered is a template's output as helm template prints it: every
// document ends with a line break (a block scalar at the end of a
// template keeps its final newline). It is "" for an output of nothing but
// white space.
func rendered(out string) string {
	if strings.TrimSpace(out) == "" {
		return ""
	}
	if !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	return out
}

// exactLineMap maps a template's output from its marked render alone,
// which (see mark) strips to the plain render; it returns the map and the
// stripped output, or nil for an output of nothing.
func exactLineMap(out *template, marked string, src []*template, r *renderer) (*lineMap, string) {
	lines, sources := markedSources(out, marked, src)
	plain := rendered(strings.Join(lines, "\n"))
	if plain == "" {
		return nil, ""
	}
	if !strings.HasSuffix(marked, "\n") {
		sources = append(sources, sources[len(sources)-1])
	}
	m := &lineMap{out: out, src: src, r: r, text: bytes.Split([]byte(plain), []byte("\n")), lines: sources}
	return m, plain
}

// newLineMap maps a template's output from its plain render and a marked
// one, aligned; it returns the map and the plain output, or nil for an
// output of nothing.
func newLineMap(out *template, plain, marked string, src []*template, r *renderer) (*lineMap, string) {
	plain = rendered(plain)
	if plain == "" {
		return nil, ""
	}
	if !strings.HasSuffix(marked, "\n") {
		marked += "\n"
	}
	m := &lineMap{out: out, src: src, r: r, text: bytes.Split([]byte(plain), []byte("\n"))}
	stripped, msrc := markedSources(out, marked, src)
	// Align the rendered lines with the stripped marked ones. They are the
	// same but where a marker went into a value a function changed (a
	// checksum of an included template, a truncated name): those lines
	// take the source of the nearest aligned line after them, as
	// approximate.
	match := alignLines(m.text, stripped)
	m.lines = make([]lineSource, len(m.text))
	after := lineSource{tmpl: out.id, line: 1, approximate: true}
	for k := len(m.text) - 1; k >= 0; k-- {
		if j := match[k]; j >= 0 {
			m.lines[k] = msrc[j]
			after = msrc[j]
			continue
		}
		ls := after
		ls.approximate = true
		m.lines[k] = ls
	}
	return m, plain
}

// alignLines pairs equal lines of a and b in order (a longest common
// subsequence), returning for each line of a its line in b, or -1. Inputs
// too large to align line by line are paired by position where equal.
func alignLines(a [][]byte, b []string) []int {
	match := make([]int, len(a))
	for i := range match {
		match[i] = -1
	}
	// Equal prefix and suffix first: usually everything.
	lo := 0
	for lo < len(a) && lo < len(b) && string(a[lo]) == b[lo] {
		match[lo] = lo
		lo++
	}
	hiA, hiB := len(a), len(b)
	for hiA > lo && hiB > lo && string(a[hiA-1]) == b[hiB-1] {
		hiA--
		hiB--
		match[hiA] = hiB
	}
	n, mm := hiA-lo, hiB-lo
	if n == 0 || mm == 0 {
		return match
	}
	if n*mm > 4_000_000 {
		for i := lo; i < hiA && i < hiB; i++ {
			if string(a[i]) == b[i] {
				match[i] = i
			}
		}
		return match
	}
	// LCS table over the middle.
	dp := make([][]int32, n+1)
	for i := range dp {
		dp[i] = make([]int32, mm+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := mm - 1; j >= 0; j-- {
			if string(a[lo+i]) == b[lo+j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	for i, j := 0, 0; i < n && j < mm; {
		switch {
		case string(a[lo+i]) == b[lo+j]:
			match[lo+i] = lo + j
			i++
			j++
		case dp[i+1][j] >= dp[i][j+1]:
			i++
		default:
			j++
		}
	}
	return match
}

// Map implements manifest.Mapper.
func (m *lineMap) Map(_ *manifest.Object, path string, pos manifest.Position, _ bool) (manifest.Location, []manifest.Related) {
	return m.at(pos, path)
}

var valuesRef = regexp.MustCompile(`\.Values((?:\.[A-Za-z0-9_-]+)+)`)

func (m *lineMap) at(pos manifest.Position, _ string) (manifest.Location, []manifest.Related) {
	k := pos.Line - 1
	if k < 0 || k >= len(m.lines) {
		return manifest.Location{File: m.out.path, Line: 1, Column: 1, Approximate: true}, nil
	}
	ls := m.lines[k]
	t := m.src[ls.tmpl]
	loc := manifest.Location{File: t.path, Line: ls.line, Column: 1, Approximate: ls.approximate}
	var srcLine []byte
	if ls.line-1 < len(t.lines) {
		srcLine = t.lines[ls.line-1]
	}
	loc.Column = column(m.text[k], pos.Column, srcLine)
	var rel []manifest.Related
	if t != m.out && !ls.approximate {
		// A named template: say which line of the rendered template included it.
		for j := k + 1; j < len(m.lines); j++ {
			if m.lines[j].tmpl == m.out.id {
				rel = append(rel, manifest.Related{
					Location: manifest.Location{File: m.out.path, Line: m.lines[j].line, Column: 1},
					Message:  "included from here",
				})
				break
			}
		}
	}
	for _, ref := range valuesRef.FindAllSubmatch(srcLine, 3) {
		keys := strings.Split(strings.TrimPrefix(string(ref[1]), "."), ".")
		for i := len(t.values) - 1; i >= 0; i-- {
			if p, ok := t.values[i].keyPos(keys); ok {
				rel = append(rel, manifest.Related{
					Location: manifest.Location{File: t.values[i].path, Line: p.Line, Column: p.Column},
					Message:  "value " + strings.Join(keys, ".") + " set here",
				})
				break
			}
		}
	}
	return loc, rel
}

// column finds the rendered key (or list item) at col of rendered in the
// template's line: where the template writes it literally, its column
// there; otherwise the column of the first action on the line, the action
// that produced it.
func column(rendered []byte, col int, src []byte) int {
	if col-1 < 0 || col-1 > len(rendered) {
		return 1
	}
	tok := rendered[col-1:]
	if i := bytes.IndexAny(tok, ": "); i >= 0 {
		tok = tok[:i]
	}
	if len(tok) > 0 {
		if col-1+len(tok) <= len(src) && bytes.Equal(src[col-1:col-1+len(tok)], tok) {
			return col
		}
		if i := bytes.Index(src, tok); i >= 0 && !bytes.Contains(src[:i], []byte("{{")) {
			return i + 1
		}
	}
	if i := bytes.Index(src, []byte("{{")); i >= 0 {
		return i + 1
	}
	return len(src) - len(bytes.TrimLeft(src, " \t")) + 1
}
