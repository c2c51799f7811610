// Package startgc keeps the garbage collector off while the packages a
// binary links initialise, and gives it back its pace when main starts.
//
// klint links about 1,950 packages whose initialisation allocates about
// 11 MB (schemes, feature gates, Helm's JSON-schema meta-schemas) on a
// heap whose first collection comes at 4 MB: three or four collections
// before main, of a heap that is nearly all still in use. A process whose
// run is short (klint version, one file in a pre-commit hook) pays them
// in its wall time. A main package imports it and calls Resume as main
// starts. Where it is imported does not matter: packages initialise in
// dependency order, ties broken by import path, so this one, which
// needs only runtime/debug, runs among the first, before the libraries'.
package startgc

import "runtime/debug"

// percent is the pace GOGC set (100 unless set), before initialisation
// turned the collector off.
var percent = debug.SetGCPercent(-1)

// Resume gives the collector the pace GOGC set. It may be called more
// than once.
func Resume() {
	debug.SetGCPercent(percent)
}
