package rules

import (
	"fmt"

	"github.com/distribution/reference"
)

var _ = register(&Rule{
	ID: "image-latest-tag", Theme: ThemeImages, NoFix: "the version to pin is the author's, and klint never contacts a registry",
	SecuritySeverity: 5.0,
	Severity:         Error,
	Source:           SourceGo,
	Description:      "A container image uses the tag latest, or no tag and no digest (which means latest).",
	Rationale:        "latest moves: two nodes can run different code under the same manifest, a rollback does not roll back, and nothing records what was deployed.",
	Remediation:      "Pin the image to a version tag (app:1.4.2) or, better, a digest (app@sha256:…).",
	CEL: &CEL{Resources: WorkloadResources, Workload: true,
		Expression: "variables.containers.all(c, !has(c.image) || c.image.contains('@') || " +
			"(c.image.substring(c.image.lastIndexOf('/') + 1).contains(':') && !c.image.endsWith(':latest')))",
		Message: "every container image is pinned to a version tag or a digest, not latest or untagged (klint image-latest-tag)"},
	Check: checkImageLatestTag,
})

func checkImageLatestTag(o *Object, _ *Run, _ Params) []Report {
	if o.Workload == nil {
		return nil
	}
	var reps []Report
	for _, c := range o.Workload.Containers() {
		if c.C.Image == "" {
			continue // a schema finding
		}
		ref, err := reference.ParseAnyReference(c.C.Image)
		if err != nil {
			continue // not an image reference (an unrendered template variable, say)
		}
		if _, pinned := ref.(reference.Digested); pinned {
			continue
		}
		tagged, ok := ref.(reference.Tagged)
		switch {
		case !ok:
			reps = append(reps, Report{Path: c.Path + ".image", Container: c.C.Name,
				Message: fmt.Sprintf("container %q image %q has no tag, so it runs whatever latest is when the node pulls it", c.C.Name, c.C.Image)})
		case tagged.Tag() == "latest":
			reps = append(reps, Report{Path: c.Path + ".image", Container: c.C.Name,
				Message: fmt.Sprintf("container %q uses image %q; latest is not a version", c.C.Name, c.C.Image)})
		}
	}
	return reps
}
