package helm

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/chart/common"
	cutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"
)

func TestDebugDiff(t *testing.T) {
	dir := os.Getenv("CHART")
	ch, _ := loader.LoadDir(dir)
	rv, _ := cutil.ToRenderValues(ch, map[string]any{}, common.ReleaseOptions{Name: "release-name", Namespace: "default", IsInstall: true}, common.DefaultCapabilities)
	src := collectTemplates(ch, dir)
	plain, err := engine.Engine{}.Render(ch, rv)
	fmt.Println(err)
	for _, tt := range src {
		tt.file.Data = mark(tt.data, tt.id)
	}
	marked, err := engine.Engine{}.Render(ch, rv)
	fmt.Println(err)
	for n, p := range plain {
		m := markerRe.ReplaceAllString(marked[n], "")
		if m != p {
			pl, ml := strings.Split(p, "\n"), strings.Split(m, "\n")
			fmt.Println("DIFF", n, len(pl), len(ml))
			for i := 0; i < len(pl) && i < len(ml); i++ {
				if pl[i] != ml[i] {
					fmt.Printf("  %d\n  P:%q\n  M:%q\n", i+1, pl[i], ml[i])
					break
				}
			}
		}
	}
}

func TestDebugAlign(t *testing.T) {
	dir := os.Getenv("CHART")
	ch, _ := loader.LoadDir(dir)
	rv, _ := cutil.ToRenderValues(ch, map[string]any{}, common.ReleaseOptions{Name: "release-name", Namespace: "default", IsInstall: true}, common.DefaultCapabilities)
	src := collectTemplates(ch, dir)
	plain, _ := engine.Engine{}.Render(ch, rv)
	for _, tt := range src {
		tt.file.Data = mark(tt.data, tt.id)
	}
	marked, _ := engine.Engine{}.Render(ch, rv)
	for n, p := range plain {
		var st []string
		for _, l := range strings.Split(marked[n], "\n") {
			st = append(st, markerRe.ReplaceAllString(l, ""))
		}
		pl := strings.Split(p, "\n")
		var pb [][]byte
		for _, l := range pl {
			pb = append(pb, []byte(l))
		}
		mt := alignLines(pb, st)
		for i, j := range mt {
			if j < 0 {
				fmt.Printf("%s:%d unmatched %q\n", n, i+1, pl[i])
			}
		}
	}
}
