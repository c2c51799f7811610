package apivalidation_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/klint-dev/klint/pkg/apivalidation"
	"github.com/klint-dev/klint/pkg/inputs"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	clientscheme "k8s.io/client-go/kubernetes/scheme"
	kjson "sigs.k8s.io/json"
)

// Validating an object its strict decoding already decoded gives what
// validating its JSON gives, errors and warnings alike, on every fixture
// object of a kind the validator judges, and leaves the decoded object as
// it was (the rules read it after).
func TestDecodedIsDecoding(t *testing.T) {
	v := apivalidation.New()
	judged, failing := 0, 0
	for _, in := range inputs.Expand([]string{"../../testdata/manifests", "../../testdata/update", "../../testdata/review", "../../testdata/rendered"}) {
		for _, o := range inputs.Read(in, nil, nil).Objects {
			data, err := json.Marshal(o.Value)
			if err != nil {
				continue
			}
			gvk := schema.FromAPIVersionAndKind(o.APIVersion, o.Kind)
			typed, err := clientscheme.Scheme.New(gvk)
			if err != nil {
				continue
			}
			if _, err := kjson.UnmarshalStrict(data, typed, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields); err != nil {
				continue // the schema stage validates such an object from its JSON
			}
			before := typed.DeepCopyObject()
			wantErrs, wantWarn, wantOK := v.ValidateCreate(gvk, data)
			errs, warn, ok := v.ValidateCreateDecoded(gvk, typed)
			where := fmt.Sprintf("%s: %s %s/%s", o.File, o.Kind, o.Namespace, o.Name)
			if ok != wantOK {
				t.Errorf("%s: judged %v, from JSON %v", where, ok, wantOK)
				continue
			}
			if !ok {
				continue
			}
			judged++
			if len(wantErrs) > 0 {
				failing++
			}
			if got, want := describe(errs), describe(wantErrs); !reflect.DeepEqual(got, want) {
				t.Errorf("%s: errors\n%q\nfrom JSON\n%q", where, got, want)
			} else {
				for i := range errs {
					if !reflect.DeepEqual(errs[i].BadValue, wantErrs[i].BadValue) {
						t.Errorf("%s: %s: value %#v, from JSON %#v", where, errs[i].Field, errs[i].BadValue, wantErrs[i].BadValue)
					}
				}
			}
			if !reflect.DeepEqual(warn, wantWarn) {
				t.Errorf("%s: warnings %q, from JSON %q", where, warn, wantWarn)
			}
			if !reflect.DeepEqual(typed, before) {
				t.Errorf("%s: the decoded object was changed", where)
			}
		}
	}
	t.Logf("%d objects judged, %d with errors", judged, failing)
	if judged < 100 || failing < 10 {
		t.Errorf("%d objects judged, %d with errors: the fixtures should give more", judged, failing)
	}
}

func describe(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, fmt.Sprintf("%s %s %s", e.Type, e.Field, e.Detail))
	}
	return out
}
