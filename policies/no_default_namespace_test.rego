package klint.no_default_namespace_test

import data.klint.no_default_namespace

test_default_namespace_denied if {
	r := no_default_namespace.deny with input as {"kind": "Deployment", "metadata": {"name": "web", "namespace": "default"}}
	r == {{"msg": "Deployment \"web\" is in the default namespace", "path": "metadata.namespace"}}
}

test_other_namespace_passes if {
	r := no_default_namespace.deny with input as {"kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}}
	count(r) == 0
}

test_unset_namespace_passes if {
	r := no_default_namespace.deny with input as {"kind": "Deployment", "metadata": {"name": "web"}}
	count(r) == 0
}

test_kubernetes_service_in_default_is_fine if {
	r := no_default_namespace.deny with input as {"kind": "Service", "metadata": {"name": "kubernetes", "namespace": "default"}}
	count(r) == 0
}

test_cluster_scoped_kind_with_default_namespace_passes if {
	r := no_default_namespace.deny with input as {"kind": "ClusterRoleBinding", "metadata": {"name": "admins", "namespace": "default"}}
	count(r) == 0
}
