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
	"github.com/klint-dev/klint/pkg/helm"
	"github.com/klint-dev/klint/pkg/manifest"
	"github.com/klint-dev/klint/pkg/render"
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

Exit codes: 0 nothing left to fix; 1 fixes were applied (or, with --diff,
would be); 2 usage error or unreadable input.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"."}
			}
			cfg, err := loadConfig(f.config)
			if err != nil {
				return &exitCodeError{exitError, err}
			}
			// The engine lint builds, from the same config and flags
			// (the rules asked for with --rule turned on).
			f.enable = only
			set, err := resolve(f, &cfg.Config)
			if err != nil {
				return &exitCodeError{exitError, err}
			}
			eng, err := engine.New(cmd.Context(), set.engine)
			if err != nil {
				return &exitCodeError{exitError, err}
			}
			bound, err := runBoundary(args, nil, f.allowOutside, cfg)
			if err != nil {
				return &exitCodeError{exitError, err}
			}
			inputs := manifest.ExpandWithin(bound, args, append(set.exclude, baselineGlobs(set.baseline)...)...)
			changed := 0
			for _, in := range inputs {
				if in.Problem != nil {
					return &exitCodeError{exitError, in.Problem}
				}
				if in.Path == manifest.Stdin {
					return &exitCodeError{exitError, fmt.Errorf("fix rewrites files; it cannot fix standard input")}
				}
				if in.Kind != manifest.PlainFile {
					n := reportRenderedFixes(cmd, eng, bound, in, only, stdout)
					changed += n
					continue
				}
				n, err := fixFile(cmd, eng, bound, in.Path, only, diff, stdout, stderr)
				if err != nil {
					return &exitCodeError{exitError, err}
				}
				changed += n
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

// fixFile applies the fixes of one plain file; it returns 1 when the file
// changed (or would).
func fixFile(cmd *cobra.Command, eng *engine.Engine, bound *boundary.Boundary, file string, only []string, diff bool, stdout, stderr io.Writer) (int, error) {
	data, err := bound.ReadFile(file, manifest.MaxFileSize)
	if err != nil {
		return 0, err
	}
	if len(data) >= 2 && (data[0] == 0xFF && data[1] == 0xFE || data[0] == 0xFE && data[1] == 0xFF) {
		fmt.Fprintf(stderr, "klint: %s: not fixed: klint fix rewrites UTF-8 files only (this one is UTF-16)\n", file)
		return 0, nil
	}
	objs, probs := manifest.Parse(file, data)
	res := eng.Run(cmd.Context(), &manifest.Set{Files: 1, Objects: objs, Problems: probs})
	docs := manifest.SplitDocuments(data)
	var edits []fix.Edit
	for _, f := range res.Findings {
		if !wanted(eng, f, only) {
			continue
		}
		// The finding's line says which document it is about: two
		// objects of one kind and name in a file are two documents.
		doc := -1
		for i, d := range docs {
			if d.FirstLine <= f.Line {
				doc = i
			}
		}
		for _, o := range objs {
			if o.Item < 0 && o.Doc == doc && o.Kind == f.Object.Kind && o.Name == f.Object.Name {
				edits = append(edits, fix.Edit{Doc: o.Doc, Ops: f.Fix})
				break
			}
		}
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

// reportRenderedFixes says which fixes a chart or kustomization needs: its
// rendered output is not a file to rewrite, so the change belongs in the
// template or patch at the finding's position.
func reportRenderedFixes(cmd *cobra.Command, eng *engine.Engine, bound *boundary.Boundary, in manifest.Input, only []string, stdout io.Writer) int {
	set := manifest.LoadWith([]manifest.Input{in}, nil, render.Func(helm.Options{KubeVersion: eng.KubeVersion(), Boundary: bound}))
	res := eng.Run(cmd.Context(), set)
	n := 0
	for _, f := range res.Findings {
		if !wanted(eng, f, only) {
			continue
		}
		var ops []string
		for _, op := range f.Fix {
			ops = append(ops, fmt.Sprintf("%s %s %v", op.Op, op.Path, op.Value))
		}
		fmt.Fprintf(stdout, "%s:%d:%d: %s: not rewritten (rendered from %s); change the source there: %s\n",
			f.File, f.Line, f.Column, f.Rule, in.Path, strings.Join(ops, "; "))
		n++
	}
	return n
}
