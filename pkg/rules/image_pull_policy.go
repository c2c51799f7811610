package rules

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

var _ = register(&Rule{
	ID: "image-pull-policy", Theme: ThemeImages,
	Severity:    Warning,
	Source:      SourceGo,
	Off:         true,
	Description: "A container's imagePullPolicy is not Always.",
	Rationale:   "With IfNotPresent, a node runs whatever it pulled under that tag before, and a pod can use an image cached by another tenant without being authorised to pull it.",
	Remediation: "Set imagePullPolicy: Always (and pin the image by digest, so that Always costs nothing).",
	Check:       checkImagePullPolicy,
})

func checkImagePullPolicy(o *Object, _ *Run, _ Params) []Report {
	if o.Workload == nil {
		return nil
	}
	var reps []Report
	for _, c := range o.Workload.Containers() {
		if c.C.ImagePullPolicy == corev1.PullAlways {
			continue
		}
		path, policy := c.Path+".imagePullPolicy", string(c.C.ImagePullPolicy)
		if policy == "" {
			path, policy = c.Path, "unset (IfNotPresent unless the tag is latest)"
		}
		reps = append(reps, Report{Path: path, Container: c.C.Name, Message: fmt.Sprintf("container %q imagePullPolicy is %s, not Always", c.C.Name, policy)})
	}
	return reps
}
