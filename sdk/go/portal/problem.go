package portal

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"
)

// Problem is an RFC 9457 problem details answer of the portal as a Go
// error. Use errors.As(err, &p) to read it:
//
//	var p *portal.Problem
//	if errors.As(err, &p) && p.Status == 422 { for _, f := range p.Errors { ... } }
type Problem struct {
	Status int
	// Type is the problem type URI: https://portalkit.dev/problems/<kind>
	// for the portal's own kinds (invalid, not_found, conflict, ...),
	// about:blank for plain HTTP statuses.
	Type      string
	Title     string
	Detail    string
	Instance  string
	RequestID string
	// Errors name the offending fields of a 422 (Location such as
	// "body.amount_minor" or "header.Idempotency-Key").
	Errors []FieldError
	// RetryAfter is the wait the portal asked for (429, 503, 409).
	RetryAfter time.Duration
}

// FieldError is one offending input.
type FieldError struct {
	Location string `json:"location"`
	Message  string `json:"message"`
	Value    any    `json:"value,omitempty"`
}

// Error implements error.
func (p *Problem) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "portal: %d %s", p.Status, p.Title)
	if p.Detail != "" {
		b.WriteString(": " + p.Detail)
	}
	if p.RequestID != "" {
		b.WriteString(" (request " + p.RequestID + ")")
	}
	return b.String()
}

// Kind is the last part of a portal problem type: "invalid", "not_found",
// "conflict", ... ("" for about:blank).
func (p *Problem) Kind() string {
	if k, ok := strings.CutPrefix(p.Type, "https://portalkit.dev/problems/"); ok {
		return k
	}
	return ""
}

// Field returns the message for the input at location (e.g.
// "body.amount_minor"), or "".
func (p *Problem) Field(location string) string {
	for _, f := range p.Errors {
		if f.Location == location {
			return f.Message
		}
	}
	return ""
}

// Check returns a *Problem for a non-2xx answer, nil otherwise.
func Check(res *http.Response, body []byte) error {
	if res == nil || (res.StatusCode >= 200 && res.StatusCode < 300) {
		return nil
	}
	p := &Problem{Status: res.StatusCode}
	var doc struct {
		Type      string       `json:"type"`
		Title     string       `json:"title"`
		Detail    string       `json:"detail"`
		Instance  string       `json:"instance"`
		RequestID string       `json:"request_id"`
		Errors    []FieldError `json:"errors"`
	}
	if json.Unmarshal(body, &doc) == nil {
		p.Type, p.Title, p.Detail, p.Instance, p.RequestID, p.Errors = doc.Type, doc.Title, doc.Detail, doc.Instance, doc.RequestID, doc.Errors
	}
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(res.StatusCode)
	}
	if p.RequestID == "" {
		p.RequestID = res.Header.Get("X-Request-Id")
	}
	if v := res.Header.Get("Retry-After"); v != "" {
		p.RetryAfter = retryAfter(v, 0)
	}
	return p
}

// Result passes a generated XxxWithResponse result through, turning a
// non-2xx answer into a *Problem error:
//
//	res, err := portal.Result(c.API.BankingAccountsWithResponse(ctx))
func Result[R any](res *R, err error) (*R, error) {
	if err != nil || res == nil {
		return res, err
	}
	v := reflect.ValueOf(res).Elem()
	hr, _ := v.FieldByName("HTTPResponse").Interface().(*http.Response)
	body, _ := v.FieldByName("Body").Interface().([]byte)
	if err := Check(hr, body); err != nil {
		return res, err
	}
	return res, nil
}
