package manifest

import (
	"strconv"
	"strings"
)

// segment is one step of a field path: a mapping key or a sequence index.
type segment struct {
	key   string
	index int // -1 for a mapping key
}

// parsePath splits a field path in Kubernetes field.Path notation
// ("spec.ports[0].name", "metadata.labels[app.kubernetes.io/name]") into
// segments. A bracketed segment that is a number is an index, anything else
// is a mapping key (which may itself contain dots). Quotes around a
// bracketed key are accepted, so Rego authors can write labels["a.b/c"].
func parsePath(p string) []segment {
	var segs []segment
	for i := 0; i < len(p); {
		switch p[i] {
		case '.':
			i++
		case '[':
			end := strings.IndexByte(p[i:], ']')
			if end < 0 {
				segs = append(segs, segment{key: p[i+1:], index: -1})
				return segs
			}
			inner := p[i+1 : i+end]
			if n, err := strconv.Atoi(inner); err == nil {
				segs = append(segs, segment{index: n})
			} else {
				segs = append(segs, segment{key: strings.Trim(inner, `"'`), index: -1})
			}
			i += end + 1
		default:
			j := i
			for j < len(p) && p[j] != '.' && p[j] != '[' {
				j++
			}
			segs = append(segs, segment{key: p[i:j], index: -1})
			i = j
		}
	}
	return segs
}
