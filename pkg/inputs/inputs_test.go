package inputs

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klint-dev/klint/pkg/manifest"
)

// read is what reading some inputs one by one gave.
type read struct {
	objects  []*manifest.Object
	problems []manifest.Problem
	skipped  []string
}

func readAll(files []Input, stdin io.Reader) read {
	var r read
	for _, in := range files {
		l := Read(in, stdin, nil)
		if l.Skipped {
			r.skipped = append(r.skipped, in.Path)
			continue
		}
		r.objects = append(r.objects, l.Objects...)
		r.problems = append(r.problems, l.Problems...)
	}
	return r
}

// A directory's manifests are found (not .git, not README.md), read in
// order, stdin too; YAML that is not Kubernetes is skipped when found and
// reported when named; a kustomization owns the files it uses; excludes
// and missing paths.
func TestExpandAndRead(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "sub", ".git"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "b.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "sub", "a.yml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "sub", ".git", "x.yaml"), []byte("not: read\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "README.md"), []byte("# no"), 0o644))
	// YAML that is not Kubernetes at all is skipped when found in a
	// directory, and reported when named.
	workflow := filepath.Join(dir, "sub", "ci.yaml")
	must(os.WriteFile(workflow, []byte("on: push\njobs:\n  test: {runs-on: linux}\n"), 0o644))
	files := Expand([]string{dir})
	if len(files) != 3 || filepath.Base(files[0].Path) != "b.yaml" || filepath.Base(files[1].Path) != "a.yml" || !files[2].Found {
		t.Fatalf("files = %v", files)
	}
	files = append(files, Input{Path: "-"})
	set := readAll(files, strings.NewReader("apiVersion: v1\nkind: Namespace\nmetadata: {name: ns1}\n"))
	if len(set.objects) != 3 || set.objects[2].File != "<stdin>" || set.objects[2].Name != "ns1" {
		t.Fatalf("set = %+v", set)
	}
	if len(set.skipped) != 1 || set.skipped[0] != workflow || len(set.problems) != 0 {
		t.Errorf("skipped = %v, problems = %v", set.skipped, set.problems)
	}
	// The files a kustomization uses (its resources and patches, even
	// outside its directory) belong to it: the walk yields the
	// kustomization, not them. Named, a patch is still read as a file.
	kdir := filepath.Join(dir, "overlay")
	must(os.MkdirAll(kdir, 0o755))
	must(os.WriteFile(filepath.Join(kdir, "kustomization.yaml"), []byte("resources: [../b.yaml]\npatches:\n  - path: replicas.yaml\npatchesStrategicMerge: [../sub/a.yml]\n"), 0o644))
	must(os.WriteFile(filepath.Join(kdir, "replicas.yaml"), []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: 3}\n"), 0o644))
	files = Expand([]string{dir})
	if len(files) != 2 || files[0].Path != kdir || files[0].Kind != KustomizationInput || files[1].Path != workflow {
		t.Fatalf("files = %+v", files)
	}
	set = readAll(files, nil)
	if len(set.skipped) != 1 || len(set.problems) != 1 || set.problems[0].File != kdir {
		t.Errorf("set = %+v", set)
	}
	if set = readAll([]Input{{Path: filepath.Join(kdir, "replicas.yaml")}}, nil); len(set.objects) != 1 {
		t.Errorf("named patch not read: %+v", set)
	}
	// Excluded paths are not searched.
	files = Expand([]string{dir}, "**/overlay", filepath.Join(dir, "sub", "ci.yaml"))
	if len(files) != 2 || filepath.Base(files[0].Path) != "b.yaml" || filepath.Base(files[1].Path) != "a.yml" {
		t.Errorf("with exclude: %+v", files)
	}
	set = readAll([]Input{{Path: workflow}}, nil)
	if len(set.problems) != 1 || set.problems[0].Kind != manifest.NotKubernetes {
		t.Errorf("named workflow: %+v", set)
	}
	if in := Expand([]string{filepath.Join(dir, "missing")}); len(in) != 1 || in[0].Problem == nil || in[0].Problem.Kind != manifest.Unreadable ||
		in[0].Problem.Message != "cannot read: no such file or directory" {
		t.Errorf("missing path: %+v", in)
	}
}

// Bytes already in memory (an admission request's object) are read by
// the same Read as files and stdin, named by Path, without touching the
// file system.
func TestReadData(t *testing.T) {
	l := Read(Input{Path: "Deployment/shop/web", Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n")}, nil, nil)
	if len(l.Problems) != 0 || len(l.Objects) != 1 || l.Objects[0].File != "Deployment/shop/web" || l.Objects[0].Name != "c" {
		t.Fatalf("%+v", l)
	}
	l = Read(Input{Path: "x", Data: []byte("kind: [\n")}, nil, nil)
	if len(l.Objects) != 0 || len(l.Problems) != 1 || l.Problems[0].Kind != manifest.SyntaxError || l.Problems[0].File != "x" {
		t.Errorf("%+v", l)
	}
}
