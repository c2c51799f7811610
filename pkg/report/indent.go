package report

import (
	"encoding/json"
	"io"
)

// writeIndented writes v as json.Encoder does with SetIndent("", indent):
// the same bytes, and a newline. encoding/json indents by running its
// validating scanner over the marshalled text, which was half of the time
// a SARIF report of the corpus took; the text json.Marshal made is valid,
// so indenting it only needs to know where its strings are.
func writeIndented(w io.Writer, v any, indent string) error {
	compact, err := json.Marshal(v)
	if err != nil {
		return err
	}
	out := appendIndent(make([]byte, 0, len(compact)*2), compact, indent)
	_, err = w.Write(append(out, '\n'))
	return err
}

// appendIndent appends src, compact JSON (no space outside strings), to
// dst indented as json.Indent(dst, src, "", indent) does: each element and
// member on a line of its own, "key": value, and {} and [] kept together.
func appendIndent(dst, src []byte, indent string) []byte {
	depth := 0
	open := false // after { or [, before its first element
	newline := func() {
		dst = append(dst, '\n')
		for range depth {
			dst = append(dst, indent...)
		}
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		if open && c != '}' && c != ']' {
			open = false
			depth++
			newline()
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
			dst = append(dst, src[i:min(j+1, len(src))]...)
			i = j
		case '{', '[':
			dst = append(dst, c)
			open = true
		case '}', ']':
			if open {
				open = false // empty: {} or []
			} else {
				depth--
				newline()
			}
			dst = append(dst, c)
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, c, ' ')
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
