package engine

import (
	"slices"
	"testing"

	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/rules"
)

// order is an index that records the files it was made of, in the order
// it was merged.
type order struct{ files *[]string }

func (o order) Add(obj *rules.Object) { *o.files = append(*o.files, obj.File) }
func (o order) Merge(later rules.Index) {
	*o.files = append(*o.files, *later.(order).files...)
}

var orderSpec = &rules.IndexSpec{Name: "order", New: func() rules.Index { return order{files: new([]string)} }}

// Units merge into their worlds in input order, whatever order they are
// checked in, each into its own world, and let their index go.
func TestWorldsMergeInInputOrder(t *testing.T) {
	names := []string{"a.yaml", "b.yaml", "k/c.yaml", "d.yaml", "k/e.yaml"}
	worldOf := []string{"", "", "k", "", "k"}
	for _, finish := range [][]int{{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 0, 4, 1, 3}} {
		units := make([]*unitResult, len(names))
		w := newWorlds(units)
		for _, i := range finish {
			u := &unitResult{world: worldOf[i], index: rules.NewRun([]*rules.IndexSpec{orderSpec})}
			objs, _ := manifest.Parse(names[i], []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"))
			u.index.Add(&rules.Object{Object: objs[0]})
			w.done(i, u)
			if u.index != nil && w.next > i {
				t.Errorf("finishing %v: unit %d merged but its index kept", finish, i)
			}
		}
		if w.next != len(units) {
			t.Fatalf("finishing %v: %d of %d units merged", finish, w.next, len(units))
		}
		want := map[string][]string{"": {"a.yaml", "b.yaml", "d.yaml"}, "k": {"k/c.yaml", "k/e.yaml"}}
		for world, files := range want {
			got := *rules.IndexOf[order](w.runs[world], orderSpec).files
			if !slices.Equal(got, files) {
				t.Errorf("finishing %v: world %q merged %v, want %v", finish, world, got, files)
			}
		}
		for i, run := range w.ofUnit {
			if run != w.runs[worldOf[i]] {
				t.Errorf("finishing %v: unit %d's world is not %q's run", finish, i, worldOf[i])
			}
		}
	}
}
