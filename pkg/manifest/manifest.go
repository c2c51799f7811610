// Package manifest turns bytes into Kubernetes objects that remember where
// every field came from.
//
// It splits multi-document YAML (and JSON) itself, so a syntax error in one
// document never hides the documents after it, and it walks the parsed YAML
// node tree once to build both the JSON-compatible value of each object and
// a compact index from field path to line and column.
package manifest

import (
	"bytes"
	"fmt"
	"sync"
)

// Position is a 1-based line and column in a source file.
type Position struct {
	Line   int
	Column int
}

// ProblemKind says what was wrong with an input that could not become a
// well-formed object.
type ProblemKind int

const (
	// SyntaxError is input that is not valid YAML or JSON.
	SyntaxError ProblemKind = iota
	// DuplicateKey is a mapping key given twice; the API server's decoder
	// rejects it.
	DuplicateKey
	// ExcessiveAliasing is a document whose aliases expand beyond reason
	// (a "billion laughs" attack).
	ExcessiveAliasing
	// NotText is a file that is binary or not valid UTF-8.
	NotText
	// TooLarge is a file over MaxFileSize.
	TooLarge
	// EmptyDocument is a document with no content (only comments or
	// nothing between two separators).
	EmptyDocument
	// NotAnObject is a document that lacks apiVersion or kind but has the
	// other, or a List item that is not an object.
	NotAnObject
	// NotKubernetes is a document with neither apiVersion nor kind, or one
	// that is not a mapping at all.
	NotKubernetes
	// Unreadable is a file that could not be read.
	Unreadable
	// NotRegular is a file found in a directory that is not a regular
	// file (a named pipe, socket or device), or a symlink loop: skipped.
	NotRegular
	// DeprecatedField is a kustomization field kustomize deprecates.
	DeprecatedField
	// RenderFailed is a chart or kustomization that could not be
	// rendered (a template error, required or fail, a missing dependency,
	// a kustomization that does not build).
	RenderFailed
)

// Problem is something wrong with the input itself, found while loading.
type Problem struct {
	Kind    ProblemKind
	File    string
	Pos     Position
	Message string
	// Render names the chart render or kustomization the problem is in.
	Render string
}

func (p Problem) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Pos.Line, p.Pos.Column, p.Message)
}

// Object is one Kubernetes object from the input. Objects inside a List are
// objects of their own, with positions that point into the List's file.
type Object struct {
	File       string
	Doc        int // 0-based document index in File
	Item       int // index in the enclosing List, or -1
	APIVersion string
	Kind       string
	Namespace  string
	Name       string
	// Value is the object as JSON-compatible data: map[string]any,
	// []any, string, int64, float64, bool and nil.
	Value map[string]any

	// Render names the render the object came from ("charts/shop",
	// "charts/shop with ci/prod-values.yaml", "overlays/prod"), or is
	// empty for plain files. Cross-object rules see only the objects of
	// one render, and the plain files share one context.
	Render string
	// Mapper, when set, maps the object's rendered positions back to the
	// files a person edits (File is then the rendered output's name).
	Mapper Mapper
	// Alike, when set, is shared by the objects of one input that are
	// alike in all that checking one of them reads (its value, every
	// position, what is assumed of it) and differ only in Render: a
	// chart template that several values sets render to the same text.
	// The engine checks the first alone and gives the others its
	// findings.
	Alike string
	// Assumed are fields whose values klint chose while rendering (the
	// release namespace a chart takes from .Release.Namespace): they are
	// decided at deploy time, so findings about them are not reported.
	Assumed []string
	// Template is the chart template a rendered stream names for this
	// document in a "# Source:" comment (helm template | klint -).
	Template string

	index []posNode
	// src is the document the object was parsed from (a slice of its
	// file's bytes), for Detach.
	src document
	// children finds an entry's child by key or sequence index; it is
	// built on the first Pos of an object with a large index, so
	// resolving a path costs the same whatever the object's size.
	childrenOnce sync.Once
	children     map[childKey]int32
}

// childKey names one child of an index entry: a mapping key (index -1) or
// a sequence item.
type childKey struct {
	parent int32
	index  int32
	key    string
}

// smallIndex is the size under which Pos scans the index instead of
// building the children map: cheaper for the small objects most inputs
// hold.
const smallIndex = 64

// posNode is one entry of an object's position index: a mapping key or a
// sequence item, its parent entry, and where it starts. Entries are in
// document order, so an entry's children follow it.
type posNode struct {
	parent int32
	index  int32 // sequence index, or -1 for a mapping key
	key    string
	line   int32
	col    int32
}

// Detached is an object put away to be read again later: a copy of its
// document's bytes and where they were, a tenth of the memory of the
// parsed object. A run keeps the objects that rules reading the whole run
// judge at its end this way.
type Detached struct {
	file   string
	doc    int
	item   int
	render string
	src    document
}

// InRender makes the object one of a render's: its world is the render's
// and it is never detached, so its document's bytes are let go (a list
// of large files is not held twice).
func (o *Object) InRender(render string) {
	o.Render, o.src = render, document{}
}

// Detach puts the object away, or returns nil when it cannot be read
// again as it is (an object rendered from a chart or kustomization, or
// one whose loader set fields the parser does not; a file a
// kustomization only lists is its own source and can be).
func (o *Object) Detach() *Detached {
	if o.src.data == nil || o.Mapper != nil || len(o.Assumed) > 0 {
		return nil
	}
	src := o.src
	src.data = bytes.Clone(src.data)
	return &Detached{file: o.File, doc: o.Doc, item: o.Item, render: o.Render, src: src}
}

// Object reads the object again: the same value and positions as when it
// was detached.
func (d *Detached) Object() *Object {
	objs, _, _ := parseDocument(d.file, d.doc, d.src)
	for _, o := range objs {
		if o.Item == d.item {
			o.Render = d.render
			return o
		}
	}
	// Cannot happen: the document parsed the same way before.
	return &Object{File: d.file, Doc: d.doc, Item: d.item, Render: d.render, Value: map[string]any{}}
}

// Start is the position of the object's first key.
func (o *Object) Start() Position {
	if len(o.index) == 0 {
		return Position{Line: 1, Column: 1}
	}
	return Position{Line: int(o.index[0].line), Column: int(o.index[0].col)}
}

// Pos resolves a field path ("spec.template.spec.containers[0].image",
// "metadata.labels[app]") to the position of that field's key, or of the
// sequence item. When the path does not exist (a missing field), it falls
// back to the deepest ancestor that does; exact reports which happened.
func (o *Object) Pos(path string) (pos Position, exact bool) {
	cur := 0
	if len(o.index) == 0 {
		return Position{Line: 1, Column: 1}, false
	}
	for _, seg := range parsePath(path) {
		next := o.child(cur, seg)
		if next < 0 {
			return Position{Line: int(o.index[cur].line), Column: int(o.index[cur].col)}, false
		}
		cur = next
	}
	return Position{Line: int(o.index[cur].line), Column: int(o.index[cur].col)}, true
}

// child returns the index entry under parent that seg names, or -1.
func (o *Object) child(parent int, seg segment) int {
	key := seg.key
	if seg.index >= 0 {
		key = ""
	}
	if len(o.index) >= smallIndex {
		o.childrenOnce.Do(func() {
			o.children = make(map[childKey]int32, len(o.index))
			for i, n := range o.index[1:] {
				k := childKey{parent: n.parent, index: n.index, key: n.key}
				if n.index >= 0 {
					k.key = ""
				}
				if _, dup := o.children[k]; !dup { // the first, as the scan finds
					o.children[k] = int32(i + 1)
				}
			}
		})
		if i, ok := o.children[childKey{parent: int32(parent), index: int32(seg.index), key: key}]; ok {
			return int(i)
		}
		return -1
	}
	for i := parent + 1; i < len(o.index); i++ {
		n := o.index[i]
		if int(n.parent) != parent {
			continue
		}
		if (seg.index < 0 && n.index < 0 && n.key == seg.key) || (seg.index >= 0 && int(n.index) == seg.index) {
			return i
		}
	}
	return -1
}
