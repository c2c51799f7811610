package helm

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// A chart's templates run within a budget: a sequence or a repeat that
// would take gigabytes is refused at its template's line, a render over
// the time budget is a problem at the chart, and in each case the
// chart's other templates, and other charts, are still rendered. Time and
// memory are not asserted here (they are measured in the closing notes);
// what is asserted is which problem each case gives, at which line.
func TestRenderBudgets(t *testing.T) {
	ok := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n"
	for _, c := range []struct {
		name, template string
		timeout        time.Duration
		want           string
	}{
		{"until", "a: |\n{{- range until 100000000 }}x{{ end }}\n", 0,
			"templates/bomb.yaml:2:10: template failed: until: the render would make more than 1000000 sequence elements"},
		{"nested until", "{{- range until 1000 }}{{ range until 1001 }}x{{ end }}{{ end }}\n", 0,
			"templates/bomb.yaml:1:32: template failed: until: the render would make more than 1000000 sequence elements"},
		{"untilStep", "{{ untilStep 0 1000000000 3 | len }}\n", 0,
			"templates/bomb.yaml:1:3: template failed: untilStep: the render would make more than 1000000 sequence elements"},
		{"seq", "{{ seq 1 5000000 }}\n", 0,
			"templates/bomb.yaml:1:3: template failed: seq: the render would make more than 1000000 sequence elements"},
		{"repeat", "{{ repeat 100000000 \"xxxxxxxxxx\" }}\n", 0,
			"templates/bomb.yaml:1:3: template failed: repeat: 100000000 copies of 10 bytes is over klint's budget of 1048576 bytes"},
		{"time", "{{- $l := until 3000 }}{{ range $l }}{{ range $l }}{{ $x := until 0 }}{{ end }}{{ end }}\n", 200 * time.Millisecond,
			"Chart.yaml:1:1: the chart took more than 200ms to render, klint's budget for one values set (--render-timeout); its objects are not linted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "templates"), 0o755)
			os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: c\nversion: 0.1.0\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "templates", "bomb.yaml"), []byte(c.template), 0o644)
			os.WriteFile(filepath.Join(dir, "templates", "ok.yaml"), []byte(ok), 0o644)
			objs, probs := Render(dir, Options{DefaultsOnly: true, Timeout: c.timeout})
			var got []string
			for _, p := range probs {
				got = append(got, fmt.Sprintf("%s:%d:%d: %s", strings.TrimPrefix(p.File, dir+string(filepath.Separator)), p.Pos.Line, p.Pos.Column, p.Message))
			}
			if len(probs) != 1 || !strings.HasPrefix(got[0], c.want) {
				t.Fatalf("problems %q, want one starting %q", got, c.want)
			}
			if c.timeout == 0 && (len(objs) != 1 || objs[0].Name != "ok") {
				t.Errorf("the other template was not rendered: %v", objs)
			}
		})
	}
}

// A text that tpl renders and that renders itself through tpl (a values
// string, a chart file, or two that call each other) is refused before
// rendering, at the chart: Helm would recurse until its stack gave out,
// cloning every template at each level, and calls no function on the way
// that a budget could stop. A tpl of a text that does not lead back is
// rendered as usual.
func TestRecursiveTplIsRefused(t *testing.T) {
	for _, c := range []struct {
		name, values, file, template, want string
	}{
		{"values", "a: \"{{ tpl .Values.a . }}\"\n", "", "{{ tpl .Values.a . }}", "(values a → values a)"},
		{"values through $", "x:\n  a: \"{{ tpl $.Values.x.b $ }}\"\n  b: \"{{ tpl $.Values.x.a $ }}\"\n", "", "{{ tpl .Values.x.a . }}", "(values x.a → values x.b → values x.a)"},
		{"file", "", "{{ tpl (.Files.Get \"x.tpl\") . }}", "{{ tpl (.Files.Get \"x.tpl\") . }}", "(file x.tpl → file x.tpl)"},
		{"no cycle", "a: \"{{ tpl .Values.b . }}\"\nb: \"{{ .Release.Name }}\"\n", "", "name: {{ tpl .Values.a . }}", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "templates"), 0o755)
			os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: c\nversion: 0.1.0\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "values.yaml"), []byte(c.values), 0o644)
			os.WriteFile(filepath.Join(dir, "x.tpl"), []byte(c.file), 0o644)
			os.WriteFile(filepath.Join(dir, "templates", "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata:\n  "+strings.TrimPrefix(c.template, "name: ")+"x: y\n"), 0o644)
			if c.want == "" {
				os.WriteFile(filepath.Join(dir, "templates", "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {"+c.template+"}\n"), 0o644)
			}
			start := time.Now()
			objs, probs := Render(dir, Options{DefaultsOnly: true, Timeout: 20 * time.Second})
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
			if c.want == "" {
				if len(probs) != 0 || len(objs) != 1 || objs[0].Name != "release-name" {
					t.Errorf("objects %v, problems %v", objs, probs)
				}
				return
			}
			if len(probs) != 1 || probs[0].File != filepath.Join(dir, "Chart.yaml") || !strings.Contains(probs[0].Message, "the chart renders with tpl a text that renders itself "+c.want) {
				t.Errorf("problems %v", probs)
			}
		})
	}
}

// tplOf is what tplEdges finds: tplAt's match anywhere after a word
// boundary, leftmost first.
var tplOf = regexp.MustCompile(`\btpl\s+\(?\s*\$?\.(?:Values((?:\.[A-Za-z0-9_]+)+)|Files\.Get\s+"([^"]+)")`)

func tplEdgesByRegexp(s string) []string {
	var out []string
	for _, m := range tplOf.FindAllStringSubmatch(s, -1) {
		if m[1] != "" {
			out = append(out, "values "+strings.TrimPrefix(m[1], "."))
		} else {
			out = append(out, "file "+m[2])
		}
	}
	return out
}

func TestTplEdgesIsTheRegexp(t *testing.T) {
	texts := []string{
		"", "tpl", "tpl .Values.a.b .", `{{ tpl .Values.x . }}{{tpl $.Values.y.z $}}`,
		`{{ tpl (.Files.Get "conf/a.yaml") . }} {{ tpl ( $.Files.Get "b" ) . }}`,
		"atpl .Values.a .", "_tpl .Values.a .", "étpl .Values.a .", "tpltpl .Values.a", "tpl tpl .Values.a",
		"{{ tpl .Values.a . }}\n{{ include \"x\" . | tpl .Values.b }}", "tpl\t\n.Values.a_1.B2",
		"tpl .Values", "tpl .Values.", "tpl .Files.Get x", `tpl .Files.Get ""`,
	}
	err := filepath.WalkDir(charts, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, err := os.ReadFile(path); err == nil {
				texts = append(texts, string(b))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, s := range texts {
		got, want := tplEdges(s), tplEdgesByRegexp(s)
		if !slices.Equal(got, want) {
			t.Errorf("tplEdges(%.80q) = %q, the regexp finds %q", s, got, want)
		}
		found += len(want)
	}
	if found < 10 {
		t.Errorf("only %d tpl calls in the texts", found)
	}
}

func FuzzTplEdges(f *testing.F) {
	for _, s := range []string{"tpl .Values.a.b .", `x tpl (.Files.Get "f") .`, "atpl .Values.a", "tpl tpl .Values.a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := tplEdges(s), tplEdgesByRegexp(s); !slices.Equal(got, want) {
			t.Errorf("tplEdges(%q) = %q, the regexp finds %q", s, got, want)
		}
	})
}
