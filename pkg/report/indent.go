package report

import (
	"bytes"
	"encoding/json"
	"io"
)

// writeIndented writes v as json.Encoder does with SetIndent("", indent):
// the same bytes, and a newline. encoding/json indents by running its
// validating scanner over the marshalled text, which was half of the time
// a SARIF report of the corpus took; the text json.Marshal made is valid,
// so indenting it only needs to know where its strings are. The indented
// text goes out as it is made, in chunks, rather than held whole.
func writeIndented(w io.Writer, v any, indent string) error {
	compact, err := json.Marshal(v)
	if err != nil {
		return err
	}
	ind := indenter{w: w, indent: indent, buf: make([]byte, 0, 64<<10)}
	ind.write(compact)
	ind.buf = append(ind.buf, '\n')
	ind.flush()
	return ind.err
}

// appendIndent appends src, compact JSON (no space outside strings), to
// dst indented as json.Indent(dst, src, "", indent) does.
func appendIndent(dst, src []byte, indent string) []byte {
	b := bytes.NewBuffer(dst)
	ind := indenter{w: b, indent: indent}
	ind.write(src)
	ind.flush()
	return b.Bytes()
}

// indenter indents compact JSON as json.Indent does: each element and
// member on a line of its own, "key": value, and {} and [] kept together.
type indenter struct {
	w      io.Writer
	indent string
	buf    []byte
	err    error
	depth  int
	open   bool // after { or [, before its first element
}

func (x *indenter) newline() {
	x.buf = append(x.buf, '\n')
	for range x.depth {
		x.buf = append(x.buf, x.indent...)
	}
}

func (x *indenter) flush() {
	if x.err == nil && len(x.buf) > 0 {
		_, x.err = x.w.Write(x.buf)
	}
	x.buf = x.buf[:0]
}

func (x *indenter) write(src []byte) {
	for i := 0; i < len(src); i++ {
		if len(x.buf) >= 60<<10 {
			x.flush()
		}
		c := src[i]
		if x.open && c != '}' && c != ']' {
			x.open = false
			x.depth++
			x.newline()
		}
		switch c {
		case '"':
			j := i + 1
			for j < len(src) && src[j] != '"' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			x.buf = append(x.buf, src[i:min(j+1, len(src))]...)
			i = j
		case '{', '[':
			x.buf = append(x.buf, c)
			x.open = true
		case '}', ']':
			if x.open {
				x.open = false // empty: {} or []
			} else {
				x.depth--
				x.newline()
			}
			x.buf = append(x.buf, c)
		case ',':
			x.buf = append(x.buf, c)
			x.newline()
		case ':':
			x.buf = append(x.buf, c, ' ')
		default:
			x.buf = append(x.buf, c)
		}
	}
}
