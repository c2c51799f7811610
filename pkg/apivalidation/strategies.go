package apivalidation

import (
	"context"
	"errors"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/rest"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"

	"k8s.io/kube-aggregator/pkg/registry/apiservice"
	"k8s.io/kubernetes/pkg/api/legacyscheme"
	"k8s.io/kubernetes/pkg/registry/admissionregistration/mutatingadmissionpolicy"
	"k8s.io/kubernetes/pkg/registry/admissionregistration/mutatingadmissionpolicybinding"
	mutatingwebhookconfiguration "k8s.io/kubernetes/pkg/registry/admissionregistration/mutatingwebhookconfiguration"
	"k8s.io/kubernetes/pkg/registry/admissionregistration/resolver"
	"k8s.io/kubernetes/pkg/registry/admissionregistration/validatingadmissionpolicy"
	"k8s.io/kubernetes/pkg/registry/admissionregistration/validatingadmissionpolicybinding"
	validatingwebhookconfiguration "k8s.io/kubernetes/pkg/registry/admissionregistration/validatingwebhookconfiguration"
	"k8s.io/kubernetes/pkg/registry/apiserverinternal/storageversion"
	"k8s.io/kubernetes/pkg/registry/apps/controllerrevision"
	"k8s.io/kubernetes/pkg/registry/apps/daemonset"
	"k8s.io/kubernetes/pkg/registry/apps/deployment"
	"k8s.io/kubernetes/pkg/registry/apps/replicaset"
	"k8s.io/kubernetes/pkg/registry/apps/statefulset"
	"k8s.io/kubernetes/pkg/registry/autoscaling/horizontalpodautoscaler"
	"k8s.io/kubernetes/pkg/registry/batch/cronjob"
	"k8s.io/kubernetes/pkg/registry/batch/job"
	"k8s.io/kubernetes/pkg/registry/certificates/certificates"
	"k8s.io/kubernetes/pkg/registry/certificates/clustertrustbundle"
	"k8s.io/kubernetes/pkg/registry/certificates/podcertificaterequest"
	"k8s.io/kubernetes/pkg/registry/coordination/lease"
	"k8s.io/kubernetes/pkg/registry/coordination/leasecandidate"
	"k8s.io/kubernetes/pkg/registry/core/configmap"
	"k8s.io/kubernetes/pkg/registry/core/endpoint"
	"k8s.io/kubernetes/pkg/registry/core/event"
	"k8s.io/kubernetes/pkg/registry/core/limitrange"
	"k8s.io/kubernetes/pkg/registry/core/namespace"
	"k8s.io/kubernetes/pkg/registry/core/node"
	"k8s.io/kubernetes/pkg/registry/core/persistentvolume"
	"k8s.io/kubernetes/pkg/registry/core/persistentvolumeclaim"
	"k8s.io/kubernetes/pkg/registry/core/pod"
	"k8s.io/kubernetes/pkg/registry/core/podtemplate"
	"k8s.io/kubernetes/pkg/registry/core/replicationcontroller"
	"k8s.io/kubernetes/pkg/registry/core/resourcequota"
	"k8s.io/kubernetes/pkg/registry/core/secret"
	"k8s.io/kubernetes/pkg/registry/core/service"
	"k8s.io/kubernetes/pkg/registry/core/serviceaccount"
	"k8s.io/kubernetes/pkg/registry/discovery/endpointslice"
	"k8s.io/kubernetes/pkg/registry/flowcontrol/flowschema"
	"k8s.io/kubernetes/pkg/registry/flowcontrol/prioritylevelconfiguration"
	"k8s.io/kubernetes/pkg/registry/networking/ingress"
	"k8s.io/kubernetes/pkg/registry/networking/ingressclass"
	"k8s.io/kubernetes/pkg/registry/networking/ipaddress"
	"k8s.io/kubernetes/pkg/registry/networking/networkpolicy"
	"k8s.io/kubernetes/pkg/registry/networking/servicecidr"
	"k8s.io/kubernetes/pkg/registry/node/runtimeclass"
	"k8s.io/kubernetes/pkg/registry/policy/poddisruptionbudget"
	"k8s.io/kubernetes/pkg/registry/rbac/clusterrole"
	"k8s.io/kubernetes/pkg/registry/rbac/clusterrolebinding"
	"k8s.io/kubernetes/pkg/registry/rbac/role"
	"k8s.io/kubernetes/pkg/registry/rbac/rolebinding"
	"k8s.io/kubernetes/pkg/registry/resource/deviceclass"
	"k8s.io/kubernetes/pkg/registry/resource/devicetaintrule"
	"k8s.io/kubernetes/pkg/registry/resource/resourceclaim"
	"k8s.io/kubernetes/pkg/registry/resource/resourceclaimtemplate"
	"k8s.io/kubernetes/pkg/registry/resource/resourcepoolstatusrequest"
	"k8s.io/kubernetes/pkg/registry/resource/resourceslice"
	"k8s.io/kubernetes/pkg/registry/scheduling/compositepodgroup"
	"k8s.io/kubernetes/pkg/registry/scheduling/podgroup"
	"k8s.io/kubernetes/pkg/registry/scheduling/priorityclass"
	"k8s.io/kubernetes/pkg/registry/scheduling/workload"
	"k8s.io/kubernetes/pkg/registry/storage/csidriver"
	"k8s.io/kubernetes/pkg/registry/storage/csinode"
	"k8s.io/kubernetes/pkg/registry/storage/csistoragecapacity"
	"k8s.io/kubernetes/pkg/registry/storage/storageclass"
	"k8s.io/kubernetes/pkg/registry/storage/volumeattachment"
	"k8s.io/kubernetes/pkg/registry/storage/volumeattributesclass"
	"k8s.io/kubernetes/pkg/registry/storagemigration/storagemigration"
)

// resource is how the API server serves a kind: its resource name (for
// the request information declarative validation reads) and the registry
// strategy its create path runs.
type resource struct {
	name     string
	strategy rest.RESTCreateStrategy
}

// Some strategies take what the API server wires into them. Authorization
// is the cluster's business, not an object's validity: with no
// authorizer they skip it. The resolver is asked only while authorizing;
// the namespace client is asked about the namespace of a claim that
// requests admin access, which is the cluster's too (here none exists).
var (
	noResolver = resolver.ResourceResolverFunc(func(gvk schema.GroupVersionKind) (schema.GroupVersionResource, error) {
		return schema.GroupVersionResource{}, errors.New("no resources to resolve offline")
	})
	namespaces corev1client.NamespaceInterface = noNamespaces{}
)

// noNamespaces is a cluster with no namespaces: Get says so. (A fake
// clientset would do, but building one costs about 180 ms of start-up.)
type noNamespaces struct {
	corev1client.NamespaceInterface
}

func (noNamespaces) Get(_ context.Context, name string, _ metav1.GetOptions) (*corev1.Namespace, error) {
	return nil, apierrors.NewNotFound(corev1.Resource("namespaces"), name)
}

// strategies are the built-in kinds by group and kind, for every version
// the target serves (the scheme converts each version to the internal
// type the strategy validates).
var strategies = map[schema.GroupKind]resource{
	{Group: "", Kind: "ConfigMap"}:             {"configmaps", configmap.Strategy},
	{Group: "", Kind: "Endpoints"}:             {"endpoints", endpoint.Strategy},
	{Group: "", Kind: "Event"}:                 {"events", event.Strategy},
	{Group: "", Kind: "LimitRange"}:            {"limitranges", limitrange.Strategy},
	{Group: "", Kind: "Namespace"}:             {"namespaces", namespace.Strategy},
	{Group: "", Kind: "Node"}:                  {"nodes", node.Strategy},
	{Group: "", Kind: "PersistentVolume"}:      {"persistentvolumes", persistentvolume.Strategy},
	{Group: "", Kind: "PersistentVolumeClaim"}: {"persistentvolumeclaims", persistentvolumeclaim.Strategy},
	{Group: "", Kind: "Pod"}:                   {"pods", pod.Strategy},
	{Group: "", Kind: "PodTemplate"}:           {"podtemplates", podtemplate.Strategy},
	{Group: "", Kind: "ReplicationController"}: {"replicationcontrollers", replicationcontroller.Strategy},
	{Group: "", Kind: "ResourceQuota"}:         {"resourcequotas", resourcequota.Strategy},
	{Group: "", Kind: "Secret"}:                {"secrets", secret.Strategy},
	{Group: "", Kind: "Service"}:               {"services", service.Strategy},
	{Group: "", Kind: "ServiceAccount"}:        {"serviceaccounts", serviceaccount.Strategy},

	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicy"}:        {"validatingadmissionpolicies", validatingadmissionpolicy.NewStrategy(nil, noResolver)},
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingAdmissionPolicyBinding"}: {"validatingadmissionpolicybindings", validatingadmissionpolicybinding.NewStrategy(nil, nil, noResolver)},
	{Group: "admissionregistration.k8s.io", Kind: "MutatingAdmissionPolicy"}:          {"mutatingadmissionpolicies", mutatingadmissionpolicy.NewStrategy(nil, noResolver)},
	{Group: "admissionregistration.k8s.io", Kind: "MutatingAdmissionPolicyBinding"}:   {"mutatingadmissionpolicybindings", mutatingadmissionpolicybinding.NewStrategy(nil, nil, noResolver)},
	{Group: "admissionregistration.k8s.io", Kind: "MutatingWebhookConfiguration"}:     {"mutatingwebhookconfigurations", mutatingwebhookconfiguration.Strategy},
	{Group: "admissionregistration.k8s.io", Kind: "ValidatingWebhookConfiguration"}:   {"validatingwebhookconfigurations", validatingwebhookconfiguration.Strategy},

	{Group: "apps", Kind: "ControllerRevision"}: {"controllerrevisions", controllerrevision.Strategy},
	{Group: "apps", Kind: "DaemonSet"}:          {"daemonsets", daemonset.Strategy},
	{Group: "apps", Kind: "Deployment"}:         {"deployments", deployment.Strategy},
	{Group: "apps", Kind: "ReplicaSet"}:         {"replicasets", replicaset.Strategy},
	{Group: "apps", Kind: "StatefulSet"}:        {"statefulsets", statefulset.Strategy},

	{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"}: {"horizontalpodautoscalers", horizontalpodautoscaler.Strategy},

	{Group: "batch", Kind: "CronJob"}: {"cronjobs", cronjob.Strategy},
	{Group: "batch", Kind: "Job"}:     {"jobs", job.Strategy},

	{Group: "certificates.k8s.io", Kind: "CertificateSigningRequest"}: {"certificatesigningrequests", certificates.Strategy},
	{Group: "certificates.k8s.io", Kind: "ClusterTrustBundle"}:        {"clustertrustbundles", clustertrustbundle.Strategy},
	{Group: "certificates.k8s.io", Kind: "PodCertificateRequest"}:     {"podcertificaterequests", podcertificaterequest.NewStrategy()},

	{Group: "internal.apiserver.k8s.io", Kind: "StorageVersion"}: {"storageversions", storageversion.Strategy},

	{Group: "apiregistration.k8s.io", Kind: "APIService"}: {"apiservices", apiservice.NewStrategy(legacyscheme.Scheme)},

	{Group: "coordination.k8s.io", Kind: "Lease"}:          {"leases", lease.Strategy},
	{Group: "coordination.k8s.io", Kind: "LeaseCandidate"}: {"leasecandidates", leasecandidate.Strategy},

	{Group: "discovery.k8s.io", Kind: "EndpointSlice"}: {"endpointslices", endpointslice.Strategy},

	{Group: "flowcontrol.apiserver.k8s.io", Kind: "FlowSchema"}:                 {"flowschemas", flowschema.Strategy},
	{Group: "flowcontrol.apiserver.k8s.io", Kind: "PriorityLevelConfiguration"}: {"prioritylevelconfigurations", prioritylevelconfiguration.Strategy},

	{Group: "networking.k8s.io", Kind: "Ingress"}:       {"ingresses", ingress.Strategy},
	{Group: "networking.k8s.io", Kind: "IngressClass"}:  {"ingressclasses", ingressclass.Strategy},
	{Group: "networking.k8s.io", Kind: "IPAddress"}:     {"ipaddresses", ipaddress.Strategy},
	{Group: "networking.k8s.io", Kind: "NetworkPolicy"}: {"networkpolicies", networkpolicy.Strategy},
	{Group: "networking.k8s.io", Kind: "ServiceCIDR"}:   {"servicecidrs", servicecidr.Strategy},

	{Group: "node.k8s.io", Kind: "RuntimeClass"}: {"runtimeclasses", runtimeclass.Strategy},

	{Group: "policy", Kind: "PodDisruptionBudget"}: {"poddisruptionbudgets", poddisruptionbudget.Strategy},

	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:        {"clusterroles", clusterrole.Strategy},
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}: {"clusterrolebindings", clusterrolebinding.Strategy},
	{Group: "rbac.authorization.k8s.io", Kind: "Role"}:               {"roles", role.Strategy},
	{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"}:        {"rolebindings", rolebinding.Strategy},

	{Group: "resource.k8s.io", Kind: "DeviceClass"}:               {"deviceclasses", deviceclass.Strategy},
	{Group: "resource.k8s.io", Kind: "DeviceTaintRule"}:           {"devicetaintrules", devicetaintrule.Strategy},
	{Group: "resource.k8s.io", Kind: "ResourcePoolStatusRequest"}: {"resourcepoolstatusrequests", resourcepoolstatusrequest.Strategy},
	{Group: "resource.k8s.io", Kind: "ResourceClaim"}:             {"resourceclaims", resourceclaim.NewStrategy(namespaces, nil)},
	{Group: "resource.k8s.io", Kind: "ResourceClaimTemplate"}:     {"resourceclaimtemplates", resourceclaimtemplate.NewStrategy(namespaces)},
	{Group: "resource.k8s.io", Kind: "ResourceSlice"}:             {"resourceslices", resourceslice.Strategy},

	{Group: "scheduling.k8s.io", Kind: "PriorityClass"}:     {"priorityclasses", priorityclass.Strategy},
	{Group: "scheduling.k8s.io", Kind: "Workload"}:          {"workloads", workload.Strategy},
	{Group: "scheduling.k8s.io", Kind: "PodGroup"}:          {"podgroups", podgroup.NewStrategy()},
	{Group: "scheduling.k8s.io", Kind: "CompositePodGroup"}: {"compositepodgroups", compositepodgroup.NewStrategy()},

	{Group: "storagemigration.k8s.io", Kind: "StorageVersionMigration"}: {"storageversionmigrations", storagemigration.Strategy},

	{Group: "storage.k8s.io", Kind: "CSIDriver"}:             {"csidrivers", csidriver.Strategy},
	{Group: "storage.k8s.io", Kind: "CSINode"}:               {"csinodes", csinode.Strategy},
	{Group: "storage.k8s.io", Kind: "CSIStorageCapacity"}:    {"csistoragecapacities", csistoragecapacity.Strategy},
	{Group: "storage.k8s.io", Kind: "StorageClass"}:          {"storageclasses", storageclass.Strategy},
	{Group: "storage.k8s.io", Kind: "VolumeAttachment"}:      {"volumeattachments", volumeattachment.Strategy},
	{Group: "storage.k8s.io", Kind: "VolumeAttributesClass"}: {"volumeattributesclasses", volumeattributesclass.Strategy},
}
