package rules

import (
	"fmt"

	"github.com/distribution/reference"

	corev1 "k8s.io/api/core/v1"
)

var _ = register(&Rule{
	ID: "image-pull-policy", Theme: ThemeImages,
	Severity:    Warning,
	Source:      SourceGo,
	Off:         true,
	Description: "A container's imagePullPolicy is not Always. Unset counts as what the API server makes it: Always for an image on latest or untagged (Polaris flags those; kube-score and the server do not), IfNotPresent otherwise.",
	Rationale:   "With IfNotPresent, a node runs whatever it pulled under that tag before, and a pod can use an image cached by another tenant without being authorised to pull it.",
	Remediation: "Set imagePullPolicy: Always (and pin the image by digest, so that Always costs nothing). It offers a fix (klint fix adds the field where it is unset; the mutating webhook sets it): Always is the one value the rule accepts, and it changes only when the node pulls, never what runs.",
	CEL: &CEL{Resources: WorkloadResources, Workload: true,
		Expression: "variables.containers.all(c, has(c.imagePullPolicy) && c.imagePullPolicy == 'Always')",
		Message:    "every container pulls its image Always (klint image-pull-policy)",
		Fix: "(has(variables.podSpec.initContainers) ? variables.podSpec.initContainers.filter(c, !has(c.imagePullPolicy) || c.imagePullPolicy != 'Always')" +
			".map(c, JSONPatch{op: 'add', path: variables.specPath + '/initContainers/' + string(variables.podSpec.initContainers.indexOf(c)) + '/imagePullPolicy', value: 'Always'}) : []) + " +
			"variables.podSpec.containers.filter(c, !has(c.imagePullPolicy) || c.imagePullPolicy != 'Always')" +
			".map(c, JSONPatch{op: 'add', path: variables.specPath + '/containers/' + string(variables.podSpec.containers.indexOf(c)) + '/imagePullPolicy', value: 'Always'})"},
	Check: checkImagePullPolicy,
})

func checkImagePullPolicy(o *Object, _ *Run, _ Params) []Report {
	if o.Workload == nil {
		return nil
	}
	var reps []Report
	for _, c := range o.Workload.Containers() {
		if c.C.ImagePullPolicy == corev1.PullAlways || (c.C.ImagePullPolicy == "" && pullsLatest(c.C.Image)) {
			continue // unset on latest: the API server defaults it to Always
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

// pullsLatest reports whether an image reference names the latest tag,
// written or implied (no tag, no digest): the API server then defaults
// imagePullPolicy to Always.
func pullsLatest(image string) bool {
	ref, err := reference.ParseAnyReference(image)
	if err != nil {
		return false
	}
	if _, pinned := ref.(reference.Digested); pinned {
		return false
	}
	tagged, ok := ref.(reference.Tagged)
	return !ok || tagged.Tag() == "latest"
}
