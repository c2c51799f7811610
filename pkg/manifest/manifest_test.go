package manifest

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf16"
)

const fixtures = "../../testdata/manifests/loader"

func load(t *testing.T, name string) ([]*Object, []Problem) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return Parse(name, data)
}

func TestMultiDocumentKeepsGoingAfterSyntaxError(t *testing.T) {
	objs, probs := load(t, "multi.yaml")
	var got []string
	for _, o := range objs {
		got = append(got, o.Kind+"/"+o.Name)
	}
	if strings.Join(got, ",") != "Service/web,Deployment/after-error" {
		t.Fatalf("objects = %v", got)
	}
	if objs[0].Doc != 1 || objs[1].Doc != 4 {
		t.Errorf("document indexes = %d, %d; want 1, 4", objs[0].Doc, objs[1].Doc)
	}
	want := []struct {
		kind ProblemKind
		line int
		col  int
		frag string
	}{
		{EmptyDocument, 11, 1, "empty document"},
		{SyntaxError, 18, 1, "invalid YAML: did not find expected ',' or ']'"},
		{DuplicateKey, 28, 3, `duplicate key "replicas" (first at line 27)`},
	}
	if len(probs) != len(want) {
		t.Fatalf("problems = %v", probs)
	}
	for i, w := range want {
		p := probs[i]
		if p.Kind != w.kind || p.Pos.Line != w.line || p.Pos.Column != w.col || !strings.Contains(p.Message, w.frag) {
			t.Errorf("problem %d = %v (kind %d), want kind %d at %d:%d containing %q", i, p, p.Kind, w.kind, w.line, w.col, w.frag)
		}
	}
	// The first value of a duplicate key is kept.
	if r := objs[1].Value["spec"].(map[string]any)["replicas"]; r != int64(1) {
		t.Errorf("replicas = %v", r)
	}
}

func TestPositions(t *testing.T) {
	objs, _ := load(t, "multi.yaml")
	svc, dep := objs[0], objs[1]
	cases := []struct {
		o     *Object
		path  string
		line  int
		col   int
		exact bool
	}{
		{svc, "", 3, 1, true},
		{svc, "spec.ports[0].targetPort", 10, 7, true},
		{svc, "spec.ports[0]", 9, 7, true},
		{svc, "spec.ports[0].nodePort", 9, 7, false},
		{svc, "spec.selector", 7, 1, false},
		{dep, "metadata.labels[app.kubernetes.io/name]", 25, 5, true},
		{dep, `metadata.labels["app.kubernetes.io/name"]`, 25, 5, true},
		{dep, "metadata.name", 23, 3, true},
	}
	for _, c := range cases {
		p, exact := c.o.Pos(c.path)
		if p.Line != c.line || p.Column != c.col || exact != c.exact {
			t.Errorf("%s Pos(%q) = %d:%d exact=%v, want %d:%d exact=%v", c.o.Name, c.path, p.Line, p.Column, exact, c.line, c.col, c.exact)
		}
	}
	if s := svc.Start(); s.Line != 3 {
		t.Errorf("Start = %v", s)
	}
}

func TestListItemsAreObjectsWithTheirOwnPositions(t *testing.T) {
	objs, probs := load(t, "list.json")
	if len(probs) != 0 || len(objs) != 2 {
		t.Fatalf("objs=%d probs=%v", len(objs), probs)
	}
	two := objs[1]
	if two.Name != "two" || two.Namespace != "ns" || two.Item != 1 {
		t.Errorf("item = %+v", two)
	}
	if p, ok := two.Pos("data.k"); !ok || p.Line != 10 || p.Column != 16 {
		t.Errorf("data.k at %v (exact %v), want 10:16", p, ok)
	}
	if p, _ := two.Pos(""); p != (Position{6, 5}) {
		t.Errorf("item start %v, want 6:5", p)
	}
}

// Items given through an alias, and items that are not objects, must not
// break the List (the alias once indexed a node that had no items).
func TestListItemsThroughAnAlias(t *testing.T) {
	objs, probs := Parse("l.yaml", []byte("apiVersion: v1\nkind: List\nx: &items\n  - {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n  - 7\nitems: *items\n"))
	if len(objs) != 1 || objs[0].Name != "a" {
		t.Fatalf("objs = %+v", objs)
	}
	if len(probs) != 1 || probs[0].Kind != NotAnObject || probs[0].Pos.Line != 5 {
		t.Errorf("probs = %v", probs)
	}
	if p, ok := objs[0].Pos("metadata.name"); !ok || p.Line != 4 {
		t.Errorf("metadata.name at %v (exact %v)", p, ok)
	}
}

func TestTypedListItemsInheritKind(t *testing.T) {
	objs, probs := load(t, "typed-list.yaml")
	if len(probs) != 0 || len(objs) != 1 {
		t.Fatalf("objs=%d probs=%v", len(objs), probs)
	}
	o := objs[0]
	if o.Kind != "ConfigMap" || o.APIVersion != "v1" || o.Name != "first" {
		t.Errorf("got %s %s %s", o.APIVersion, o.Kind, o.Name)
	}
	// YAML 1.1 reads a plain "yes" as true, as kubectl does.
	if v := o.Value["data"].(map[string]any)["enabled"]; v != true {
		t.Errorf("enabled = %#v, want true", v)
	}
}

func TestAliasBombIsRefused(t *testing.T) {
	objs, probs := load(t, "bomb.yaml")
	if len(objs) != 0 || len(probs) != 1 || probs[0].Kind != ExcessiveAliasing {
		t.Fatalf("objs=%d probs=%v", len(objs), probs)
	}
	if probs[0].Pos.Line < 5 {
		t.Errorf("bomb reported at %v", probs[0].Pos)
	}
}

func TestNotUTF8(t *testing.T) {
	_, probs := load(t, "latin1.yaml")
	if len(probs) != 1 || probs[0].Kind != NotText || probs[0].Pos != (Position{6, 9}) {
		t.Fatalf("probs=%v", probs)
	}
	_, probs = Parse("bin", []byte("\x7fELF\x00\x01"))
	if len(probs) != 1 || probs[0].Kind != NotText || !strings.Contains(probs[0].Message, "binary") {
		t.Fatalf("probs=%v", probs)
	}
}

func TestNotAnObject(t *testing.T) {
	_, probs := load(t, "nokind.yaml")
	if len(probs) != 2 {
		t.Fatalf("probs=%v", probs)
	}
	if probs[0].Kind != NotAnObject || probs[0].Pos.Line != 1 || !strings.Contains(probs[0].Message, "no kind") {
		t.Errorf("first = %v", probs[0])
	}
	if probs[1].Kind != NotKubernetes || probs[1].Pos.Line != 5 || !strings.Contains(probs[1].Message, "sequence") {
		t.Errorf("second = %v", probs[1])
	}
}

func TestScalarsAndMergeKeys(t *testing.T) {
	objs, probs := load(t, "anchors.yaml")
	if len(probs) != 0 || len(objs) != 1 {
		t.Fatalf("probs=%v", probs)
	}
	v := objs[0].Value
	data := v["data"].(map[string]any)
	if data["mode"] != int64(0644) || data["ratio"] != 1.5 || data["empty"] != nil {
		t.Errorf("data = %#v", data)
	}
	ann := v["metadata"].(map[string]any)["annotations"].(map[string]any)
	if ann["app"] != "web" || ann["note"] != "x" {
		t.Errorf("annotations = %#v", ann)
	}
}

func TestTooLarge(t *testing.T) {
	_, probs := Parse("big.yaml", make([]byte, MaxFileSize+1))
	if len(probs) != 1 || probs[0].Kind != TooLarge {
		t.Fatalf("probs=%v", probs)
	}
}

// Objects past smallIndex entries resolve paths through the children map;
// it must find what the scan finds: keys, items, missing fields (the
// deepest ancestor), and the first of two equal keys at one level.
func TestPositionsInALargeObject(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Pod\nmetadata: {name: big}\nspec:\n  containers:\n")
	const n = 300
	for i := range n {
		fmt.Fprintf(&b, "    - name: c%d\n      image: nginx\n", i) // lines 6+2i, 7+2i
	}
	b.WriteString("  volumes:\n    - name: data\n      emptyDir: {}\n")
	objs, probs := Parse("big.yaml", []byte(b.String()))
	if len(objs) != 1 || len(probs) != 0 {
		t.Fatalf("%d objects, problems %v", len(objs), probs)
	}
	o := objs[0]
	if len(o.index) < smallIndex {
		t.Fatalf("index of %d entries does not exercise the map", len(o.index))
	}
	volumes := 6 + 2*n
	for _, c := range []struct {
		path  string
		pos   Position
		exact bool
	}{
		{"spec.containers[0].name", Position{6, 7}, true},
		{"spec.containers[150].image", Position{6 + 2*150 + 1, 7}, true},
		{"spec.containers[299]", Position{6 + 2*299, 7}, true},
		{"spec.containers[300].image", Position{5, 3}, false},
		{"spec.containers[42].livenessProbe.httpGet", Position{6 + 2*42, 7}, false},
		{"spec.volumes[0].emptyDir", Position{volumes + 2, 7}, true},
		{"metadata.name", Position{3, 12}, true},
		{"status", Position{1, 1}, false},
	} {
		pos, exact := o.Pos(c.path)
		if pos != c.pos || exact != c.exact {
			t.Errorf("Pos(%s) = %v %v, want %v %v", c.path, pos, exact, c.pos, c.exact)
		}
	}
}

// Merging empty maps spends no nodes, but ten levels of ten merges is ten
// billion merges: each merge is counted in the alias budget.
func TestMergeKeyBombIsRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\na0: &a0 {}\n")
	for l := 1; l < 10; l++ {
		refs := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", l-1), 10), ", ")
		fmt.Fprintf(&b, "a%d: &a%d {<<: [%s]}\n", l, l, refs)
	}
	done := make(chan []Problem, 1)
	go func() { _, probs := Parse("merge.yaml", []byte(b.String())); done <- probs }()
	select {
	case probs := <-done:
		if len(probs) != 1 || probs[0].Kind != ExcessiveAliasing {
			t.Errorf("problems %v", probs)
		}
	case <-time.After(time.Minute): // it used to run for hours
		t.Fatal("merge bomb still being expanded after a minute")
	}
}

// Every valid JSON document is read, with the escapes YAML lacks ("\/",
// surrogate pairs, a lone surrogate) decoded as encoding/json decodes
// them, and positions in the original text.
func TestJSONEscapes(t *testing.T) {
	src := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"url":"http:\/\/a\/b","emoji":"\ud83d\ude00\ud83d\ude01","lone":"\ud800","n":"\n"},"binaryData":{"k":"AA=="}}` + "\n" +
		"{\n  \"apiVersion\": \"v1\", \"kind\": \"ConfigMap\",\n  \"metadata\": {\"name\": \"\\/y\\ud83d\\ude00\", \"labels\": {\"a\": \"b\"}}\n}\n"
	objs, probs := Parse("x.json", []byte(src))
	if len(probs) != 0 || len(objs) != 2 {
		t.Fatalf("%d objects, problems %v", len(objs), probs)
	}
	data := objs[0].Value["data"].(map[string]any)
	for k, want := range map[string]string{"url": "http://a/b", "emoji": "😀😁", "lone": "\uFFFD", "n": "\n"} {
		if data[k] != want {
			t.Errorf("data.%s = %q, want %q", k, data[k], want)
		}
	}
	if objs[1].Name != "/y😀" {
		t.Errorf("name %q", objs[1].Name)
	}
	// Characters JSON allows raw in strings but YAML forbids (DEL, C1
	// controls) or folds as line breaks (NEL, LS) keep their value and
	// the columns after them.
	raw := "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"x\"},\"data\":{\"a\":\"1\x7f2\u00853\u20284\u0090\",\"b\":\"c\"}}\n"
	robjs, rprobs := Parse("raw.json", []byte(raw))
	if len(robjs) != 1 || len(rprobs) != 0 {
		t.Fatalf("raw characters: %d objects, %v", len(robjs), rprobs)
	}
	if got := robjs[0].Value["data"].(map[string]any)["a"]; got != "1\x7f2\u00853\u20284\u0090" {
		t.Errorf("data.a = %q", got)
	}
	if got, _ := robjs[0].Pos("data.b"); got != (Position{1, len([]rune(raw[:strings.Index(raw, `"b"`)])) + 1}) {
		t.Errorf("Pos(data.b) = %v", got)
	}
	for _, c := range []struct {
		o    *Object
		path string
		want Position
	}{
		{objs[0], "data.emoji", Position{1, strings.Index(src, `"emoji"`) + 1}},
		{objs[0], "data.lone", Position{1, strings.Index(src, `"lone"`) + 1}},
		{objs[0], "data.n", Position{1, strings.Index(src, `"n"`) + 1}},
		{objs[0], "binaryData.k", Position{1, strings.Index(src, `"k"`) + 1}},
		{objs[1], "metadata.labels.a", Position{4, 54}}, // after 14 characters of escapes
	} {
		if got, _ := c.o.Pos(c.path); got != c.want {
			t.Errorf("Pos(%s) = %v, want %v", c.path, got, c.want)
		}
	}
}

// A file repeating one problem many times reports the first few and a
// count; blank documents are not parsed at all.
func TestRepeatedProblemsAreCapped(t *testing.T) {
	data := []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n" + strings.Repeat("---\n", 5000) + "--- # a comment\n\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n")
	objs, probs := Parse("dashes.yaml", data)
	if len(objs) != 2 || len(probs) != maxSameProblem+1 {
		t.Fatalf("%d objects, %d problems", len(objs), len(probs))
	}
	for i, p := range probs[:maxSameProblem] {
		if p.Kind != EmptyDocument || p.Pos.Line != 4+i {
			t.Errorf("problem %d: %v", i, p)
		}
	}
	last := probs[maxSameProblem]
	if last.Pos.Line != 4+maxSameProblem || !strings.HasPrefix(last.Message, "4991 more like this in this file from here on") {
		t.Errorf("count: %v", last)
	}
}

// Lines are counted by line feeds, as editors and wc -l count them: the
// other breaks YAML knows (a lone \r, NEL, LS, PS) move neither the lines
// after them nor the columns after them on their line.
func TestLinesAreCountedByLineFeeds(t *testing.T) {
	line5 := "  annotations: {a: \"x\u2028y\r\u0085z\", b: c}"
	src := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n" + line5 + "\nspec:\n  containers:\n    - name: c\n      image: nginx\n"
	objs, probs := Parse("odd.yaml", []byte(src))
	if len(objs) != 1 || len(probs) != 0 {
		t.Fatalf("%d objects, problems %v", len(objs), probs)
	}
	for path, want := range map[string]Position{
		"metadata.annotations.b":   {5, len([]rune(line5[:strings.Index(line5, "b:")])) + 1},
		"spec.containers[0].image": {9, 7},
	} {
		if got, _ := objs[0].Pos(path); got != want {
			t.Errorf("Pos(%s) = %v, want %v", path, got, want)
		}
	}
	// A syntax error after such a break is reported on the line it is
	// reported on without the break.
	bad := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \"a%sb\"}\ndata:\n  a: [x\n  b: c\n"
	_, odd := Parse("bad.yaml", []byte(fmt.Sprintf(bad, "\u2028\u2029")))
	_, plain := Parse("bad.yaml", []byte(fmt.Sprintf(bad, "")))
	if len(odd) != 1 || len(plain) != 1 || odd[0].Pos != plain[0].Pos {
		t.Errorf("with odd breaks %v, without %v", odd, plain)
	}
}

// UTF-16 with a byte-order mark is read (Windows tools save it); without
// one, the message says what the file is. A custom resource whose kind
// ends in List, with items that are not objects, is an object.
func TestUTF16AndListLikeCustomResources(t *testing.T) {
	text := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: é\n"
	units := utf16.Encode([]rune(text))
	le := []byte{0xFF, 0xFE}
	for _, u := range units {
		le = append(le, byte(u), byte(u>>8))
	}
	objs, probs := Parse("u16.yaml", le)
	if len(objs) != 1 || len(probs) != 0 || objs[0].Name != "é" {
		t.Fatalf("UTF-16LE: %d objects, %v", len(objs), probs)
	}
	if pos, _ := objs[0].Pos("metadata.name"); pos != (Position{4, 3}) {
		t.Errorf("position %v", pos)
	}
	_, probs = Parse("nobom.yaml", le[2:])
	if len(probs) != 1 || !strings.Contains(probs[0].Message, "UTF-16 text without a byte-order mark; save the file as UTF-8") {
		t.Errorf("without BOM: %v", probs)
	}
	objs, probs = Parse("widgets.yaml", []byte("apiVersion: example.com/v1\nkind: WidgetList\nmetadata: {name: w}\nitems: [a, b]\n"))
	if len(objs) != 1 || len(probs) != 0 || objs[0].Kind != "WidgetList" {
		t.Errorf("WidgetList: %d objects, %v", len(objs), probs)
	}
}

// An object detached and read again is the same object: value, identity
// and every position, in YAML documents after others, List items and JSON
// with escapes. Rendered objects are not detached.
func TestDetachReadsTheSameObject(t *testing.T) {
	data := []byte("# Source: chart/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n---\n" +
		"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: s1}\n  spec:\n    ports: [{port: 80}]\n- apiVersion: v1\n  kind: Service\n  metadata: {name: s2}\n  spec:\n    ports:\n    - port: 81\n      nodePort: 30081\n")
	jsonData := []byte("{\"apiVersion\": \"v1\", \"kind\": \"Service\", \"metadata\": {\"name\": \"j\\/x\", \"labels\": {\"a\": \"\\u00e9\"}},\n \"spec\": {\"ports\": [{\"port\": 82}]}}\n")
	objs, probs := Parse("f.yaml", data)
	more, jprobs := Parse("f.json", jsonData)
	objs, probs = append(objs, more...), append(probs, jprobs...)
	if len(probs) != 0 || len(objs) != 4 {
		t.Fatalf("objects %d, problems %v", len(objs), probs)
	}
	paths := []string{"", "metadata.name", "data.k", "spec.ports[0].port", "spec.ports[0].nodePort", "metadata.labels[a]", "spec.ports[0]"}
	for _, o := range objs {
		d := o.Detach()
		if d == nil {
			t.Fatalf("%s not detached", o.Name)
		}
		again := d.Object()
		if !reflect.DeepEqual(again.Value, o.Value) || again.File != o.File || again.Doc != o.Doc || again.Item != o.Item ||
			again.Name != o.Name || again.Kind != o.Kind || again.Template != o.Template {
			t.Errorf("%s read again differs: %+v", o.Name, again)
		}
		for _, p := range paths {
			p1, e1 := o.Pos(p)
			p2, e2 := again.Pos(p)
			if p1 != p2 || e1 != e2 {
				t.Errorf("%s %s: at %v (%v), read again at %v (%v)", o.Name, p, p1, e1, p2, e2)
			}
		}
	}
	if objs[0].Template != "chart/templates/a.yaml" {
		t.Errorf("template %q", objs[0].Template)
	}
	// A file a kustomization only lists is its own source: detached and
	// read again, it is still that render's.
	objs[1].Render = "overlays/list"
	if d := objs[1].Detach(); d == nil || d.Object().Render != "overlays/list" {
		t.Errorf("a listed file's object detached as %+v", d)
	}
	objs[1].InRender("charts/x")
	if objs[1].Detach() != nil {
		t.Error("a rendered object was detached")
	}
}

// A key a merge key brought in is overridden by an explicit one, which is
// no duplicate; an explicit key written twice is one, with or without a
// merge in the mapping.
func TestMergeKeysAndDuplicates(t *testing.T) {
	src := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m\nx: &base {a: \"1\", b: \"2\"}\ndata:\n  <<: *base\n  a: \"3\"\n  c: \"4\"\n  c: \"5\"\nmore:\n  d: 1\n  d: 2\n"
	objs, probs := Parse("m.yaml", []byte(src))
	var got []string
	for _, p := range probs {
		got = append(got, fmt.Sprintf("%d:%d %s", p.Pos.Line, p.Pos.Column, p.Message))
	}
	want := []string{
		`10:3 duplicate key "c" (first at line 9); the API server rejects duplicate fields`,
		`13:3 duplicate key "d" (first at line 12); the API server rejects duplicate fields`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(objs) != 1 {
		t.Fatalf("objects: %d", len(objs))
	}
	data := objs[0].Value["data"].(map[string]any)
	if data["a"] != "3" || data["b"] != "2" || data["c"] != "4" {
		t.Errorf("data: %v", data)
	}
}
