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
	Remediation: "Set imagePullPolicy: Always (and pin the image by digest, so that Always costs nothing). It offers a fix (klint fix adds the field where it is unset; the mutating webhook sets it): Always is the one value the rule accepts, and it changes only when the node pulls, never what runs.",
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
		path, policy, op := c.Path+".imagePullPolicy", string(c.C.ImagePullPolicy), "replace"
		if policy == "" {
			path, policy, op = c.Path, "unset (IfNotPresent unless the tag is latest)", "add"
		}
		reps = append(reps, Report{Path: path, Container: c.C.Name, Message: fmt.Sprintf("container %q imagePullPolicy is %s, not Always", c.C.Name, policy),
			Fix: []PatchOp{{Op: op, Path: pointer(c.Path + ".imagePullPolicy"), Value: string(corev1.PullAlways)}}})
	}
	return reps
}
