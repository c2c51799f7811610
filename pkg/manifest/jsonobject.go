package manifest

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// ParseJSON is Parse, with a fast path for a file that is one JSON object
// (an admission request's object, as the API server sends it): the same
// object, value and position index, at a fraction of the YAML parser's
// cost. Anything
// beyond a plain object (a List, a duplicate key, an unpaired surrogate,
// a document that is not one JSON object with apiVersion and kind) is
// read by Parse, so the result and its problems are always Parse's.
func ParseJSON(file string, data []byte) ([]*Object, []Problem) {
	if o := parseJSONObject(file, data); o != nil {
		return []*Object{o}, nil
	}
	return Parse(file, data)
}

// parseJSONObject is ParseJSON's fast path: nil when the input is not
// one it reads exactly as Parse does.
func parseJSONObject(file string, data []byte) *Object {
	p := &jsonParser{data: data, line: 1, lineStart: 0}
	p.space()
	if p.i >= len(data) || data[p.i] != '{' || len(data) > MaxFileSize || !utf8.Valid(data) {
		return nil
	}
	line, col := p.pos(p.i)
	v, ok := p.value(-1, -1, "", line, col)
	if !ok {
		return nil
	}
	if p.space(); p.i != len(data) {
		return nil
	}
	m := v.(map[string]any)
	apiVersion, _ := m["apiVersion"].(string)
	kind, _ := m["kind"].(string)
	if apiVersion == "" || kind == "" || strings.HasSuffix(kind, "List") {
		return nil
	}
	o := newObject(file, 0, -1, m, p.index)
	o.src = document{data: data, firstLine: 1}
	return o
}

type jsonParser struct {
	data      []byte
	i         int
	line      int // 1-based line of i
	lineStart int // offset of the line's first byte
	index     []posNode
}

// pos is the 1-based line and column (in characters, as YAML counts) of
// offset at, on the line p is on.
func (p *jsonParser) pos(at int) (int32, int32) {
	return int32(p.line), int32(utf8.RuneCount(p.data[p.lineStart:at]) + 1)
}

// next reads what follows a member or element: a comma, more to come,
// or end, the mapping's or list's end. ok is false for anything else.
func (p *jsonParser) next(end byte) (more, ok bool) {
	p.space()
	if p.i < len(p.data) {
		switch p.data[p.i] {
		case ',':
			p.i++
			return true, true
		case end:
			p.i++
			return false, true
		}
	}
	return false, false
}

func (p *jsonParser) space() {
	for p.i < len(p.data) {
		switch p.data[p.i] {
		case ' ', '\t', '\r':
		case '\n':
			p.line, p.lineStart = p.line+1, p.i+1
		default:
			return
		}
		p.i++
	}
}

// value reads the value at p.i, recording it in the index under parent
// (with the sequence index or key) at line and col: the key's for a
// mapping's value, the value's own otherwise.
func (p *jsonParser) value(parent, index int32, key string, line, col int32) (any, bool) {
	self := int32(len(p.index))
	p.index = append(p.index, posNode{parent: parent, index: index, key: key, line: line, col: col})
	if p.i >= len(p.data) {
		return nil, false
	}
	switch c := p.data[p.i]; {
	case c == '{':
		p.i++
		m := map[string]any{}
		p.space()
		if p.i < len(p.data) && p.data[p.i] == '}' {
			p.i++
			return m, true
		}
		for {
			p.space()
			if p.i >= len(p.data) || p.data[p.i] != '"' {
				return nil, false
			}
			keyLine, keyCol := p.pos(p.i)
			k, ok := p.str()
			if !ok {
				return nil, false
			}
			if _, dup := m[k]; dup {
				return nil, false
			}
			p.space()
			if p.i >= len(p.data) || p.data[p.i] != ':' {
				return nil, false
			}
			p.i++
			p.space()
			v, ok := p.value(self, -1, k, keyLine, keyCol)
			if !ok {
				return nil, false
			}
			m[k] = v
			if more, ok := p.next('}'); !ok {
				return nil, false
			} else if !more {
				return m, true
			}
		}
	case c == '[':
		p.i++
		s := []any{}
		p.space()
		if p.i < len(p.data) && p.data[p.i] == ']' {
			p.i++
			return s, true
		}
		for n := int32(0); ; n++ {
			p.space()
			line, col := p.pos(p.i)
			v, ok := p.value(self, n, "", line, col)
			if !ok {
				return nil, false
			}
			s = append(s, v)
			if more, ok := p.next(']'); !ok {
				return nil, false
			} else if !more {
				return s, true
			}
		}
	case c == '"':
		return p.str()
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range jsonLiterals {
			if bytes.HasPrefix(p.data[p.i:], lit.text) {
				p.i += len(lit.text)
				return lit.v, true
			}
		}
		return nil, false
	default:
		return p.number()
	}
}

var jsonLiterals = []struct {
	text []byte
	v    any
}{{[]byte("true"), true}, {[]byte("false"), false}, {[]byte("null"), nil}}

// number reads a JSON number as Parse's scalar reads it: an integer as
// int64 (or float64 past its range), anything with a fraction or an
// exponent as float64, and one past float64's range as its text.
func (p *jsonParser) number() (any, bool) {
	start := p.i
	if p.i < len(p.data) && p.data[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.data) && p.data[p.i] >= '0' && p.data[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	intStart := p.i
	if digits() == 0 || (p.data[intStart] == '0' && p.i-intStart > 1) {
		return nil, false
	}
	isFloat := false
	if p.i < len(p.data) && p.data[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, false
		}
		isFloat = true
	}
	if p.i < len(p.data) && (p.data[p.i] == 'e' || p.data[p.i] == 'E') {
		p.i++
		if p.i < len(p.data) && (p.data[p.i] == '+' || p.data[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, false
		}
		isFloat = true
	}
	text := string(p.data[start:p.i])
	if !isFloat {
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			return i, true
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return text, true
	}
	return f, true
}

// str reads a JSON string at p.i (its opening quote).
func (p *jsonParser) str() (string, bool) {
	p.i++
	start := p.i
	for p.i < len(p.data) {
		switch c := p.data[p.i]; {
		case c == '"':
			s := string(p.data[start:p.i])
			p.i++
			return s, true
		case c == '\\':
			return p.escaped(start)
		case c < 0x20:
			return "", false
		}
		p.i++
	}
	return "", false
}

// escaped reads the rest of a string with escapes, from start.
func (p *jsonParser) escaped(start int) (string, bool) {
	var b strings.Builder
	b.Write(p.data[start:p.i])
	for p.i < len(p.data) {
		c := p.data[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String(), true
		case c < 0x20:
			return "", false
		case c != '\\':
			b.WriteByte(c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.data) {
			return "", false
		}
		e := p.data[p.i+1]
		p.i += 2
		switch e {
		case '"', '\\', '/':
			b.WriteByte(e)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", false
			}
			if utf16.IsSurrogate(r) {
				// A pair makes one character; a lone half is left to
				// Parse, which says what it does with it.
				if r >= 0xDC00 || p.i+1 >= len(p.data) || p.data[p.i] != '\\' || p.data[p.i+1] != 'u' {
					return "", false
				}
				p.i += 2
				r2, ok := p.hex4()
				if !ok || r2 < 0xDC00 || r2 > 0xDFFF {
					return "", false
				}
				r = utf16.DecodeRune(r, r2)
			}
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	return "", false
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.data) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(p.data[p.i:p.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(v), true
}
