package rules

import (
	"fmt"
	"path/filepath"

	k8sschema "k8s.io/apimachinery/pkg/runtime/schema"
)

var _ = register(&Rule{
	ID:          "duplicate-object",
	Severity:    Error,
	Source:      SourceGo,
	CrossObject: true,
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

type firstOf struct {
	key   objectKey
	where string
}

// identitiesIndex is where each identity of a world is first defined.
var identitiesIndex = &IndexSpec{Name: "identities", New: func() Index { return identities{} }}

type identities map[identity]firstOf

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
	if id, ok := identityOf(o); ok {
		if _, seen := ix[id]; !seen {
			ix[id] = firstOf{o.key, fmt.Sprintf("%s:%d", o.File, o.Start().Line)}
		}
	}
}

func (ix identities) Merge(later Index) { mergeFirst(ix, later.(identities)) }

func checkDuplicateObject(o *Object, run *Run, _ Params) []Report {
	id, ok := identityOf(o)
	if !ok {
		return nil
	}
	first, ok := indexOf[identities](run, identitiesIndex)[id]
	if !ok || first.key == o.key {
		return nil
	}
	return []Report{{Path: "metadata.name", Message: fmt.Sprintf("%s %q is defined again: the first is at %s, and applying both keeps only one", o.Kind, o.Name, first.where)}}
}
