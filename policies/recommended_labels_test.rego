package klint.recommended_labels_test

import data.klint.recommended_labels

params := {"recommended-labels": {"required": ["app.kubernetes.io/name", "app.kubernetes.io/part-of"]}}

test_missing_labels_warns if {
	r := recommended_labels.warn with input as {"kind": "Deployment", "metadata": {"name": "web", "labels": {"app.kubernetes.io/name": "web"}}}
		with data.params as params
	r == {{"msg": "Deployment \"web\" lacks the recommended label(s) app.kubernetes.io/part-of", "path": "metadata"}}
}

test_all_labels_present_is_quiet if {
	r := recommended_labels.warn with input as {"kind": "Service", "metadata": {"name": "web", "labels": {"app.kubernetes.io/name": "web", "app.kubernetes.io/part-of": "shop"}}}
		with data.params as params
	count(r) == 0
}

test_other_kinds_are_not_checked if {
	r := recommended_labels.warn with input as {"kind": "ConfigMap", "metadata": {"name": "c"}}
		with data.params as params
	count(r) == 0
}
