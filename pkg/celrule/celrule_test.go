package celrule

import (
	"context"
	"testing"
)

func eval(t *testing.T, v Validation, vars [][2]string, object map[string]any) (bool, string) {
	t.Helper()
	p, err := Compile(v, vars)
	if err != nil {
		t.Fatal(err)
	}
	return p.Eval(context.Background(), object)
}

// An object of a namespaced kind without a namespace is judged in
// "default", as kubectl sends it; a cluster-scoped one has no namespace.
func TestNamespaceAsTheServerSeesIt(t *testing.T) {
	for _, c := range []struct {
		expression string
		obj        map[string]any
	}{
		{"request.namespace == 'default' && namespaceObject.metadata.name == 'default'",
			map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "web"}}},
		{"!has(request.namespace) && namespaceObject == null",
			map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": map[string]any{"name": "reader"}}},
	} {
		if failed, msg := eval(t, Validation{Expression: c.expression}, nil, c.obj); failed {
			t.Errorf("%s: %s", c.obj["kind"], msg)
		}
	}
}

// The message is the message expression's, else the message, else the
// expression, as the API server says it; variables are declared in order.
func TestMessages(t *testing.T) {
	obj := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c", "namespace": "ns"}}
	vars := [][2]string{{"max", "3"}, {"limit", "variables.max * 2"}}
	for _, c := range []struct {
		v    Validation
		want string
	}{
		{Validation{Expression: "variables.limit < 6", MessageExpression: "'at most ' + string(variables.limit)", Message: "static"}, "at most 6"},
		{Validation{Expression: "variables.limit < 6", MessageExpression: "''", Message: "static"}, "static"},
		{Validation{Expression: "variables.limit < 6"}, "failed expression: variables.limit < 6"},
	} {
		if failed, msg := eval(t, c.v, vars, obj); !failed || msg != c.want {
			t.Errorf("%+v: failed %v, %q; want %q", c.v, failed, msg, c.want)
		}
	}
	if _, err := Compile(Validation{Expression: "variables.nope > 1"}, vars); err == nil {
		t.Error("an undeclared variable compiles")
	}
}
