package klint.allowed_registries_test

import data.klint.allowed_registries

params := {"allowed-registries": {"registries": ["registry.example.com", "localhost:5000"]}}

deployment(image) := {"kind": "Deployment", "spec": {"template": {"spec": {"containers": [{"name": "app", "image": image}]}}}}

test_registry_of_references if {
	allowed_registries.registry("nginx:1.27") == "docker.io"
	allowed_registries.registry("library/nginx") == "docker.io"
	allowed_registries.registry("localhost:5000/app") == "localhost:5000"
	allowed_registries.registry("registry.example.com/team/app:1.2") == "registry.example.com"
}

test_disallowed_registry_is_denied if {
	r := allowed_registries.deny with input as deployment("quay.io/org/app:1") with data.params as params
	some f in r
	f.path == "spec.template.spec.containers[0].image"
	f.container == "app"
	contains(f.msg, "\"quay.io\"")
}

test_allowed_registry_passes if {
	r := allowed_registries.deny with input as deployment("registry.example.com/app:1") with data.params as params
	count(r) == 0
}

test_cronjob_init_container_is_checked if {
	cj := {"kind": "CronJob", "spec": {"jobTemplate": {"spec": {"template": {"spec": {
		"initContainers": [{"name": "init", "image": "busybox"}],
		"containers": [{"name": "main", "image": "localhost:5000/job"}],
	}}}}}}
	r := allowed_registries.deny with input as cj with data.params as params
	[f.path | some f in r] == ["spec.jobTemplate.spec.template.spec.initContainers[0].image"]
}
