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

// PathSegment is one step of a field path: a mapping key, or a sequence
// index when Index >= 0.
type PathSegment struct {
	Key   string
	Index int
}

// SplitPath splits a field path ("spec.ports[0].name") into segments.
func SplitPath(p string) []PathSegment {
	segs := parsePath(p)
	out := make([]PathSegment, len(segs))
	for i, s := range segs {
		out[i] = PathSegment{Key: s.key, Index: s.index}
	}
	return out
}

// KeyPath is the path of a mapping's key under prefix: prefix.key, or
// prefix[key] for a key that is not a plain identifier (a label key).
func KeyPath(prefix, key string) string {
	return JoinPath(append(SplitPath(prefix), PathSegment{Key: key, Index: -1}))
}

// JoinPath writes segments back as a field path; keys that are not plain
// identifiers go in brackets, as in metadata.labels[app.kubernetes.io/name].
func JoinPath(segs []PathSegment) string {
	var b strings.Builder
	for _, s := range segs {
		switch {
		case s.Index >= 0:
			b.WriteString("[" + strconv.Itoa(s.Index) + "]")
		case strings.ContainsAny(s.Key, "./[]") || s.Key == "":
			b.WriteString("[" + s.Key + "]")
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.Key)
		}
	}
	return b.String()
}
