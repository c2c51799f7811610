package rules

import (
	"fmt"
	"path/filepath"

	k8sschema "k8s.io/apimachinery/pkg/runtime/schema"
)

var _ = register(&Rule{
	ID: "duplicate-object", Theme: ThemeWorkloads, NoFix: "which of the two objects is meant is the author's call",
	Severity:    Error,
	Source:      SourceGo,
	CrossObject: true,
	// Every object is a candidate, settled when its world's index is
	// complete: no object waits for the end of the run.
	Holds:       true,
	Indexes:     []*IndexSpec{identitiesIndex},
	Description: "Two objects with the same group, kind, namespace and name: in one render (a chart's values set, a kustomization), or in the plain files of one directory.",
	Rationale:   "They are one object to the API server: applying the set creates the first and overwrites it with the second, so one of the two silently never exists (helm install refuses the release). Plain files of different directories are not compared: a directory per environment or cluster commonly repeats the same objects.",
	Remediation: "Rename one of the objects, or delete the copy; if both are meant for different clusters, keep them in different directories.",
	Check:       checkDuplicateObject,
})

// identity is an object's identity to the API server, within a set of
// objects applied together (dir: the directory of a plain file; "" in a
// render).
type identity struct{ dir, group, kind, ns, name string }

// occurrences are an identity's first object, where it is, and how
// many objects have the identity.
type occurrences struct {
	first ObjectKey
	where string
	n     int
}

// identitiesIndex is where each identity of a world is first named.
var identitiesIndex = &IndexSpec{Name: "identities", New: func() Index { return identities{} }}

type identities map[identity]occurrences

func identityOf(o *Object) (identity, bool) {
	if o.Name == "" || o.Kind == "" {
		return identity{}, false // generateName, or a schema finding
	}
	id := identity{group: k8sschema.FromAPIVersionAndKind(o.APIVersion, o.Kind).Group, kind: o.Kind, ns: o.Namespace, name: o.Name}
	if o.Render == "" {
		id.dir = filepath.Dir(o.File)
	}
	return id, true
}

func (ix identities) Add(o *Object) {
	id, ok := identityOf(o)
	if !ok {
		return
	}
	occ, seen := ix[id]
	if !seen {
		pos, _ := o.Pos("metadata.name")
		occ = occurrences{first: o.Key, where: fmt.Sprintf("%s:%d", o.File, pos.Line)}
	}
	occ.n++
	ix[id] = occ
}

func (ix identities) Merge(later Index) {
	for id, occ := range later.(identities) {
		if mine, ok := ix[id]; ok {
			mine.n += occ.n
			occ = mine
		}
		ix[id] = occ
	}
}

// checkDuplicateObject names every object; its report is kept when the
// object's identity is not first its own.
func checkDuplicateObject(o *Object, _ *Run, _ Params) []Report {
	id, ok := identityOf(o)
	if !ok {
		return nil
	}
	key := o.Key
	return []Report{{Path: "metadata.name", Message: fmt.Sprintf("%s %q is defined again", o.Kind, o.Name),
		Settle: func(f *Finding, run *Run) bool {
			occ := indexOf[identities](run, identitiesIndex)[id]
			if occ.n < 2 || occ.first == key {
				return false
			}
			f.Message += fmt.Sprintf(": the first is at %s, and applying both keeps only one", occ.where)
			return true
		}}}
}
