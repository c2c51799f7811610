package rules

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var _ = register(&Rule{
	ID: "service-target-port", Theme: ThemeNetworking, NoFix: "the port meant is the author's to name",
	Severity:    Warning,
	Source:      SourceGo,
	CrossObject: true,
	Kinds:       []string{"Service"},
	Indexes:     []*IndexSpec{podsIndex},
	Description: "A Service's targetPort is not a port of the pods it selects: a named targetPort that no selected container names, or a number that no selected container declares (checked only when the containers declare ports).",
	Rationale:   "Traffic to the Service goes to a port nothing listens on; a named targetPort that no container defines gives the Service no endpoints at all.",
	Remediation: "Point targetPort at a containerPort (by number or by its name) of the selected pods, or declare the port in the container.",
	Check:       checkServiceTargetPort,
})

func checkServiceTargetPort(o *Object, run *Run, _ Params) []Report {
	svc, ok := o.Typed.(*corev1.Service)
	if !ok || len(svc.Spec.Selector) == 0 || svc.Spec.Type == corev1.ServiceTypeExternalName {
		return nil
	}
	pods := indexOf[PodIndex](run, podsIndex).SelectPods(o.Namespace, svc.Spec.Selector)
	if len(pods) == 0 {
		return nil // service-selects-nothing says so
	}
	var reps []Report
	for i, sp := range svc.Spec.Ports {
		target := sp.TargetPort
		path := "spec.ports[" + strconv.Itoa(i) + "].targetPort"
		if target.Type == intstr.Int && target.IntVal == 0 {
			target = intstr.FromInt32(sp.Port) // targetPort defaults to port
			path = "spec.ports[" + strconv.Itoa(i) + "].port"
		}
		if !anyPodServes(pods, target, sp.Protocol) {
			reps = append(reps, Report{Path: path, Message: fmt.Sprintf("Service %q targetPort %s is not a port of any container it selects", o.Name, target.String())})
		}
	}
	return reps
}

// anyPodServes reports whether some selected pod has a container port
// matching target. A numeric target counts as served by any pod whose
// containers declare no ports at all, since declaring ports is optional.
func anyPodServes(pods []*Pods, target intstr.IntOrString, proto corev1.Protocol) bool {
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	for _, p := range pods {
		for _, cp := range p.Ports {
			cpProto := cp.Protocol
			if cpProto == "" {
				cpProto = corev1.ProtocolTCP
			}
			if cpProto != proto {
				continue
			}
			if (target.Type == intstr.String && cp.Name == target.StrVal) || (target.Type == intstr.Int && cp.ContainerPort == target.IntVal) {
				return true
			}
		}
		if len(p.Ports) == 0 && target.Type == intstr.Int {
			return true
		}
	}
	return false
}
