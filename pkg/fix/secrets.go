package fix

import (
	"bytes"

	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/rules"
	yaml "go.yaml.in/yaml/v3"
)

// secretLines are the lines of a file (1-based) that hold a secret value,
// which a diff's context must not show: every value under a Secret's data
// and stringData, the value of a key named like a credential (api-token,
// DB_PASSWORD), and the value of an env entry whose name is one.
func secretLines(data []byte) map[int]bool {
	lines := map[int]bool{}
	hide := func(v *yaml.Node, first int) {
		for l := v.Line; l <= lastLine(v); l++ {
			lines[first-1+l] = true
		}
	}
	for _, d := range manifest.SplitDocuments(data) {
		var root yaml.Node
		if yaml.Unmarshal(d.Data, &root) != nil || len(root.Content) == 0 {
			continue
		}
		top := root.Content[0]
		if manifest.MapValue(top, "kind") != nil && manifest.MapValue(top, "kind").Value == "Secret" {
			for _, k := range []string{"data", "stringData"} {
				if m := manifest.MapValue(top, k); m != nil && m.Kind == yaml.MappingNode {
					for i := 1; i < len(m.Content); i += 2 {
						hide(m.Content[i], d.FirstLine)
					}
				}
			}
		}
		var walk func(n *yaml.Node)
		walk = func(n *yaml.Node) {
			if n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					k, v := n.Content[i], n.Content[i+1]
					if v.Kind == yaml.ScalarNode && rules.LooksLikeCredentialName(k.Value) {
						hide(v, d.FirstLine)
					}
				}
				if name, v := manifest.MapValue(n, "name"), manifest.MapValue(n, "value"); name != nil && v != nil && rules.LooksLikeCredentialName(name.Value) {
					hide(v, d.FirstLine)
				}
			}
			for _, c := range n.Content {
				walk(c)
			}
		}
		walk(top)
	}
	return lines
}

// lastLine is the last line a scalar spans (a block scalar spans several).
func lastLine(v *yaml.Node) int {
	if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return v.Line + bytes.Count([]byte(v.Value), []byte("\n"))
	}
	return v.Line
}

// maskLine replaces what follows the key of a line by "(value not shown)",
// or the whole line's text when it has no key (a block scalar's line).
func maskLine(l string) string {
	eol := ""
	for _, e := range []string{"\r\n", "\n"} {
		if len(l) >= len(e) && l[len(l)-len(e):] == e {
			eol, l = e, l[:len(l)-len(e)]
			break
		}
	}
	indent := len(l) - len(bytes.TrimLeft([]byte(l), " -"))
	if i := bytes.Index([]byte(l), []byte(": ")); i >= 0 {
		return l[:i+2] + "(value not shown)" + eol
	}
	return l[:indent] + "(value not shown)" + eol
}
