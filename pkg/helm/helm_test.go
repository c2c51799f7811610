package helm

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/klint-dev/klint/pkg/manifest"
	"helm.sh/helm/v4/pkg/chart/common"
	cutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
)

const charts = "../../testdata/charts"

// markerRe is the specification stripMarkers implements: the marker mark
// writes, in any letter case (an upper of a marked value), with the space
// before it.
var markerRe = regexp.MustCompile(`(?i) ?#klint@(\d+)\.(\d+)@`)

// The marks that map rendered lines to template lines must never change
// what is rendered: stripped of its marks, the marked render of every
// fixture template is byte-identical to the plain render.
func TestMarkedRenderStripsToPlainRender(t *testing.T) {
	for _, name := range []string{"shop", "broken", "checksums"} {
		dir := filepath.Join(charts, name)
		ch, err := loader.LoadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		ch.Metadata.Dependencies = nil // broken's redis is not vendored
		rv, err := cutil.ToRenderValues(ch, map[string]any{"db": map[string]any{"host": "db"}}, common.ReleaseOptions{Name: "r", Namespace: "default", IsInstall: true}, common.DefaultCapabilities)
		if err != nil {
			t.Fatal(err)
		}
		src := collectTemplates(nil, nil, ch, dir, nil)
		for _, tp := range src {
			if strings.HasSuffix(tp.name, "bad.yaml") || strings.HasSuffix(tp.name, "port.yaml") {
				tp.file.Data, tp.data = nil, nil
			}
		}
		plain, err := engine.Engine{}.Render(ch, rv)
		if err != nil {
			t.Fatal(err)
		}
		for _, tp := range src {
			tp.file.Data, _ = mark(tp.data, tp.id)
		}
		marked, err := (&renderer{}).engine(true).Render(ch, rv)
		if err != nil {
			t.Fatal(err)
		}
		if len(plain) < 2 {
			t.Fatalf("%s: rendered %d templates", name, len(plain))
		}
		for n, p := range plain {
			if got := markerRe.ReplaceAllString(marked[n], ""); got != p {
				t.Errorf("%s: marked render differs once stripped:\n%s\n---\n%s", n, got, p)
			}
			if p != "" && !markerRe.MatchString(marked[n]) {
				t.Errorf("%s: no marks in %q", n, marked[n])
			}
		}
	}
}

// Marks go where a template line's break reaches the output, and nowhere
// they would stick to a value a named template returns.
func TestMark(t *testing.T) {
	in := "a: 1\n" + // marked
		"b: {{ x -}}\n" + // ends trimming the break: not marked
		"{{- define \"n\" -}}\n" + // ends trimming: not marked
		"{{ printf \"v\" }}\n" + // in a define, followed by {{-: not marked
		"{{- end }}\n" + // marked: its break reaches the output
		"c: {{ toYaml\n" + // inside an action: not marked
		"  .x }}\n" + // marked
		"last"
	want := "a: 1 #klint@7.1@\n" +
		"b: {{ x -}}\n" +
		"{{- define \"n\" -}}\n" +
		"{{ printf \"v\" }}\n" +
		"{{- end }} #klint@7.5@\n" +
		"c: {{ toYaml\n" +
		"  .x }} #klint@7.7@\n" +
		"last"
	if got, _ := mark([]byte(in), 7); string(got) != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// Where a template computes with what include or tpl return, mark strips
// the marks first; where the text goes straight to the output, it keeps
// them. Strings, fields, comments and "}}" inside strings are not calls.
func TestMarkUnmarksCapturedText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{{ include "x" . }}`, `{{ include "x" . }}`},
		{`{{- include "x" . | nindent 4 }}`, `{{- include "x" . | nindent 4 }}`},
		{`{{ include "x" $ | indent 2 -}}`, `{{ include "x" $ | indent 2 -}}`},
		{`{{ tpl .Values.t . }}`, `{{ tpl .Values.t . }}`},
		{`{{ include "x" . | sha256sum }}`, `{{ include "x" . | klintUnmark | sha256sum }}`},
		{`{{ include "x" . | nindent 4 | trim }}`, `{{ include "x" . | klintUnmark | nindent 4 | trim }}`},
		{`{{ include "x" . | nindent .Values.n }}`, `{{ include "x" . | klintUnmark | nindent .Values.n }}`},
		{`{{ printf "%s" (include "x" .) | trunc 9 }}`, `{{ printf "%s" (include "x" . | klintUnmark) | trunc 9 }}`},
		{`{{- $x := include "x" . -}}`, `{{- $x := include "x" . | klintUnmark -}}`},
		{`{{ if eq (include "x" .) "a" }}`, `{{ if eq (include "x" . | klintUnmark) "a" }}`},
		{`{{ include (print $.Template.BasePath "/c.yaml") . | sha256sum }}`, `{{ include (print $.Template.BasePath "/c.yaml") . | klintUnmark | sha256sum }}`},
		{`{{ tpl (include "x" .) . | quote }}`, `{{ tpl (include "x" . | klintUnmark) . | klintUnmark | quote }}`},
		{"{{ include \"x\" (dict\n  \"a\" \"}}\") | b64enc }}", "{{ include \"x\" (dict\n  \"a\" \"}}\") | klintUnmark | b64enc }}"},
		{"{{ include `x}}` . | upper }}", "{{ include `x}}` . | klintUnmark | upper }}"},
		{`{{ "include" | upper }} {{ .Values.include | upper }} {{ $include | upper }}`, `{{ "include" | upper }} {{ .Values.include | upper }} {{ $include | upper }}`},
		{`{{/* include "x" . | trunc 3 */}}`, `{{/* include "x" . | trunc 3 */}}`},
	} {
		got, inserts := mark([]byte(c.in), 1)
		if g := markerRe.ReplaceAllString(string(got), ""); g != c.want {
			t.Errorf("mark(%q) = %q, want %q", c.in, g, c.want)
		}
		if n := strings.Count(c.want, unmarkCall); len(inserts) != n {
			t.Errorf("mark(%q): %d inserts, want %d", c.in, len(inserts), n)
		}
	}
}

// Text run through tpl cannot be marked or given unmarkCall: a chart whose
// values or files use include that way is rendered twice.
func TestCapturesMarks(t *testing.T) {
	for in, want := range map[string]bool{
		`team: {{ include "x" . }}`:                       false,
		`{{ template "x" . }}`:                            false,
		`tier: {{ include "x" . | sha256sum | trunc 8 }}`: true,
		`{{ if tpl .Values.a . }}b{{ end }}`:              true,
		`no actions`:                                      false,
	} {
		if got := capturesMarks([]byte(in)); got != want {
			t.Errorf("capturesMarks(%q) = %v", in, got)
		}
	}
}

// An error's column in the marked text is given in the template as written.
func TestUnmarkedColumn(t *testing.T) {
	data := "a: 1\nb: {{ include \"x\" . | sha256sum }} {{ fail \"boom\" }}\n"
	marked, inserts := mark([]byte(data), 0)
	tp := &template{data: []byte(data), inserts: inserts}
	line := strings.Split(string(marked), "\n")[1]
	col := strings.Index(line, "fail") + 1
	if got, want := tp.unmarkedColumn(manifest.Position{Line: 2, Column: col}), strings.Index(data, "fail")-4; got != want {
		t.Errorf("column %d in %q is %d as written, want %d", col, line, got, want)
	}
	if got := tp.unmarkedColumn(manifest.Position{Line: 2, Column: 4}); got != 4 {
		t.Errorf("a column before the insert moved to %d", got)
	}
}

// Lines a marker changed (a checksum of an included template) are aligned
// around and reported as approximate; the others keep their source.
func TestAlignLines(t *testing.T) {
	a := bytes.Split([]byte("a\nsum: 1\nb\nc"), []byte("\n"))
	b := strings.Split("a\nsum: 2\nextra\nb\nc", "\n")
	got := alignLines(a, b)
	want := []int{0, -1, 3, 4}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestParseRenderError(t *testing.T) {
	msg := "shop/templates/deployment.yaml:5:3\n  executing \"shop/templates/deployment.yaml\" at <include \"x\" .>:\n    error calling include:\ntemplate: shop/templates/_helpers.tpl:3:9: executing \"x\" at <required \"tag is required\" .Values.tag>:\n    error calling required: tag is required"
	failed, file, pos, m := parseRenderError(msg)
	if failed != "shop/templates/deployment.yaml" || file != "shop/templates/_helpers.tpl" || pos.Line != 3 || pos.Column != 9 || m != "template failed: required: tag is required" {
		t.Errorf("got %q %q %v %q", failed, file, pos, m)
	}
}

func TestStripMarkers(t *testing.T) {
	for _, in := range []string{
		"a: 1 #klint@3.14@",
		"plain #comment",
		"x: 1 #KLINT@2.5@ #klint@2.6@",
		"b: #klint@1.@ #klint@x",
		"c: trunc #klint@1",
		"",
	} {
		got, id, line, found := stripMarkers(in)
		want := markerRe.ReplaceAllString(in, "")
		if got != want {
			t.Errorf("stripMarkers(%q) = %q, want %q", in, got, want)
		}
		m := markerRe.FindStringSubmatch(in)
		if found != (m != nil) || (found && (itoa(id) != m[1] || itoa(line) != m[2])) {
			t.Errorf("stripMarkers(%q) found %v %d.%d, regexp %v", in, found, id, line, m)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// A template two values sets render to the same text gives objects alike
// (manifest.Object.Alike) in both renders, and one they render apart does
// not: prod-values.yaml changes the shop's image tag and Service, not its
// PodDisruptionBudget.
func TestAlikeAcrossValuesSets(t *testing.T) {
	objs, probs := Render(filepath.Join(charts, "shop"), Options{})
	for _, p := range probs {
		t.Fatal(p)
	}
	byFile := map[string][]*manifest.Object{}
	for _, o := range objs {
		if o.Alike == "" {
			t.Errorf("%s %s of %s: no Alike", o.Kind, o.Name, o.Render)
		}
		rel, _ := filepath.Rel(filepath.Join(charts, "shop"), o.File)
		byFile[rel] = append(byFile[rel], o)
	}
	for file, same := range map[string]bool{"templates/pdb.yaml": true, "templates/deployment.yaml": false, "templates/service.yaml": false} {
		pair := byFile[file]
		if len(pair) != 2 || pair[0].Render == pair[1].Render {
			t.Fatalf("%s: %d objects, want one per render", file, len(pair))
		}
		if got := pair[0].Alike == pair[1].Alike; got != same {
			t.Errorf("%s alike in both renders: %v, want %v", file, got, same)
		}
	}
}
