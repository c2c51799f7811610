package manifest

// Location is a place in a file a person edits: the file, line and column,
// and whether it is exact. A field of a plain manifest is exactly where its
// key is; a field of a rendered object (a Helm chart, a kustomization) is
// mapped back to the template, values file, base or patch that made it,
// and that mapping is sometimes only approximate.
type Location struct {
	File   string
	Line   int
	Column int
	// Approximate is true when the source of the field could not be known
	// exactly and Line points at the nearest thing that can be named (the
	// template's first line, the kustomization file).
	Approximate bool
}

// Related is a second place that explains a finding: the values file line
// a template action took its value from, the line that included a named
// template, the overlay that patched a base.
type Related struct {
	Location
	Message string
}

// Mapper maps a rendered object's field to the source a person edits. pos
// is the field's position in the rendered text (as Pos resolves it) and
// exact says whether the field itself exists there.
type Mapper interface {
	Map(o *Object, path string, pos Position, exact bool) (Location, []Related)
}

// Locate resolves a field path to the place a person edits. For a plain
// manifest that is the field's key in o.File; for a rendered object the
// object's Mapper decides.
func (o *Object) Locate(path string) (Location, []Related) {
	pos, exact := o.Pos(path)
	if o.Mapper != nil {
		return o.Mapper.Map(o, path, pos, exact)
	}
	return Location{File: o.File, Line: pos.Line, Column: pos.Column}, nil
}
