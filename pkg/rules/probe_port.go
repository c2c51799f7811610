package rules

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var _ = register(&Rule{
	ID: "probe-port", Theme: ThemeWorkloads, NoFix: "the port meant is the author's to name",
	Severity:    Warning,
	Source:      SourceGo,
	Description: "A probe's port is not a port of its container: a named port the container does not define, a number it does not declare (checked only when the container declares ports), or a port it declares only as UDP or SCTP (probes connect over TCP).",
	Rationale:   "A probe on a named port the container does not define always fails: the pod never becomes ready, or is restarted forever. A number the container does not declare usually means the probe and the ports list drifted apart (a changed port, a copied manifest); Kubernetes does not require declaring it, so this is a warning to check, not proof of a failure. A probe on a port declared only as UDP (a DNS server's 53/UDP) connects over TCP and fails unless something happens to listen on TCP too.",
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
			} else if proto := onlyNonTCP(c.C, port); proto != "" {
				reps = append(reps, Report{Path: path, Container: c.C.Name,
					Message: fmt.Sprintf("%s of container %q connects over TCP to port %s, which the container declares as %s only", pr.field, c.C.Name, port.String(), proto)})
			}
		}
	}
	return reps
}

// onlyNonTCP is the protocol (UDP, SCTP) of the container's ports that
// the probe's port names or numbers, when none of them is TCP: every
// probe (httpGet, tcpSocket, grpc) connects over TCP, so it can never
// succeed there.
func onlyNonTCP(c *corev1.Container, port intstr.IntOrString) corev1.Protocol {
	var proto corev1.Protocol
	for _, p := range c.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			if p.Protocol == "" || p.Protocol == corev1.ProtocolTCP {
				return ""
			}
			proto = p.Protocol
		}
	}
	return proto
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
