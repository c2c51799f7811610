package rules

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var _ = register(&Rule{
	ID:          "probe-port",
	Severity:    Warning,
	Source:      SourceGo,
	Description: "A probe's port is not a port of its container: a named port the container does not define, or a number it does not declare (checked only when the container declares ports).",
	Rationale:   "A probe on a named port the container does not define always fails: the pod never becomes ready, or is restarted forever. A number the container does not declare usually means the probe and the ports list drifted apart (a changed port, a copied manifest); Kubernetes does not require declaring it, so this is a warning to check, not proof of a failure.",
	Remediation: "Point the probe at one of the container's ports, by number or by name, or declare the port in the container.",
	Check:       checkProbePort,
})

func checkProbePort(o *Object, _ *Run, _ Params) []Report {
	if o.Workload == nil {
		return nil
	}
	var reps []Report
	for _, c := range o.Workload.Containers() {
		for _, pr := range []struct {
			field string
			p     *corev1.Probe
		}{{"livenessProbe", c.C.LivenessProbe}, {"readinessProbe", c.C.ReadinessProbe}, {"startupProbe", c.C.StartupProbe}} {
			if pr.p == nil {
				continue
			}
			var port intstr.IntOrString
			var path string
			switch {
			case pr.p.HTTPGet != nil:
				port, path = pr.p.HTTPGet.Port, c.Path+"."+pr.field+".httpGet.port"
			case pr.p.TCPSocket != nil:
				port, path = pr.p.TCPSocket.Port, c.Path+"."+pr.field+".tcpSocket.port"
			case pr.p.GRPC != nil:
				port, path = intstr.FromInt32(pr.p.GRPC.Port), c.Path+"."+pr.field+".grpc.port"
			default:
				continue
			}
			if !containerHasPort(c.C, port) {
				reps = append(reps, Report{Path: path, Container: c.C.Name,
					Message: fmt.Sprintf("%s of container %q uses port %s, which the container does not declare", pr.field, c.C.Name, port.String())})
			}
		}
	}
	return reps
}

func containerHasPort(c *corev1.Container, port intstr.IntOrString) bool {
	if port.Type == intstr.Int && len(c.Ports) == 0 {
		return true // declaring ports is optional; nothing to compare with
	}
	for _, p := range c.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return true
		}
	}
	return false
}
