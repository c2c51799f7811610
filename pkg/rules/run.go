package rules

// Run is the view of a world's objects that rules reading it get (one
// render, or all the plain files of a run): the indexes those rules
// declare (Rule.Indexes), each built from every object of the world
// before the rules run, and only read afterwards. The engine builds and
// merges them without knowing what they hold.
type Run struct {
	indexes map[*IndexSpec]Index
}

// An Index is what a rule reading the run records of each object: small,
// since the plain files' index lives until the end of the run (the
// labels and ports of pods, not the pods).
type Index interface {
	// Add records what an object contributes. Objects come in input
	// order within a file or render.
	Add(o *Object)
	// Merge folds in the index of a later file of the same world (the
	// same kind of Index, made by the same spec): the result is what
	// adding both files' objects in order would have recorded.
	Merge(later Index)
}

// IndexSpec declares an index that rules share by pointing at it.
type IndexSpec struct {
	// Name says what it indexes (for messages and tests).
	Name string
	// New makes an empty index.
	New func() Index
	// Kinds, when set, are the only kinds whose typed form Add needs
	// (the engine keeps it for them); nil: Add reads only what every
	// object keeps (metadata, and the pod view of pod-bearing kinds).
	Kinds []string
}

// indexOf is the run's index of spec, typed; a run without it (a rule
// called outside the engine) gets an empty one.
func indexOf[T Index](run *Run, spec *IndexSpec) T {
	if run != nil {
		if ix, ok := run.indexes[spec].(T); ok {
			return ix
		}
	}
	return spec.New().(T)
}

// ObjectKey tells the objects of a run apart: the input they came from,
// and their place in it.
type ObjectKey struct{ Unit, N int32 }

// NewRun is an empty run with an index of each spec.
func NewRun(specs []*IndexSpec) *Run {
	r := &Run{indexes: make(map[*IndexSpec]Index, len(specs))}
	for _, s := range specs {
		r.indexes[s] = s.New()
	}
	return r
}

// Add records o in every index of the run.
func (r *Run) Add(o *Object) {
	for _, ix := range r.indexes {
		ix.Add(o)
	}
}

// Merge folds a later part of the same world into r.
func (r *Run) Merge(later *Run) {
	for s, ix := range later.indexes {
		if mine, ok := r.indexes[s]; ok {
			mine.Merge(ix)
		} else {
			r.indexes[s] = ix
		}
	}
}

// RunOf builds the run of a world whose objects are all at hand (a
// render, or the one object of an admission request).
func RunOf(objs []*Object, specs []*IndexSpec) *Run {
	r := NewRun(specs)
	for _, o := range objs {
		r.Add(o)
	}
	return r
}

// sameNamespace reports whether two objects of a world can be in the same
// namespace: equal, or one of them left to kubectl (which decides it at
// apply time), so that a run never says something is missing just because
// one file set the namespace and the other did not.
func sameNamespace(a, b string) bool { return a == b || a == "" || b == "" }

// The merges most indexes need, over maps keyed by what they index:
// mergeLists appends the later file's entries after the earlier's (input
// order kept), mergeFirst keeps the earlier entry of a key. (A later
// entry winning, as a later apply would, is maps.Copy.)
func mergeLists[K comparable, V any, M ~map[K][]V](into, later M) {
	for k, v := range later {
		into[k] = append(into[k], v...)
	}
}

func mergeFirst[K comparable, V any, M ~map[K]V](into, later M) {
	for k, v := range later {
		if _, seen := into[k]; !seen {
			into[k] = v
		}
	}
}

// IndexOf is the run's index of spec, typed, for a rule defined outside
// this package.
func IndexOf[T Index](run *Run, spec *IndexSpec) T { return indexOf[T](run, spec) }

// MergeLists and MergeFirst are the merges of mergeLists and mergeFirst,
// for an index defined outside this package.
func MergeLists[K comparable, V any, M ~map[K][]V](into, later M) { mergeLists(into, later) }

// MergeFirst keeps the earlier entry of each key.
func MergeFirst[K comparable, V any, M ~map[K]V](into, later M) { mergeFirst(into, later) }
