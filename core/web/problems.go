package web

import (
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// ProblemRule names the problem statuses an operation can answer with,
// derived from what it is: its access rules, its path parameters, its
// module, its idempotency. Core services add rules with DocumentProblems;
// every operation registered afterwards documents each status as an
// application/problem+json response, so a generated client can tell "not
// found" from "not allowed" from "invalid" by type.
type ProblemRule func(op *huma.Operation) []int

const metaProblems = "portal.problems"

// Problems is an operation option for statuses no general rule can know
// from the operation's shape: 409 for a business conflict ("the account
// does not have the money"), 429 for a throttled operation, 503 for one
// that needs a dependency that can be down.
func Problems(statuses ...int) func(*huma.Operation) {
	return func(o *huma.Operation) {
		if o.Metadata == nil {
			o.Metadata = map[string]any{}
		}
		prev, _ := o.Metadata[metaProblems].([]int)
		o.Metadata[metaProblems] = append(slices.Clone(prev), statuses...)
	}
}

// DocumentProblems adds a rule; see ProblemRule.
func (s *Server) DocumentProblems(rule ProblemRule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.problemRules = append(s.problemRules, rule)
}

// problemText is the description of each documented problem status.
var problemText = map[int]string{
	http.StatusBadRequest:            "The body is not valid JSON.",
	http.StatusUnauthorized:          "No or bad credentials: sign in or send an API token.",
	http.StatusForbidden:             "Signed in, but this role or API token (scope) may not do this.",
	http.StatusNotFound:              "No such object, or it is not yours to see (IDs do not reveal what exists).",
	http.StatusConflict:              "The object changed or already exists, or a request with this Idempotency-Key is still being answered (retry after Retry-After).",
	http.StatusRequestEntityTooLarge: "The body is larger than the portal accepts.",
	http.StatusUnprocessableEntity:   "Input failed validation; `errors` names each field (`location`).",
	http.StatusTooManyRequests:       "Too many attempts; retry after the Retry-After header's seconds.",
	http.StatusServiceUnavailable:    "A dependency is down or the portal is shutting down; retry later.",
}

// builtinProblems are the statuses that follow from an operation's input:
// any input can fail validation, a JSON body can be malformed, an
// idempotent operation can meet a key in use.
func builtinProblems(op *huma.Operation) []int {
	var out []int
	if op.RequestBody != nil {
		out = append(out, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	}
	if len(op.Parameters) > 0 {
		out = append(out, http.StatusUnprocessableEntity)
	}
	if IsIdempotent(op) {
		out = append(out, http.StatusConflict, http.StatusUnprocessableEntity)
	}
	if op.Method != http.MethodGet && op.Method != http.MethodHead && HasPathParam(op) {
		// A change to an existing object: it may have changed meanwhile
		// or be in a state that refuses the change.
		out = append(out, http.StatusConflict)
	}
	extra, _ := op.Metadata[metaProblems].([]int)
	out = append(out, extra...)
	return append(out, op.Errors...)
}

// documentOperation is the OpenAPI hook run for every operation added:
// problem responses, then a request example.
func (s *Server) documentOperation(oapi *huma.OpenAPI, op *huma.Operation) {
	s.mu.RLock()
	rules := slices.Clone(s.problemRules)
	s.mu.RUnlock()
	statuses := builtinProblems(op)
	for _, r := range rules {
		statuses = append(statuses, r(op)...)
	}
	slices.Sort(statuses)
	statuses = slices.Compact(statuses)
	if op.Responses == nil {
		op.Responses = map[string]*huma.Response{}
	}
	for _, st := range statuses {
		code := strconv.Itoa(st)
		if _, ok := op.Responses[code]; ok {
			continue
		}
		text := problemText[st]
		if text == "" {
			text = http.StatusText(st)
		}
		resp := &huma.Response{Description: text, Content: map[string]*huma.MediaType{
			"application/problem+json": {Schema: s.problemSchema},
		}}
		if st == http.StatusTooManyRequests || st == http.StatusServiceUnavailable || st == http.StatusConflict {
			resp.Headers = map[string]*huma.Param{"Retry-After": {
				Description: "Seconds to wait before retrying.",
				Schema:      &huma.Schema{Type: huma.TypeInteger, Minimum: ptr(0.0)},
			}}
		}
		op.Responses[code] = resp
	}
	addRequestExample(oapi, op)
}

// problemSchemaRef registers Problem and returns a reference to it.
func problemSchemaRef(reg huma.Registry) *huma.Schema {
	return reg.Schema(reflect.TypeOf(Problem{}), true, "Problem")
}

// addRequestExample gives a JSON request body without one an example built
// from its schema: declared examples and defaults first, then the first
// enum value, then a value that meets the schema's bounds.
func addRequestExample(oapi *huma.OpenAPI, op *huma.Operation) {
	if op.RequestBody == nil {
		return
	}
	mt := op.RequestBody.Content["application/json"]
	if mt == nil || mt.Example != nil || len(mt.Examples) > 0 || mt.Schema == nil {
		return
	}
	if ex, ok := exampleOf(oapi.Components.Schemas, mt.Schema, 0); ok {
		mt.Example = ex
	}
}

func exampleOf(reg huma.Registry, sc *huma.Schema, depth int) (any, bool) {
	if sc == nil || depth > 6 {
		return nil, false
	}
	if sc.Ref != "" {
		return exampleOf(reg, reg.SchemaFromRef(sc.Ref), depth+1)
	}
	if len(sc.Examples) > 0 {
		return sc.Examples[0], true
	}
	if sc.Default != nil {
		return sc.Default, true
	}
	if len(sc.Enum) > 0 {
		return sc.Enum[0], true
	}
	typ := sc.Type
	if typ == "" && len(sc.OneOf) > 0 {
		return exampleOf(reg, sc.OneOf[0], depth+1)
	}
	switch typ {
	case huma.TypeObject:
		obj := map[string]any{}
		for name, p := range sc.Properties {
			if p.ReadOnly || strings.HasPrefix(name, "$") {
				continue
			}
			// Optional fields the example cannot fill are left out.
			if v, ok := exampleOf(reg, p, depth+1); ok {
				obj[name] = v
			} else if slices.Contains(sc.Required, name) {
				return nil, false
			}
		}
		return obj, true
	case huma.TypeArray:
		item, ok := exampleOf(reg, sc.Items, depth+1)
		if !ok {
			return []any{}, sc.MinItems == nil || *sc.MinItems == 0
		}
		n := 1
		if sc.MinItems != nil && *sc.MinItems > 1 {
			n = *sc.MinItems
		}
		items := make([]any, n)
		for i := range items {
			items[i] = item
		}
		return items, true
	case huma.TypeBoolean:
		return true, true
	case huma.TypeInteger, huma.TypeNumber:
		v := 1.0
		if sc.Minimum != nil && *sc.Minimum > v {
			v = *sc.Minimum
		}
		if sc.ExclusiveMinimum != nil && *sc.ExclusiveMinimum >= v {
			v = *sc.ExclusiveMinimum + 1
		}
		if sc.Maximum != nil && *sc.Maximum < v {
			v = *sc.Maximum
		}
		if typ == huma.TypeInteger {
			return int64(v), true
		}
		return v, true
	case huma.TypeString:
		return stringExample(sc)
	}
	return nil, false
}

func stringExample(sc *huma.Schema) (any, bool) {
	var v string
	switch sc.Format {
	case "date-time":
		return "2026-06-01T09:00:00Z", true
	case "date":
		return "2026-06-01", true
	case "email":
		return "ann@example.com", true
	case "uri", "url":
		return "https://example.com/hook", true
	case "uuid":
		return "5f0e2a8c-1d0b-4c7e-9a51-3b6f8e2d4c10", true
	case "binary":
		return nil, false
	}
	if sc.Pattern != "" {
		return nil, false // no guess is sure to match
	}
	v = "example"
	if sc.MinLength != nil && len(v) < *sc.MinLength {
		v += strings.Repeat("x", *sc.MinLength-len(v))
	}
	if sc.MaxLength != nil && len(v) > *sc.MaxLength {
		v = v[:*sc.MaxLength]
	}
	return v, true
}

// HasPathParam reports whether op addresses an object through its path.
func HasPathParam(op *huma.Operation) bool {
	for _, p := range op.Parameters {
		if p.In == "path" {
			return true
		}
	}
	return false
}
