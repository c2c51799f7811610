//go:build tools

// The reference binaries this test compares klint's rendering with are
// built from these modules (make render-tools), never downloaded.
package render

import (
	_ "helm.sh/helm/v4/cmd/helm"
	_ "sigs.k8s.io/kustomize/kustomize/v5"
)
