package helm

// A small lexer for the {{ … }} actions of a Go template, as much of
// text/template's as marking needs: where actions start and end (strings,
// raw strings and comments may hold "}}" or span lines), their first
// keyword (to follow define … end), and where the text that an include or
// a tpl returns goes.

// token is one lexical item of an action.
type token struct {
	kind       byte // 'w' word (function or keyword), '|', '(', ')', '=' (:= or =), 'x' anything else
	start, end int  // offsets in the template
	depth      int  // parentheses open around it
}

// action is one {{ … }} of a template.
type action struct {
	start, end int // offsets of "{{" and just after "}}"
	toks       []token
	comment    bool
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// lexAction reads the action whose "{{" is at i. An action that does not
// end runs to the end of the data.
func lexAction(data []byte, i int) action {
	a := action{start: i}
	p := i + 2
	if p+1 < len(data) && data[p] == '-' && isSpace(data[p+1]) {
		p += 2
	}
	for p < len(data) && isSpace(data[p]) {
		p++
	}
	if p+1 < len(data) && data[p] == '/' && data[p+1] == '*' {
		a.comment = true
		for p += 2; p+1 < len(data) && !(data[p] == '*' && data[p+1] == '/'); p++ {
		}
		p += 2
	}
	depth := 0
	for p < len(data) {
		c := data[p]
		switch {
		case c == '}' && p+1 < len(data) && data[p+1] == '}':
			a.end = p + 2
			return a
		case c == ' ' && p+3 < len(data) && data[p+1] == '-' && data[p+2] == '}' && data[p+3] == '}':
			a.end = p + 4
			return a
		case isSpace(c):
			p++
		case c == '"' || c == '\'' || c == '`':
			q := p + 1
			for q < len(data) && data[q] != c {
				if data[q] == '\\' && c != '`' {
					q++
				}
				q++
			}
			a.toks = append(a.toks, token{'x', p, min(q+1, len(data)), depth})
			p = q + 1
		case c == '|' || c == '(' || c == ')':
			if c == '(' {
				depth++
			}
			a.toks = append(a.toks, token{c, p, p + 1, depth})
			if c == ')' {
				depth--
			}
			p++
		case c == ':' && p+1 < len(data) && data[p+1] == '=':
			a.toks = append(a.toks, token{'=', p, p + 2, depth})
			p += 2
		case c == '=':
			a.toks = append(a.toks, token{'=', p, p + 1, depth})
			p++
		case c == '$' || c == '.' || isWordByte(c) || (c == '-' || c == '+') && p+1 < len(data) && data[p+1] >= '0' && data[p+1] <= '9':
			// A word, variable, field chain or number: one token. Only a word
			// that starts with a letter and is not a field names a function.
			q := p + 1
			for q < len(data) && (isWordByte(data[q]) || data[q] == '.' || data[q] == '$' ||
				(data[q] == '-' || data[q] == '+') && (data[q-1] == 'e' || data[q-1] == 'E' || data[q-1] == 'p' || data[q-1] == 'P') && c >= '0' && c <= '9') {
				q++
			}
			kind := byte('x')
			if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
				kind = 'w'
			}
			a.toks = append(a.toks, token{kind, p, q, depth})
			p = q
		default:
			a.toks = append(a.toks, token{'x', p, p + 1, depth})
			p++
		}
	}
	a.end = len(data)
	return a
}

// word is the text of a word token.
func (a *action) word(data []byte, k int) string {
	if k >= len(a.toks) || a.toks[k].kind != 'w' {
		return ""
	}
	return string(data[a.toks[k].start:a.toks[k].end])
}

// capturedText lists, for each include or tpl in the action whose result
// does not go straight to the output, the offset just after its command,
// where a call that strips marks from its result belongs. The result goes
// straight to the output when the action is only that call, piped at most
// through indent or nindent by a number: those add spaces after line
// breaks, which a mark at the end of a line does not change. Anywhere else
// (an argument, a variable, a condition, a pipe into trunc or sha256sum)
// a mark would change what the template computes.
func (a *action) capturedText(data []byte) []int {
	var out []int
	for k, t := range a.toks {
		if t.kind != 'w' {
			continue
		}
		if w := a.word(data, k); w != "include" && w != "tpl" {
			continue
		}
		if k == 0 && a.printedWhole(data) {
			continue
		}
		// The command runs to the next pipe at its depth, or to the
		// parenthesis that closes around it, or to the end of the action.
		end := t.end
		for j := k + 1; j < len(a.toks); j++ {
			u := a.toks[j]
			if u.depth < t.depth || u.depth == t.depth && (u.kind == '|' || u.kind == ')') {
				break
			}
			end = u.end
		}
		out = append(out, end)
	}
	return out
}

// printedWhole reports whether the action is one command, maybe piped
// through indent N or nindent N, with nothing declared.
func (a *action) printedWhole(data []byte) bool {
	k := 1
	for k < len(a.toks) && !(a.toks[k].kind == '|' && a.toks[k].depth == 0) {
		if a.toks[k].kind == '=' && a.toks[k].depth == 0 {
			return false
		}
		k++
	}
	for k < len(a.toks) {
		if w := a.word(data, k+1); a.toks[k].kind != '|' || w != "indent" && w != "nindent" ||
			k+2 >= len(a.toks) || !isNumber(data[a.toks[k+2].start:a.toks[k+2].end]) {
			return false
		}
		k += 3
	}
	return true
}

func isNumber(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// capturesMarks reports whether text run through tpl (a values string, a
// file of the chart) uses include or tpl where their result does not go
// straight to the output. Such text is not marked, so it cannot be given
// the call that strips marks: the chart is rendered twice instead.
func capturesMarks(text []byte) bool {
	for i := 0; i+1 < len(text); {
		j := indexAction(text, i)
		if j < 0 {
			return false
		}
		a := lexAction(text, j)
		if len(a.capturedText(text)) > 0 {
			return true
		}
		i = a.end
	}
	return false
}

func indexAction(data []byte, from int) int {
	for i := from; i+1 < len(data); i++ {
		if data[i] == '{' && data[i+1] == '{' {
			return i
		}
	}
	return -1
}
