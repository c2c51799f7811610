// Command klint checks Kubernetes manifests: schema errors the API server
// would reject, removed APIs, and the mistakes that bite in production.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/klint-dev/klint/internal/gcpace"
	"github.com/klint-dev/klint/pkg/admission"
	"github.com/klint-dev/klint/pkg/boundary"
	"github.com/klint-dev/klint/pkg/config"
	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/helm"
	"github.com/klint-dev/klint/pkg/report"
	"github.com/klint-dev/klint/pkg/schema"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// Exit codes.
const (
	exitOK       = 0 // no finding at or above --fail-on
	exitFindings = 1 // findings at or above --fail-on
	exitError    = 2 // usage error, unreadable input or invalid YAML
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

// exitProcess ends the process (a variable for the tests).
var exitProcess = os.Exit

// gcFloor is the heap klint lets grow before a collection (gcpace). On
// the corpus it brings the collections from 27 to 17 (without its
// kustomizations) and the CPU down 8-10 % for 2 MB more at the peak, which
// the live heap's own pace reaches anyway; 64 MiB saved no more CPU and
// cost 25-40 MB (docs/performance.md).
const gcFloor = 48 << 20

func main() {
	gcpace.Start(gcFloor)
	stderr := os.Stderr
	// kustomize prints its deprecation warnings straight to os.Stderr
	// while building; klint reports them as kustomize-deprecated findings,
	// and its own messages go to the stderr it was given.
	if null, err := os.Open(os.DevNull); err == nil {
		os.Stderr = null
	}
	// klint runs no program: with no PATH, a library that would (kustomize
	// clones remote bases with git) finds none to run.
	os.Setenv("PATH", "")
	// KLINT_CPUPROFILE writes a CPU profile of the run (docs/development.md).
	if p := os.Getenv("KLINT_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil && pprof.StartCPUProfile(f) == nil {
			code := run(os.Args[1:], os.Stdin, os.Stdout, stderr)
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, stderr))
}

// exitCodeError carries the exit code of a failed run; err, when set, is
// printed to stderr.
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

// run is main without the process: tests call it directly.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ec *exitCodeError
	if errors.As(err, &ec) {
		if ec.err != nil {
			fmt.Fprintln(stderr, "klint:", ec.err)
		}
		return ec.code
	}
	fmt.Fprintln(stderr, "klint:", err)
	return exitError
}

type lintFlags struct {
	formats      []string
	outputs      []string
	failOn       string
	kubeVersion  string
	config       string
	policies     []string
	crds         []string
	enable       []string
	disable      []string
	context      []string
	color        string
	exclude      []string
	skipNonK8s   bool
	progress     bool
	baseline     string
	writeBase    string
	base         string
	admissionPol []string
	helm         helm.Options
	allowOutside []string
}

// addEngineFlags registers the flags that decide how the engine is built
// and what it reads, shared by lint and fix so that both judge a file
// alike.
func addEngineFlags(fl *pflag.FlagSet, f *lintFlags) {
	fl.StringVar(&f.kubeVersion, "kube-version", "", "Kubernetes version to check apiVersions against (default "+schema.DefaultKubeVersion+", or kubeVersion in the config)")
	fl.StringVar(&f.config, "config", "", "config file (default .klint.yaml in the current directory, if there is one)")
	fl.StringArrayVar(&f.policies, "policy", nil, "directory of Rego policies to load beside the shipped ones (repeatable)")
	fl.StringArrayVar(&f.crds, "crd", nil, "file or directory of CustomResourceDefinitions to validate custom resources against, beside those among the inputs (repeatable)")
	fl.StringArrayVar(&f.exclude, "exclude", nil, "leave out paths matching this glob when searching directories (repeatable; relative to the working directory; ** matches directories)")
	fl.StringSliceVar(&f.disable, "disable", nil, "turn a rule off (repeatable, or comma-separated)")
	fl.StringArrayVar(&f.context, "context", nil, "also read the manifests under this directory for cross-object rules, but report only on PATHs (repeatable; for pre-commit hooks)")
	fl.BoolVar(&f.skipNonK8s, "skip-non-kubernetes", false, "skip named files that hold no Kubernetes object at all, as files found in directories are (for pre-commit hooks, which name every changed .yaml and .json)")
	fl.StringArrayVarP(&f.helm.ValueFiles, "values", "f", nil, "Helm values file for the charts named on the command line (repeatable)")
	fl.StringArrayVar(&f.helm.Values, "set", nil, "Helm --set for the charts named on the command line (repeatable)")
	fl.StringArrayVar(&f.helm.StringValues, "set-string", nil, "Helm --set-string for the charts named on the command line (repeatable)")
	fl.StringArrayVar(&f.helm.FileValues, "set-file", nil, "Helm --set-file for the charts named on the command line (repeatable)")
	fl.StringVar(&f.helm.ReleaseName, "release-name", "release-name", "Helm release name charts are rendered with")
	fl.StringVar(&f.helm.Namespace, "namespace", "default", "Helm release namespace charts are rendered with")
	fl.DurationVar(&f.helm.Timeout, "render-timeout", helm.DefaultTimeout, "how long one values set of a chart, or one kustomization, may take to render")
}

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	var f lintFlags
	root := &cobra.Command{
		Use:   "klint [PATH...]",
		Short: "Lint Kubernetes manifests",
		Long: `klint checks Kubernetes manifests offline: what the API server would reject
(unknown fields, wrong types, invalid names, removed APIs) and the mistakes
that bite in production (selectors that match nothing, :latest images,
missing probes, secrets in plain text).

PATH is a file, a directory (searched recursively for .yaml, .yml and .json)
or - for standard input. The default is the current directory.

Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it;
2 usage error, or input that could not be read, parsed or rendered (everything else is still linted and reported first).`,
		Args:          cobra.ArbitraryArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return lint(cmd.Context(), f, args, stdin, stdout, stderr)
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitCodeError{exitError, err}
	})
	fl := root.Flags()
	fl.StringArrayVarP(&f.formats, "format", "o", nil, "output format: "+strings.Join(report.Names(), ", ")+" (repeatable; pairs by position with --output; default text)")
	fl.StringArrayVar(&f.outputs, "output", nil, "write the report of the --format in the same position to this file instead of stdout (repeatable)")
	fl.StringVar(&f.failOn, "fail-on", "", "lowest severity that makes klint exit 1: error, warning or info (default warning, or failOn in the config)")
	addEngineFlags(fl, &f)
	fl.StringSliceVar(&f.enable, "enable", nil, "turn a rule on (repeatable, or comma-separated)")
	fl.StringVar(&f.color, "color", "auto", "colour text output: auto (on a terminal, unless NO_COLOR is set), always or never")
	fl.StringVar(&f.baseline, "baseline", "", "report only findings that this baseline file does not list (or baseline in the config)")
	fl.StringVar(&f.base, "base", "", "judge the run as the update of the inputs at this git revision (a branch such as origin/main, a tag or a commit; or KLINT_BASE, or base in the config): a changed object is validated as the API server validates its update")
	fl.StringArrayVar(&f.admissionPol, "admission-policies", nil, "also judge every object by the ValidatingAdmissionPolicies, bindings and params under this path (a dump of a cluster's policies; repeatable), beside those among the inputs")
	fl.StringVar(&f.writeBase, "write-baseline", "", "record the current findings in this baseline file (keeping the reasons and expiry dates of entries that still match) and exit 0")
	fl.BoolVar(&f.progress, "progress", false, "show progress on stderr even when it is not a terminal or CI is set (on a terminal it shows by itself for runs over a second)")
	fl.StringArrayVar(&f.allowOutside, "allow-outside", nil, "also read files under this path, outside the repository being linted, when a symlink, chart or kustomization leads there (repeatable)")

	completeValues(root)
	root.AddCommand(newRulesCmd(stdout), newVersionCmd(stdout), newReviewCmd(stdout), newFixCmd(stdout, stderr), newAdmissionPoliciesCmd(stdout))
	// cobra's completion command, which does not run, shows its help and
	// exits 0 for a shell it does not know; one that runs (its help) makes
	// cobra refuse an unknown shell as an unknown command (exit 2).
	root.InitDefaultCompletionCmd()
	if c, _, err := root.Find([]string{"completion"}); err == nil && c != root {
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	}
	return root
}

// completeValues makes shell completion (klint completion bash|zsh|fish)
// offer the values of the flags that take a fixed set.
func completeValues(root *cobra.Command) {
	fixed := func(vals ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			return vals, cobra.ShellCompDirectiveNoFileComp
		}
	}
	ruleIDs := func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		eng, err := engine.New(cmd.Context(), engine.Options{})
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var ids []string
		for _, r := range eng.Rules() {
			ids = append(ids, r.ID+"\t"+firstSentence(r.Description))
		}
		return ids, cobra.ShellCompDirectiveNoFileComp
	}
	_ = root.RegisterFlagCompletionFunc("format", fixed(report.Names()...))
	_ = root.RegisterFlagCompletionFunc("fail-on", fixed("error", "warning", "info"))
	_ = root.RegisterFlagCompletionFunc("color", fixed("auto", "always", "never"))
	_ = root.RegisterFlagCompletionFunc("enable", ruleIDs)
	_ = root.RegisterFlagCompletionFunc("disable", ruleIDs)
}

func firstSentence(s string) string {
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i]
	}
	return strings.TrimSuffix(s, ".")
}

func lint(ctx context.Context, f lintFlags, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		args = []string{"."}
	}
	outs, err := pairOutputs(f.formats, f.outputs)
	if err != nil {
		return &exitCodeError{exitError, err}
	}
	if f.color != "auto" && f.color != "always" && f.color != "never" {
		return &exitCodeError{exitError, fmt.Errorf("--color: %q is not one of auto, always, never", f.color)}
	}
	r, err := setUp(ctx, f, args, stdin, stderr)
	if err != nil {
		return &exitCodeError{exitError, err}
	}
	defer r.close()
	eng, set, in := r.eng, r.set, r.in
	meter := newProgress(f.progress, stderr)
	in.Progress = meter.callback()
	res := eng.RunInputs(ctx, in)
	meter.finish()
	baseline := set.baseline
	if f.writeBase != "" {
		return writeBaseline(f.writeBase, res, stderr)
	}
	if baseline != "" {
		b, err := engine.ReadBaseline(baseline, false)
		if err != nil {
			return &exitCodeError{exitError, err}
		}
		eng.ApplyBaseline(res, b, time.Now())
	}
	code := set.exitStatus(res)
	run := &report.Run{Result: res, Rules: eng.Rules(), ToolVersion: buildVersion(), ExitCode: code, FailOn: set.failOn}
	if p := os.Getenv("GITHUB_STEP_SUMMARY"); p != "" && slices.ContainsFunc(outs, func(o output) bool { return o.format == "github" }) {
		if sf, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			defer sf.Close()
			run.StepSummary = sf
		}
	}
	for _, o := range outs {
		if err := o.write(run, stdout, f.color); err != nil {
			return &exitCodeError{exitError, err}
		}
	}
	if code != exitOK {
		return &exitCodeError{code, nil}
	}
	return nil
}

// baselineGlobs are exclude globs for the run's baseline files: a
// directory search does not read klint's own baseline as a manifest (it
// would be a skipped file on every run after --write-baseline).
func baselineGlobs(files ...string) []string {
	wd, err := os.Getwd()
	if err != nil {
		return nil
	}
	var out []string
	for _, f := range files {
		if f == "" {
			continue
		}
		abs, err := filepath.Abs(f)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(wd, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			out = append(out, globEscape(filepath.ToSlash(rel)))
		}
	}
	return out
}

// globEscape makes a path match itself as a glob.
func globEscape(p string) string {
	return strings.NewReplacer(`\`, `\\`, "*", `\*`, "?", `\?`, "[", `\[`).Replace(p)
}

// writeBaseline records the run's findings in file, keeping the reasons
// and expiry dates of the entries that still match.
func writeBaseline(file string, res *engine.Result, stderr io.Writer) error {
	old, err := engine.ReadBaseline(file, true)
	if err != nil {
		return &exitCodeError{exitError, err}
	}
	data, err := engine.NewBaseline(res, old).Marshal()
	if err == nil {
		err = os.WriteFile(file, data, 0o644)
	}
	if err != nil {
		return &exitCodeError{exitError, fmt.Errorf("--write-baseline: %w", err)}
	}
	fmt.Fprintf(stderr, "klint: wrote %d findings to %s\n", len(res.Findings), file)
	return nil
}

// output is one report: a format, and a file or stdout ("").
type output struct {
	format, file string
}

// pairOutputs pairs each --format with the --output in the same position;
// formats without one go to stdout, and at most one may.
func pairOutputs(formats, files []string) ([]output, error) {
	if len(formats) == 0 {
		formats = []string{"text"}
	}
	if len(files) > len(formats) {
		return nil, fmt.Errorf("--output %s has no --format to pair with (give a --format for each --output, in the same order)", files[len(formats)])
	}
	known := report.Names()
	var outs []output
	stdouts := 0
	for i, fm := range formats {
		if !slices.Contains(known, fm) {
			return nil, fmt.Errorf("--format %q: want one of %s", fm, strings.Join(known, ", "))
		}
		o := output{format: fm}
		if i < len(files) {
			o.file = files[i]
		} else {
			stdouts++
		}
		outs = append(outs, o)
	}
	if stdouts > 1 {
		return nil, fmt.Errorf("%d formats would go to standard output; give each but one an --output file", stdouts)
	}
	return outs, nil
}

// write writes one report; colour only for text on a terminal.
func (o output) write(run *report.Run, stdout io.Writer, colorFlag string) error {
	w := stdout
	if o.file != "" {
		f, err := os.Create(o.file)
		if err != nil {
			return fmt.Errorf("--output: %w", err)
		}
		defer f.Close()
		w = f
	}
	r := *run
	r.Color = o.format == "text" && (colorFlag == "always" || (colorFlag == "auto" && os.Getenv("NO_COLOR") == "" && isTerminal(w)))
	if o.format != "github" {
		r.StepSummary = nil
	}
	if err := report.Write(w, o.format, &r); err != nil {
		return err
	}
	if f, ok := w.(*os.File); ok && o.file != "" {
		return f.Close()
	}
	return nil
}

// runBoundary is what a run may read: the repository of each input path
// (boundary.ForPaths), the paths given on the command line (the user's
// word: --allow-outside, --policy, --crd, --baseline, Helm's -f and
// --set-file), and what the config allows (config.File.Widen).
func runBoundary(paths []string, f *lintFlags, allowOutside []string, cfg *config.File) (*boundary.Boundary, error) {
	b := boundary.ForPaths(paths...)
	b.Allow(allowOutside...)
	if f != nil {
		b.Allow(f.policies...)
		b.Allow(f.crds...)
		b.Allow(f.admissionPol...)
		b.Allow(f.helm.ValueFiles...)
		for _, kv := range f.helm.FileValues {
			if _, file, ok := strings.Cut(kv, "="); ok {
				b.Allow(file)
			}
		}
		if f.baseline != "" {
			b.Allow(f.baseline)
		}
	}
	if err := cfg.Widen(b); err != nil {
		return nil, err
	}
	return b, nil
}

// loadConfig reads --config, else .klint.yaml when there is one; with
// neither, the config is empty.
func loadConfig(file string) (*config.File, error) {
	if file == "" {
		if _, err := os.Stat(config.DefaultFile); err != nil {
			return &config.File{}, nil
		}
		file = config.DefaultFile
	}
	return config.Load(file)
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newRulesCmd(stdout io.Writer) *cobra.Command {
	var format, config string
	var policies []string
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List the rules (built-in and Rego), or write their reference as Markdown",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(config)
			if err != nil {
				return &exitCodeError{exitError, err}
			}
			eng, err := engine.New(cmd.Context(), engine.Options{Config: &cfg.Config, PolicyDirs: policies})
			if err != nil {
				return &exitCodeError{exitError, err}
			}
			switch format {
			case "text":
				return report.RulesText(stdout, eng.Rules(), eng.Enabled)
			case "markdown":
				return report.RulesMarkdown(stdout, eng.Rules())
			case "table":
				return report.RulesTable(stdout, eng.Rules())
			}
			return &exitCodeError{exitError, fmt.Errorf("--format %q: want text, markdown or table", format)}
		},
	}
	cmd.Flags().StringVarP(&format, "format", "o", "text", "text, markdown (the reference, docs/rules.md) or table (the rules by theme, as README shows them)")
	cmd.Flags().StringVar(&config, "config", "", "config file (default .klint.yaml, if present)")
	cmd.Flags().StringArrayVar(&policies, "policy", nil, "directory of Rego policies to list too (repeatable)")
	return cmd
}

func newReviewCmd(stdout io.Writer) *cobra.Command {
	var config string
	var policies []string
	var mutate bool
	cmd := &cobra.Command{
		Use:   "review FILE",
		Short: "Replay a saved AdmissionReview through the webhook's engine and print the AdmissionReview it would answer",
		Long: `review reads an admission.k8s.io/v1 AdmissionReview (JSON or YAML; - for stdin)
and prints the response the admission webhook would give, using the same
config (its admission section) and policies.

Exit codes: 0 allowed; 1 denied; 2 the review could not be read or judged.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := loadConfig(config)
			if err != nil {
				return &exitCodeError{exitError, err}
			}
			rv, err := cfg.Reviewer(cmd.Context(), policies, nil)
			if err != nil {
				return &exitCodeError{exitError, err}
			}
			data, err := readFileOrStdin(args[0], cmd.InOrStdin())
			if err != nil {
				return &exitCodeError{exitError, err}
			}
			out, err := admission.ReviewFile(cmd.Context(), rv, data, mutate)
			if err != nil {
				return &exitCodeError{exitError, fmt.Errorf("%s: %w", args[0], err)}
			}
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(out); err != nil {
				return &exitCodeError{exitError, err}
			}
			if !out.Response.Allowed {
				return &exitCodeError{exitFindings, nil}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&config, "config", "", "config file (default .klint.yaml, if present)")
	cmd.Flags().StringArrayVar(&policies, "policy", nil, "directory of Rego policies (repeatable)")
	cmd.Flags().BoolVar(&mutate, "mutate", false, "answer as the mutating webhook (print the JSON Patch) instead of the validating one")
	return cmd
}

func readFileOrStdin(name string, stdin io.Reader) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(stdin)
	}
	return os.ReadFile(name)
}

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print klint's version and the Kubernetes version it targets by default",
		Args:  cobra.NoArgs,
		Run: func(*cobra.Command, []string) {
			fmt.Fprintf(stdout, "klint %s (default Kubernetes target %s)\n", buildVersion(), schema.DefaultKubeVersion)
		},
	}
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
