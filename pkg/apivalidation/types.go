package apivalidation

import (
	"maps"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	openapinamer "k8s.io/apiserver/pkg/endpoints/openapi"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/klog/v2"
	"k8s.io/kube-openapi/pkg/builder"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/validation/spec"
	generatedopenapi "k8s.io/kubernetes/pkg/generated/openapi"
)

// Types is the schema a built-in kind is merged with by server-side
// apply, as the API server has it (its OpenAPI definitions, with their
// list keys: containers merge by name), or nil for another kind. It is
// built on first use: a mutating admission policy's apply configuration.
func Types(gvk schema.GroupVersionKind) managedfields.TypeConverter {
	if !clientscheme.Scheme.Recognizes(gvk) {
		return nil
	}
	return builtinTypes()
}

var builtinTypes = sync.OnceValue(func() managedfields.TypeConverter {
	// The kinds of the scheme, and what their schemas reference.
	defs := generatedopenapi.GetOpenAPIDefinitions(func(string) spec.Ref { return spec.Ref{} })
	names := map[string]bool{}
	for gvk := range clientscheme.Scheme.AllKnownTypes() {
		if name, err := clientscheme.Scheme.ToOpenAPIDefinitionName(gvk); err == nil {
			if _, ok := defs[name]; ok {
				names[name] = true
			}
		}
	}
	swagger, err := builder.BuildOpenAPIDefinitionsForResources(&common.Config{
		GetDefinitions:    generatedopenapi.GetOpenAPIDefinitions,
		GetDefinitionName: openapinamer.NewDefinitionNamer(clientscheme.Scheme).GetDefinitionName,
		Info:              &spec.Info{},
	}, slices.Sorted(maps.Keys(names))...)
	if err != nil {
		klog.Errorf("the built-in kinds' schemas: %v", err)
		return nil
	}
	schemas := make(map[string]*spec.Schema, len(swagger.Definitions))
	for name, s := range swagger.Definitions {
		schemas[name] = &s
	}
	tc, err := managedfields.NewTypeConverter(schemas, false)
	if err != nil {
		klog.Errorf("the built-in kinds' schemas: %v", err)
		return nil
	}
	return tc
})
