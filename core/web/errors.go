package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humafiber"
	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// Problem is an RFC 9457 problem details document, the body of every API
// error.
type Problem struct {
	Type      string            `json:"type" doc:"URI of the problem type; about:blank for plain HTTP statuses"`
	Title     string            `json:"title" doc:"Short summary of the problem type"`
	Status    int               `json:"status" doc:"HTTP status code"`
	Detail    string            `json:"detail,omitempty" doc:"What went wrong this time"`
	Instance  string            `json:"instance,omitempty" doc:"urn:request:<request id> of this occurrence"`
	RequestID string            `json:"request_id,omitempty" doc:"Quote it when asking for help"`
	Errors    []errs.FieldError `json:"errors,omitempty" doc:"The offending fields"`

	retryAfter int
}

// Error implements error.
func (p *Problem) Error() string { return p.Detail }

// GetStatus implements huma.StatusError.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType implements huma.ContentTypeFilter: problems are sent as
// application/problem+json.
func (p *Problem) ContentType(ct string) string {
	if ct == "application/json" || ct == "" {
		return "application/problem+json"
	}
	return ct
}

var (
	_ huma.StatusError       = (*Problem)(nil)
	_ huma.ContentTypeFilter = (*Problem)(nil)
)

// problemTypeBase prefixes the type URI of PortalKit's own problem kinds;
// docs/api.md lists them.
const problemTypeBase = "https://portalkit.dev/problems/"

// ProblemFor turns any error into the problem the caller sees. Internal
// errors keep their message out of the response; the caller gets the request
// ID to quote instead.
func ProblemFor(err error, requestID string) *Problem {
	p := &Problem{Type: "about:blank", RequestID: requestID}
	if requestID != "" {
		p.Instance = "urn:request:" + requestID
	}
	var pe *Problem
	var fe *fiber.Error
	var he huma.StatusError
	switch {
	case errors.As(err, &pe):
		cp := *pe
		cp.RequestID, cp.Instance = p.RequestID, p.Instance
		return &cp
	case errs.KindOf(err) != errs.Internal:
		e, _ := errs.As(err)
		p.Status = e.Kind.Status()
		p.Type = problemTypeBase + e.Kind.String()
		p.Title = http.StatusText(p.Status)
		p.Detail = e.Message
		p.Errors = e.Fields
		if e.RetryAfter > 0 {
			p.retryAfter = int(e.RetryAfter.Seconds() + 0.999)
		}
		return p
	case errors.As(err, &fe):
		p.Status = fe.Code
		p.Title = http.StatusText(fe.Code)
		if fe.Code < 500 {
			p.Detail = fe.Message
		}
	case errors.As(err, &he) && he.GetStatus() < 500:
		p.Status = he.GetStatus()
		p.Title = http.StatusText(p.Status)
		p.Detail = he.Error()
	case store.IsUnavailable(err):
		p.Status = http.StatusServiceUnavailable
		p.Type = problemTypeBase + errs.Unavailable.String()
		p.Title = http.StatusText(p.Status)
		p.Detail = "The service is briefly unavailable. Please try again in a few seconds."
		p.retryAfter = unavailableRetryAfter
		return p
	default:
		p.Status = http.StatusInternalServerError
	}
	if p.Status >= 500 {
		p.Title = http.StatusText(p.Status)
		p.Detail = "Something went wrong on our side. Quote reference " + requestID + " if you contact support."
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	return p
}

// unavailableRetryAfter is the Retry-After, in seconds, of a 503 answered
// because the database does not answer.
const unavailableRetryAfter = 5

// humaError replaces huma's error constructor so that validation errors,
// handler errors and our error kinds all leave as the same Problem, and no
// internal message reaches the caller.
func humaError(ctx huma.Context, status int, msg string, list ...error) huma.StatusError {
	var reqID string
	var s *Server
	var c *fiber.Ctx
	if ctx != nil {
		if c = fiberCtx(ctx); c != nil {
			reqID = RequestID(c)
			s, _ = c.Locals(localServer).(*Server)
		}
	}
	// A handler's own classified error wins over the status huma guessed.
	for _, e := range list {
		if e == nil {
			continue
		}
		if errs.KindOf(e) != errs.Internal {
			p := ProblemFor(e, reqID)
			if p.retryAfter > 0 && c != nil {
				c.Set(fiber.HeaderRetryAfter, strconv.Itoa(p.retryAfter))
			}
			return p
		}
	}
	if status >= 500 {
		cause := errors.Join(list...)
		if cause == nil {
			cause = errors.New(msg)
		}
		p := ProblemFor(cause, reqID)
		if c != nil {
			// logRequests writes it on the request's one log line
			noteCause(c, s, cause, p.Status)
			if p.retryAfter > 0 {
				c.Set(fiber.HeaderRetryAfter, strconv.Itoa(p.retryAfter))
			}
		}
		return p
	}
	p := &Problem{Type: "about:blank", Status: status, Title: http.StatusText(status), Detail: msg, RequestID: reqID}
	if reqID != "" {
		p.Instance = "urn:request:" + reqID
	}
	if status == http.StatusUnprocessableEntity || status == http.StatusBadRequest {
		p.Type = problemTypeBase + "invalid"
	}
	for _, e := range list {
		if e == nil {
			continue
		}
		var d huma.ErrorDetailer
		if errors.As(e, &d) {
			det := d.ErrorDetail()
			p.Errors = append(p.Errors, errs.FieldError{Field: det.Location, Message: det.Message, Value: det.Value})
		} else {
			p.Errors = append(p.Errors, errs.FieldError{Message: e.Error()})
		}
	}
	if len(p.Errors) > 0 && (p.Detail == "" || p.Detail == "validation failed") {
		p.Detail = describeFields(p.Errors)
	}
	return p
}

func describeFields(fs []errs.FieldError) string {
	var parts []string
	for _, f := range fs {
		if f.Field != "" {
			parts = append(parts, f.Field+": "+f.Message)
		} else {
			parts = append(parts, f.Message)
		}
	}
	return strings.Join(parts, "; ")
}

func fiberCtx(ctx huma.Context) (c *fiber.Ctx) {
	defer func() {
		if recover() != nil {
			c = nil
		}
	}()
	return humafiber.Unwrap(ctx)
}

func init() {
	// huma keeps its error constructor in a package variable; PortalKit sets
	// it once, here, so every huma API in the process answers alike.
	huma.NewErrorWithContext = humaError
	huma.NewError = func(status int, msg string, list ...error) huma.StatusError {
		return humaError(nil, status, msg, list...)
	}
}

// wantsHTML reports whether the caller is a browser asking for a page rather
// than an API client.
func wantsHTML(c *fiber.Ctx) bool {
	if strings.HasPrefix(c.Path(), "/api/") {
		return false
	}
	return c.Accepts(fiber.MIMETextHTML, fiber.MIMEApplicationJSON) == fiber.MIMETextHTML
}

// handleError is Fiber's error handler: problem details for API callers, a
// friendly page in the layout for browsers.
func (s *Server) handleError(c *fiber.Ctx, err error) error {
	p := ProblemFor(err, RequestID(c))
	if p.Status >= 500 {
		noteCause(c, s, err, p.Status)
	}
	if p.retryAfter > 0 {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(p.retryAfter))
	}
	c.Status(p.Status)
	if wantsHTML(c) {
		// The page translates Title, Message and Fields, which stay in
		// English here: they are keys of the catalog (docs/i18n.md).
		page := &Page{Title: p.Title, Data: errorPage{Problem: p, Message: friendlyMessage(p), Fields: fieldMessages(p)}}
		if rerr := s.render(c, "error", page); rerr == nil {
			return nil
		} else {
			s.log.Error("error page failed to render", "request_id", p.RequestID, "err", rerr)
		}
		c.Type("txt", "utf-8")
		return c.SendString(fmt.Sprintf("%d %s\n%s\nReference: %s\n", p.Status, p.Title, friendlyMessage(p), p.RequestID))
	}
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return c.JSON(p, "application/problem+json")
}

// noteCause keeps the cause of a server error for the request's log line
// (logRequests), so a failed request is one line; a request that does not
// pass through logRequests is logged here.
func noteCause(c *fiber.Ctx, s *Server, cause error, status int) {
	c.Locals(localCause, cause)
	if logged, _ := c.Locals(localLogged).(bool); logged || s == nil {
		return
	}
	s.log.Error("request failed", "request_id", RequestID(c), "method", c.Method(), "path", c.Path(), "status", status, "err", cause)
}

type errorPage struct {
	Problem *Problem
	Message string
	// Fields are the messages of the offending fields of a 422.
	Fields []string
}

// friendlyMessage is the error page's text, in English; the page shows its
// translation.
func friendlyMessage(p *Problem) string {
	switch p.Status {
	case http.StatusNotFound:
		return "We could not find that page. It may have moved, or you may not have access to it."
	case http.StatusUnauthorized:
		return "Please sign in to continue."
	case http.StatusForbidden:
		if p.Detail != "" {
			return p.Detail
		}
		return "You do not have permission to do that."
	case http.StatusTooManyRequests:
		return "Too many attempts. Please wait a moment and try again."
	case http.StatusRequestEntityTooLarge:
		return "That upload is too large."
	case http.StatusServiceUnavailable:
		return "The service is briefly unavailable. Please try again in a few seconds."
	case http.StatusUnprocessableEntity:
		if len(p.Errors) > 0 {
			return "Some of the values sent are not valid:"
		}
	}
	if p.Status >= 500 {
		return "Something went wrong on our side. We have logged it; please try again in a moment."
	}
	if p.Detail != "" {
		return p.Detail
	}
	return p.Title
}

// fieldMessages lists the field messages of a 422 for the error page.
func fieldMessages(p *Problem) []string {
	if p.Status != http.StatusUnprocessableEntity {
		return nil
	}
	var out []string
	for _, f := range p.Errors {
		if f.Message != "" {
			out = append(out, f.Message)
		}
	}
	return out
}
