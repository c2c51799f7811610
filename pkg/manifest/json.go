package manifest

import (
	"bytes"
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"unicode/utf8"
)

// JSON is read by the YAML parser, which keeps positions and finds
// duplicate keys; but some strings JSON allows are not valid YAML as
// go.yaml.in/yaml/v3 reads it: the escapes "\/" and UTF-16 surrogate
// pairs ("\ud83d\ude00", as Python's json.dumps writes emoji), and raw
// characters YAML forbids or folds (rawInYAML). jsonEscapes rewrites
// them inside the strings of a JSON document into escapes YAML reads the
// same way, and records where columns shifted so positions can be
// reported in the original text.

// colShift is a rewrite on one line: columns after col (in the rewritten
// text) are shift columns further right in the original. sum is the
// total shift of the rewrites before this one, in text order.
type colShift struct {
	line, col, shift, sum int
}

// isJSONDocument reports whether a document's first significant byte
// opens a JSON object or array.
func isJSONDocument(data []byte) bool {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n', 0xEF, 0xBB, 0xBF: // whitespace, BOM
			continue
		case '{', '[':
			return true
		}
		return false
	}
	return false
}

// rawInYAML reports whether a character JSON allows raw in a string
// cannot stand raw in a YAML double-quoted scalar: characters YAML does
// not allow (DEL, C1 controls, U+FFFE, U+FFFF), and the line breaks YAML
// knows beyond \n and \r (NEL, LS, PS), which it would fold into spaces.
func rawInYAML(r rune) bool {
	return r == 0x7F || (r >= 0x80 && r <= 0x9F) || r == 0x2028 || r == 0x2029 || r == 0xFFFE || r == 0xFFFF
}

// needsEscapeRewrite is a fast check for the escapes jsonEscapes rewrites.
func needsEscapeRewrite(data []byte) bool {
	// A tab is whitespace to JSON (never raw in a string), but YAML
	// refuses it where indentation could be.
	if bytes.Contains(data, []byte(`\/`)) || bytes.IndexByte(data, '\t') >= 0 {
		return true
	}
	for i := 0; i < len(data); {
		if data[i] < 0x7F {
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		if rawInYAML(r) {
			return true
		}
		i += n
	}
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte(`\u`))
		if j < 0 {
			return false
		}
		i += j + 2
		if i < len(data) && (data[i] == 'd' || data[i] == 'D') {
			return true
		}
	}
}

// jsonEscapes rewrites "\/" and surrogate escapes inside the strings of
// a JSON document (a lone surrogate becomes U+FFFD, as encoding/json
// reads it), and tabs outside them into spaces. It returns data itself
// when there is nothing to rewrite.
func jsonEscapes(data []byte) ([]byte, []colShift) {
	if !needsEscapeRewrite(data) {
		return data, nil
	}
	out := make([]byte, 0, len(data))
	var shifts []colShift
	line, col := 1, 1 // position in out, in characters as the parser counts
	inString := false
	for i := 0; i < len(data); {
		c := data[i]
		if c == '\n' {
			out = append(out, c)
			line, col, i = line+1, 1, i+1
			continue
		}
		if !inString && c == '\t' {
			out = append(out, ' ') // one column, as the tab was
			col, i = col+1, i+1
			continue
		}
		if !inString || c != '\\' || i+1 >= len(data) {
			if c == '"' {
				inString = !inString
			}
			r, n := utf8.DecodeRune(data[i:])
			if inString && rawInYAML(r) {
				out = append(out, `\u`...)
				out = append(out, []byte(leftPad(strconv.FormatInt(int64(r), 16), 4))...)
				shifts = appendShift(shifts, line, col+5, -5)
				col, i = col+6, i+n
				continue
			}
			out = append(out, data[i:i+n]...)
			col, i = col+1, i+n
			continue
		}
		switch data[i+1] {
		case '/':
			out = append(out, '/')
			shifts = appendShift(shifts, line, col, 1)
			col, i = col+1, i+2
			continue
		case 'u':
			hi, ok := hex4(data, i+2)
			if ok && hi >= 0xD800 && hi <= 0xDBFF {
				if lo, ok := hex4(data, i+8); ok && data[i+6] == '\\' && data[i+7] == 'u' && lo >= 0xDC00 && lo <= 0xDFFF {
					r := 0x10000 + (hi-0xD800)<<10 + (lo - 0xDC00)
					out = append(out, `\U`...)
					out = append(out, []byte(leftPad(strconv.FormatInt(int64(r), 16), 8))...)
					shifts = appendShift(shifts, line, col+9, 2)
					col, i = col+10, i+12
					continue
				}
			}
			if ok && hi >= 0xD800 && hi <= 0xDFFF {
				out = append(out, `\uFFFD`...)
				col, i = col+6, i+6
				continue
			}
		}
		out = append(out, data[i], data[i+1]) // any other escape, as it is
		col, i = col+2, i+2
	}
	return out, shifts
}

func hex4(data []byte, at int) (int, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(data[at:at+4]), 16, 32)
	return int(v), err == nil
}

func leftPad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}

func appendShift(shifts []colShift, line, col, shift int) []colShift {
	sum := 0
	if n := len(shifts); n > 0 {
		sum = shifts[n-1].sum + shifts[n-1].shift
	}
	return append(shifts, colShift{line, col, shift, sum})
}

// original maps a column of the rewritten text back to the original, in
// logarithmic time (a minified JSON file is one line with every escape).
func original(shifts []colShift, line, col int) int {
	before := func(n int) int { // total shift of shifts[:n]
		if n == 0 {
			return 0
		}
		return shifts[n-1].sum + shifts[n-1].shift
	}
	lineStart := sort.Search(len(shifts), func(i int) bool { return shifts[i].line >= line })
	upTo := sort.Search(len(shifts), func(i int) bool {
		return shifts[i].line > line || (shifts[i].line == line && shifts[i].col >= col)
	})
	return col + before(upTo) - before(lineStart)
}

// splitJSON cuts a file of several JSON values one after another (JSON
// Lines, "jq -c" output) into one document each: the YAML parser would
// read the first and ignore the rest. Each document keeps the columns of
// the original, its first line padded with spaces. It reports false for
// a file of one value, or one whose first value is not JSON (YAML flow
// style, which the YAML parser reads as one document).
func splitJSON(data []byte) ([]document, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var docs []document
	for {
		start := int(dec.InputOffset())
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			break
		}
		if err != nil {
			if len(docs) == 0 {
				return nil, false
			}
			docs = append(docs, jsonDocument(data, start, len(data))) // the parser reports what is wrong
			break
		}
		end := int(dec.InputOffset())
		docs = append(docs, jsonDocument(data, end-len(raw), end))
	}
	return docs, len(docs) > 1
}

// jsonDocument is data[start:end] as a document whose columns are those of
// the file: the part of its first line before start is replaced by
// spaces.
func jsonDocument(data []byte, start, end int) document {
	lineStart := bytes.LastIndexByte(data[:start], '\n') + 1
	pad := utf8.RuneCount(data[lineStart:start])
	d := make([]byte, 0, pad+end-start)
	d = append(d, bytes.Repeat([]byte{' '}, pad)...)
	d = append(d, data[start:end]...)
	return document{data: d, firstLine: 1 + bytes.Count(data[:start], []byte{'\n'})}
}
