package helm

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/strvals"
)

// mergeValues merges the values of -f/--values files and of --set,
// --set-string and --set-file in that order, as helm's
// values.Options.MergeValues does with no getters, which is how klint
// called it: a values file is a local path (or "-" for stdin), never a
// URL. Helm's values package is not linked for it: it imports the
// getters, and with them Helm's plugin runtime (a WebAssembly engine) and
// OCI registry client: 110 packages whose initialisation every klint run
// paid for and none used, and code that downloads, which a linter that
// fetches nothing has no use for.
func mergeValues(files, set, setString, setFile []string) (map[string]any, error) {
	base := map[string]any{}
	for _, path := range files {
		raw, err := readValuesFile(path)
		if err != nil {
			return nil, err
		}
		m, err := loader.LoadValues(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("failed to parse %s: %w", path, err)
		}
		base = loader.MergeMaps(base, m)
	}
	for _, v := range set {
		if err := strvals.ParseInto(v, base); err != nil {
			return nil, fmt.Errorf("failed parsing --set data: %w", err)
		}
	}
	for _, v := range setString {
		if err := strvals.ParseIntoString(v, base); err != nil {
			return nil, fmt.Errorf("failed parsing --set-string data: %w", err)
		}
	}
	for _, v := range setFile {
		read := func(rs []rune) (any, error) {
			b, err := readValuesFile(string(rs))
			return string(b), err
		}
		if err := strvals.ParseIntoFile(v, base, read); err != nil {
			return nil, fmt.Errorf("failed parsing --set-file data: %w", err)
		}
	}
	return base, nil
}

func readValuesFile(path string) ([]byte, error) {
	if strings.TrimSpace(path) == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(path)
}
