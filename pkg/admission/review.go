// Package admission turns klint's engine into admission decisions: the
// validating verdict (deny or warn) and the mutating patch, for one
// AdmissionRequest. The HTTP server in cmd/admission-webhook and the
// offline `klint review` both call Reviewer, so their answers agree.
package admission

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	jsonpatchapply "github.com/evanphx/json-patch/v5"
	"github.com/klint-dev/klint/pkg/engine"
	"github.com/klint-dev/klint/pkg/inputs"
	"github.com/klint-dev/klint/pkg/rules"
	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// MaxWarningLength keeps each warning under the length kubectl shows
// without truncation.
const MaxWarningLength = 119

// MaxListed is how many findings a denial message or the warnings name;
// the rest are counted. A response must stay small however many findings
// an object has (the API server keeps 4 KiB of warnings).
const MaxListed = 20

// Reviewer decides admission requests with an engine and the admission
// section of the config. It is safe for concurrent use.
type Reviewer struct {
	// Budget bounds the time spent judging one object (0: no bound
	// beyond the caller's context). An object that takes longer gets an
	// error response instead of a verdict.
	Budget time.Duration

	engine   *engine.Engine
	cfg      Config
	denyAt   rules.Severity
	excluded map[string]bool
	mutate   map[string]bool
}

// NewReviewer builds a Reviewer. The engine must have been built with
// SingleObject, since admission sees one object at a time.
func NewReviewer(e *engine.Engine, cfg Config) (*Reviewer, error) {
	errAt := func(msg string, _ ...string) error { return fmt.Errorf("config: %s", msg) }
	if err := cfg.Check(errAt); err != nil {
		return nil, err
	}
	if err := cfg.CheckRules(e, errAt); err != nil {
		return nil, err
	}
	r := &Reviewer{engine: e, cfg: cfg, denyAt: rules.Error, excluded: map[string]bool{}, mutate: map[string]bool{}}
	if cfg.DenyAt != "" {
		r.denyAt, _ = rules.ParseSeverity(cfg.DenyAt)
	}
	ns := cfg.ExcludedNamespaces
	if ns == nil {
		ns = DefaultExcludedNamespaces
	}
	for _, n := range ns {
		r.excluded[n] = true
	}
	for _, id := range cfg.Mutate {
		r.mutate[id] = true
	}
	return r, nil
}

// Outcome is what admission decided about a request.
type Outcome string

// Outcomes.
const (
	Allowed Outcome = "allowed" // nothing to say
	Warned  Outcome = "warned"  // allowed, with warnings
	Denied  Outcome = "denied"  // refused
	Patched Outcome = "patched" // allowed, with a JSON Patch (the mutating webhook)
	Error   Outcome = "error"   // not judged: the request is refused with the reason
)

// Decision is what the reviewer decided and why. The HTTP layer only
// serialises it (Response) and counts its Outcome.
type Decision struct {
	Outcome Outcome
	UID     types.UID
	// Denied and Warned are the findings behind a validating decision
	// (all of them: Message and Warnings name at most MaxListed).
	Denied, Warned []rules.Finding
	// Warnings are shown to the client (kubectl prints them).
	Warnings []string
	// Message says why the request is denied, or why it was not judged.
	Message string
	// Code is the status code of an Error (an HTTP status).
	Code int32
	// Patch is the JSON Patch of a Patched decision.
	Patch []byte
}

// Response is the decision as the API server reads it.
func (d Decision) Response() *admissionv1.AdmissionResponse {
	resp := &admissionv1.AdmissionResponse{UID: d.UID, Allowed: true, Warnings: d.Warnings}
	switch d.Outcome {
	case Denied:
		resp.Allowed = false
		resp.Result = &metav1.Status{Status: metav1.StatusFailure, Code: http.StatusForbidden, Reason: metav1.StatusReasonForbidden, Message: d.Message}
	case Error:
		resp.Allowed = false
		resp.Result = &metav1.Status{Status: metav1.StatusFailure, Code: d.Code, Message: "klint: " + d.Message}
	case Patched:
		pt := admissionv1.PatchTypeJSONPatch
		resp.Patch, resp.PatchType = d.Patch, &pt
	}
	return resp
}

// errorDecision is a request that could not be judged.
func errorDecision(uid types.UID, code int32, err error) Decision {
	return Decision{Outcome: Error, UID: uid, Code: code, Message: err.Error()}
}

// Engine is the engine the reviewer judges with.
func (r *Reviewer) Engine() *engine.Engine { return r.engine }

// Validate judges a request: findings whose action is deny refuse it
// (unless the config is in dry-run audit mode), the others come back as
// warnings.
func (r *Reviewer) Validate(ctx context.Context, req *admissionv1.AdmissionRequest) Decision {
	d := Decision{Outcome: Allowed, UID: req.UID}
	if req.Operation == admissionv1.Delete || req.Operation == admissionv1.Connect || r.excluded[req.Namespace] {
		return d
	}
	res, err := r.check(ctx, req)
	if err != nil {
		return errorDecision(req.UID, errorCode(err), err)
	}
	// Each list is allocated once, at its size (a finding is large).
	actions := make([]string, len(res.Findings))
	denied, warned := 0, 0
	for i, f := range res.Findings {
		switch actions[i] = r.action(f); actions[i] {
		case "deny":
			denied++
		case "warn":
			warned++
		}
	}
	if denied > 0 {
		d.Denied = make([]rules.Finding, 0, denied)
	}
	if warned > 0 {
		d.Warned = make([]rules.Finding, 0, warned)
	}
	for i, f := range res.Findings {
		switch actions[i] {
		case "deny":
			d.Denied = append(d.Denied, f)
		case "warn":
			d.Warned = append(d.Warned, f)
		}
	}
	// Findings the engine counted but did not keep (an object with
	// thousands of containers) count toward "more".
	moreDenied, moreWarned := 0, 0
	for rule, n := range res.Omitted {
		switch r.action(rules.Finding{Rule: rule, Severity: r.engine.Severity(rule)}) {
		case "deny":
			moreDenied += n
		case "warn":
			moreWarned += n
		}
	}
	if r.cfg.DryRun {
		d.Warned, d.Denied = append(d.Denied, d.Warned...), nil
		moreWarned, moreDenied = moreWarned+moreDenied, 0
	}
	for i, f := range d.Warned {
		if i == MaxListed {
			break
		}
		d.Warnings = append(d.Warnings, truncate("["+f.Rule+"] "+f.Message, MaxWarningLength))
	}
	if more := len(d.Warned) + moreWarned - len(d.Warnings); more > 0 {
		d.Warnings = append(d.Warnings, fmt.Sprintf("[klint] %d more warnings not shown", more))
	}
	if len(d.Warnings) > 0 {
		d.Outcome = Warned
	}
	if len(d.Denied) > 0 {
		var msgs []string
		for i, f := range d.Denied {
			if i == MaxListed {
				break
			}
			msgs = append(msgs, "["+f.Rule+"] "+f.Message)
		}
		if more := len(d.Denied) + moreDenied - len(msgs); more > 0 {
			msgs = append(msgs, fmt.Sprintf("and %d more", more))
		}
		d.Outcome = Denied
		d.Message = fmt.Sprintf("klint denied %s %s: %s", req.Kind.Kind, objectName(req), strings.Join(msgs, "; "))
	}
	return d
}

// action is what a finding does in admission: the rule's configured
// action, else deny at or above denyAt and warn below it.
func (r *Reviewer) action(f rules.Finding) string {
	if a, ok := r.cfg.Actions[f.Rule]; ok {
		return a
	}
	if f.Severity >= r.denyAt {
		return "deny"
	}
	return "warn"
}

// Mutate applies the fixes of the rules listed in admission.mutate and
// returns them as a JSON Patch computed by diffing the original and the
// mutated JSON, so fields klint does not know are never touched.
func (r *Reviewer) Mutate(ctx context.Context, req *admissionv1.AdmissionRequest) Decision {
	d := Decision{Outcome: Allowed, UID: req.UID}
	if req.Operation == admissionv1.Delete || req.Operation == admissionv1.Connect || r.excluded[req.Namespace] || len(r.mutate) == 0 {
		return d
	}
	res, err := r.check(ctx, req)
	if err != nil {
		return errorDecision(req.UID, errorCode(err), err)
	}
	mutated := req.Object.Raw
	for _, f := range res.Findings {
		if !r.mutate[f.Rule] || len(f.Fix) == 0 {
			continue
		}
		ops, err := json.Marshal(f.Fix)
		if err != nil {
			return errorDecision(req.UID, http.StatusInternalServerError, err)
		}
		p, err := jsonpatchapply.DecodePatch(ops)
		if err != nil {
			return errorDecision(req.UID, http.StatusInternalServerError, err)
		}
		next, err := p.Apply(mutated)
		if err != nil {
			continue // the fix no longer applies after an earlier one
		}
		mutated = next
	}
	patch, err := jsonpatch.CreatePatch(req.Object.Raw, mutated)
	if err != nil {
		return errorDecision(req.UID, http.StatusInternalServerError, err)
	}
	if len(patch) == 0 {
		return d
	}
	slices.SortFunc(patch, func(a, b jsonpatch.Operation) int { return strings.Compare(a.Path, b.Path) })
	body, err := json.Marshal(patch)
	if err != nil {
		return errorDecision(req.UID, http.StatusInternalServerError, err)
	}
	d.Outcome, d.Patch = Patched, body
	return d
}

// ReviewFile answers a saved AdmissionReview (JSON or YAML) as the
// webhook's validating (or, with mutate, mutating) endpoint would.
func ReviewFile(ctx context.Context, r *Reviewer, data []byte, mutate bool) (*admissionv1.AdmissionReview, error) {
	raw, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("not YAML or JSON: %w", err)
	}
	in, err := decodeReview(raw)
	if err != nil {
		return nil, err
	}
	if mutate {
		return reviewOf(r.Mutate(ctx, in.Request).Response()), nil
	}
	return reviewOf(r.Validate(ctx, in.Request).Response()), nil
}

// check runs the engine on the request's object.
func (r *Reviewer) check(ctx context.Context, req *admissionv1.AdmissionRequest) (*engine.Result, error) {
	if len(req.Object.Raw) == 0 {
		return nil, fmt.Errorf("request has no object")
	}
	l := inputs.Read(inputs.Input{Path: fmt.Sprintf("%s/%s", req.Kind.Kind, objectName(req)), Data: req.Object.Raw}, nil, nil)
	objs, probs := l.Objects, l.Problems
	if len(objs) != 1 {
		msg := "request object is not a Kubernetes object"
		if len(probs) > 0 {
			msg += ": " + probs[0].Message
		}
		return nil, fmt.Errorf("%s", msg)
	}
	// The API server fills the namespace in from the request.
	if objs[0].Namespace == "" {
		objs[0].Namespace = req.Namespace
	}
	if r.Budget > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, r.Budget)
		defer cancel()
	}
	res := r.engine.RunObjects(ctx, objs, probs)
	if res.Interrupted != nil {
		return nil, &interruptedError{cause: res.Interrupted, budget: r.Budget}
	}
	return res, nil
}

// interruptedError is a request whose object was not judged: its time ran
// out or its client went away.
type interruptedError struct {
	cause  error
	budget time.Duration
}

func (e *interruptedError) Error() string {
	if errors.Is(e.cause, context.DeadlineExceeded) {
		if e.budget > 0 {
			return fmt.Sprintf("the object was not judged: checking it takes longer than the time allowed (at most %s, less when the API server's timeout is shorter)", e.budget)
		}
		return "the object was not judged: checking it takes longer than the API server's timeout"
	}
	return "the object was not judged: the request was cancelled"
}

// errorCode is the status code of a response to a request that could not
// be judged.
func errorCode(err error) int32 {
	var ie *interruptedError
	if errors.As(err, &ie) {
		return http.StatusGatewayTimeout
	}
	return http.StatusBadRequest
}

func objectName(req *admissionv1.AdmissionRequest) string {
	name := req.Name
	if name == "" { // the request names the object only once it exists
		var meta struct {
			Metadata struct{ Name, GenerateName string } `json:"metadata"`
		}
		_ = json.Unmarshal(req.Object.Raw, &meta)
		switch {
		case meta.Metadata.Name != "":
			name = meta.Metadata.Name
		case meta.Metadata.GenerateName != "":
			name = meta.Metadata.GenerateName + "<generated>"
		default:
			name = "<generated>"
		}
	}
	if req.Namespace != "" {
		return req.Namespace + "/" + name
	}
	return name
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - 1
	for cut > 0 && (s[cut]&0xC0) == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}
