package main

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/klint-dev/klint/pkg/boundary"
	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/fix"
	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/rules"
	"github.com/spf13/cobra"
)

func newFixCmd(stdout, stderr io.Writer) *cobra.Command {
	var f lintFlags
	var only []string
	var diff bool
	cmd := &cobra.Command{
		Use:   "fix [PATH...]",
		Short: "Apply the fixes rules offer to manifest files in place (or print them as a diff)",
		Long: `fix applies the fixes that rules offer (the JSON Patches the mutating webhook
applies) to plain manifest files, changing only the lines it adds: comments,
key order, quoting, indentation and other documents stay byte for byte.
Files rendered from charts and kustomizations are not rewritten: fix says
which change the template or patch needs instead. The restricted Pod Security
profile's safe defaults are applied only when asked for with
--rule pod-security-restricted.

fix runs lint's run, with the same config and flags, and applies each fix to
the document its finding came from.

Exit codes: 0 nothing left to fix; 1 fixes were applied (or, with --diff,
would be); 2 usage error, or an input that could not be read, parsed or
rendered (said on stderr; the other files are still fixed).`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"."}
			}
			if slices.Contains(args, inputs.Stdin) {
				return &exitCodeError{exitError, fmt.Errorf("fix rewrites files; it cannot fix standard input")}
			}
			// Lint's run, from the same config and flags (the rules asked
			// for with --rule turned on).
			f.enable = only
			r, err := setUp(cmd.Context(), f, args, nil, stderr)
			if err != nil {
				return &exitCodeError{exitError, err}
			}
			defer r.close()
			res := r.eng.RunInputs(cmd.Context(), r.in)
			changed, err := applyFixes(r, res, only, diff, stdout, stderr)
			if err != nil {
				return &exitCodeError{exitError, err}
			}
			if res.HasInputErrors() {
				// What could not be read is said, and the rest fixed.
				for _, f := range res.Findings {
					if rule := rules.Lookup(f.Rule); rule != nil && rule.InputError {
						fmt.Fprintf(stderr, "klint: %s:%d:%d: %s: %s\n", f.File, f.Line, f.Column, f.Rule, f.Message)
					}
				}
				return &exitCodeError{exitError, nil}
			}
			if changed > 0 {
				return &exitCodeError{exitFindings, nil}
			}
			return nil
		},
	}
	addEngineFlags(cmd.Flags(), &f)
	cmd.Flags().StringSliceVar(&only, "rule", nil, "apply only the fixes of these rules (repeatable, or comma-separated)")
	cmd.Flags().BoolVar(&diff, "diff", false, "print a unified diff and write nothing")
	cmd.Flags().StringArrayVar(&f.allowOutside, "allow-outside", nil, "also read (and fix) files under this path, outside the repository being fixed (repeatable)")
	return cmd
}

// wanted reports whether a finding's fix is asked for: named with
// --rule, or, without it, any fix but those their rule makes opt-in.
func wanted(eng *engine.Engine, f rules.Finding, only []string) bool {
	if len(f.Fix) == 0 {
		return false
	}
	if len(only) == 0 {
		r := eng.Rule(f.Rule)
		return r == nil || !r.FixOptIn
	}
	return slices.Contains(only, f.Rule)
}

// applyFixes applies the wanted fixes of a run's findings to the
// documents they came from, file by file, and says which fixes of
// rendered objects belong in a template or patch instead; it returns how
// many files changed (or would) and rendered fixes it named.
func applyFixes(r *runSetup, res *engine.Result, only []string, diff bool, stdout, stderr io.Writer) (int, error) {
	edits := map[string][]fix.Edit{}
	var files []string
	changed := 0
	inList := map[rules.Origin]bool{}
	for _, f := range res.Findings {
		if !wanted(r.eng, f, only) {
			continue
		}
		switch {
		case f.Origin.Rendered:
			// A rendered output is not a file to rewrite: the change
			// belongs in the template or patch at the finding's position.
			var ops []string
			for _, op := range f.Fix {
				ops = append(ops, fmt.Sprintf("%s %s %v", op.Op, op.Path, op.Value))
			}
			fmt.Fprintf(stdout, "%s:%d:%d: %s: not rewritten (rendered from %s); change the source there: %s\n",
				f.File, f.Line, f.Column, f.Rule, strings.Join(f.Renders, ", "), strings.Join(ops, "; "))
			changed++
		case f.Origin.Item >= 0:
			if inList[f.Origin] {
				continue // said once per object
			}
			inList[f.Origin] = true
			fmt.Fprintf(stderr, "klint: %s: not fixed (%s %s is an item of a List); apply it by hand\n", f.Origin.File, f.Object.Kind, f.Object.Name)
		default:
			if _, ok := edits[f.Origin.File]; !ok {
				files = append(files, f.Origin.File)
			}
			edits[f.Origin.File] = append(edits[f.Origin.File], fix.Edit{Doc: f.Origin.Doc, Ops: f.Fix})
		}
	}
	for _, file := range files {
		n, err := fixFile(r.bound, file, edits[file], diff, stdout, stderr)
		if err != nil {
			return changed, err
		}
		changed += n
	}
	return changed, nil
}

// fixFile applies edits to one plain file; it returns 1 when the file
// changed (or would).
func fixFile(bound *boundary.Boundary, file string, edits []fix.Edit, diff bool, stdout, stderr io.Writer) (int, error) {
	data, err := bound.ReadFile(file, manifest.MaxFileSize)
	if err != nil {
		return 0, err
	}
	if len(data) >= 2 && (data[0] == 0xFF && data[1] == 0xFE || data[0] == 0xFE && data[1] == 0xFF) {
		fmt.Fprintf(stderr, "klint: %s: not fixed: klint fix rewrites UTF-8 files only (this one is UTF-16)\n", file)
		return 0, nil
	}
	out, skipped := fix.Apply(data, edits)
	for _, s := range skipped {
		fmt.Fprintf(stderr, "klint: %s: not fixed (%s); apply it by hand\n", file, s)
	}
	if bytes.Equal(out, data) {
		return 0, nil
	}
	if diff {
		return 1, fix.Diff(stdout, file, data, out)
	}
	if err := fix.WriteFile(file, out); err != nil {
		return 0, err
	}
	fmt.Fprintf(stdout, "fixed %s\n", file)
	return 1, nil
}
