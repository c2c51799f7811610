// Package policies holds the Rego policies shipped with klint, embedded in
// the binary. Each *.rego file is a package under klint.*; *_test.rego
// files are their OPA tests.
package policies

import "embed"

// FS holds the shipped policies and their tests.
//
//go:embed *.rego
var FS embed.FS
