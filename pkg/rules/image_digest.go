package rules

import (
	"fmt"

	"github.com/distribution/reference"
)

var _ = register(&Rule{
	ID: "image-digest", Theme: ThemeImages, NoFix: "the digest is the registry's, and klint never contacts one",
	Severity:    Warning,
	Source:      SourceGo,
	Off:         true,
	Description: "A container image is not pinned by digest.",
	Rationale:   "A tag can be moved to other content; only a digest names exactly what runs, on every node and after every rollback.",
	Remediation: "Refer to the image by digest (app:1.4.2@sha256:…), for instance with a tool that resolves tags in CI.",
	Check:       checkImageDigest,
})

func checkImageDigest(o *Object, _ *Run, _ Params) []Report {
	if o.Workload == nil {
		return nil
	}
	var reps []Report
	for _, c := range o.Workload.Containers() {
		ref, err := reference.ParseAnyReference(c.C.Image)
		if err != nil || c.C.Image == "" {
			continue
		}
		if _, pinned := ref.(reference.Digested); !pinned {
			reps = append(reps, Report{Path: c.Path + ".image", Container: c.C.Name, Message: fmt.Sprintf("container %q image %q is not pinned by digest", c.C.Name, c.C.Image)})
		}
	}
	return reps
}
