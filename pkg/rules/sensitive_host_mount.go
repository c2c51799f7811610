package rules

import (
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

var _ = register(&Rule{
	ID: "sensitive-host-mount", Theme: ThemeSecurity, NoFix: "what the pod needs from the node is the author's to say",
	Severity:         Error,
	SecuritySeverity: 8.0,
	Source:           SourceGo,
	Description:      "A hostPath volume mounts a sensitive part of the node: the root, /etc, /proc, /sys, /boot, /root, the kubelet's or the container runtime's state, /var/run or /run, a container runtime socket, or anything below them.",
	Rationale:        "A container that can read or write these can read the node's credentials, every pod's secrets and volumes, or drive the container runtime: it owns the node.",
	Remediation:      "Use a ConfigMap, Secret, emptyDir or a PersistentVolume instead; an agent that truly needs the node's files belongs in a namespace whose Pod Security level allows it, with a suppression saying why.",
	Check:            checkSensitiveHostMount,
})

// sensitiveHostPaths are the node paths a pod must not mount (or mount
// anything below).
var sensitiveHostPaths = []string{"/etc", "/proc", "/sys", "/boot", "/root", "/var/lib/kubelet", "/var/lib/docker", "/var/lib/containerd", "/var/run", "/run"}

// runtimeSockets are the container runtimes' sockets, wherever they are.
var runtimeSockets = []string{"docker.sock", "containerd.sock", "crio.sock", "cri-dockerd.sock"}

func checkSensitiveHostMount(o *Object, _ *Run, _ Params) []Report {
	if o.Workload == nil {
		return nil
	}
	var reps []Report
	for i, v := range o.Workload.Spec.Volumes {
		if v.HostPath == nil || v.HostPath.Path == "" {
			continue
		}
		p := path.Clean("/" + v.HostPath.Path)
		what := ""
		switch {
		case p == "/":
			what = "the node's root file system"
		case slices.ContainsFunc(runtimeSockets, func(s string) bool { return path.Base(p) == s }):
			what = "a container runtime socket"
		default:
			for _, s := range sensitiveHostPaths {
				if p == s || strings.HasPrefix(p, s+"/") {
					what = s
					break
				}
			}
		}
		if what != "" {
			reps = append(reps, Report{Path: o.Workload.SpecPath + ".volumes[" + strconv.Itoa(i) + "].hostPath.path",
				Message: fmt.Sprintf("volume %q mounts %s from the node (%s)", v.Name, what, v.HostPath.Path)})
		}
	}
	return reps
}
