package manifest

import (
	"bytes"
	"unicode/utf8"
)

// Lines are numbered as editors and wc -l number them: by line feeds.
// YAML also breaks lines at a lone carriage return, NEL (U+0085), LS
// (U+2028) and PS (U+2029), so in a file that has line feeds and any of
// those, the parser's line numbers run ahead of the editor's. lineMapper
// converts them. (A file with no line feed at all, from a classic Mac
// editor, is numbered by its carriage returns, as the parser and editors
// that open it do.)

// lineMapper maps the parser's lines of one document to lines counted by
// line feeds, and the parser's columns to columns on those lines.
type lineMapper struct {
	line []int32 // by parser line (0-based): the editor line it starts on (1-based)
	col  []int32 // by parser line: characters before it on that editor line
}

// oddBreaks reports whether data has line breaks other than \n and \r\n
// and also has a \n (so that the editor's numbering differs).
func oddBreaks(data []byte) bool {
	if bytes.IndexByte(data, '\n') < 0 {
		return false
	}
	if bytes.Contains(data, []byte("\u0085")) || bytes.Contains(data, []byte("\u2028")) || bytes.Contains(data, []byte("\u2029")) {
		return true
	}
	for i := 0; ; {
		j := bytes.IndexByte(data[i:], '\r')
		if j < 0 {
			return false
		}
		i += j + 1
		if i >= len(data) || data[i] != '\n' {
			return true
		}
	}
}

// newLineMapper returns nil when the parser numbers lines as editors do.
func newLineMapper(data []byte) *lineMapper {
	if !oddBreaks(data) {
		return nil
	}
	m := &lineMapper{line: []int32{1}, col: []int32{0}}
	line, col := int32(1), int32(0) // editor line, characters on it so far
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		switch {
		case r == '\n':
			line, col = line+1, 0
			m.line, m.col = append(m.line, line), append(m.col, 0)
		case r == '\r' && i+1 < len(data) && data[i+1] == '\n':
			line, col = line+1, 0
			m.line, m.col = append(m.line, line), append(m.col, 0)
			n = 2
		case r == '\r' || r == '\u0085' || r == '\u2028' || r == '\u2029':
			col++ // a break for the parser, a character for the editor
			m.line, m.col = append(m.line, line), append(m.col, col)
		default:
			col++
		}
		i += n
	}
	return m
}

// pos maps a parser line and column (1-based) to the editor's.
func (m *lineMapper) pos(line, col int) (int, int) {
	if m == nil || line < 1 || line > len(m.line) {
		return line, col
	}
	return int(m.line[line-1]), int(m.col[line-1]) + col
}
