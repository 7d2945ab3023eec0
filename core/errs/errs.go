// Package errs is PortalKit's one error type. Every layer returns *Error (or
// wraps one) to say what kind of failure happened; core/web maps the kind to an
// HTTP status in exactly one place (Status) and renders it as RFC 9457 problem
// details for the API or a friendly page for the portal.
//
// errs imports nothing from PortalKit, so every package may use it.
package errs

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Kind classifies a failure by what the caller can do about it.
type Kind int

// The kinds of failure. Internal is the zero value so that an unclassified
// error is never mistaken for the caller's fault.
const (
	Internal        Kind = iota // a bug or an outage: 500, message never shown
	Invalid                     // the input is wrong: 422, names the fields
	Unauthenticated             // no or bad credentials: 401
	Forbidden                   // authenticated but not allowed: 403
	NotFound                    // no such object (or not visible to the caller): 404
	Conflict                    // the object changed or already exists: 409
	RateLimited                 // slow down: 429 with Retry-After
	Unavailable                 // a dependency is down: 503
	TooLarge                    // the body or file is over a limit: 413
)

var kindNames = map[Kind]string{
	Internal: "internal", Invalid: "invalid", Unauthenticated: "unauthenticated",
	Forbidden: "forbidden", NotFound: "not_found", Conflict: "conflict",
	RateLimited: "rate_limited", Unavailable: "unavailable", TooLarge: "too_large",
}

// String returns the kind's stable name, used in logs and problem types.
func (k Kind) String() string { return kindNames[k] }

// Status maps a kind to its HTTP status. It is the only place that does.
func (k Kind) Status() int {
	switch k {
	case Invalid:
		return http.StatusUnprocessableEntity
	case Unauthenticated:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case RateLimited:
		return http.StatusTooManyRequests
	case Unavailable:
		return http.StatusServiceUnavailable
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	default:
		return http.StatusInternalServerError
	}
}

// FieldError names one offending input field.
type FieldError struct {
	// Field is a path such as "body.email" or "vin".
	Field string `json:"location"`
	// Message says what is wrong, in words a user understands.
	Message string `json:"message"`
	// Value echoes the offending value when it is safe to show.
	Value any `json:"value,omitempty"`
}

// Error is a classified failure. Message is safe to show to the caller for
// every kind except Internal, whose message is replaced by a generic one.
type Error struct {
	Kind       Kind
	Message    string
	Fields     []FieldError
	RetryAfter time.Duration // for RateLimited
	Err        error         // the cause, logged, never shown
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	if e.Err != nil {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the given kind with a message safe to show.
func New(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Wrap classifies cause under kind with a message safe to show. The cause is
// kept for logs.
func Wrap(kind Kind, cause error, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...), Err: cause}
}

// Field builds a FieldError.
func Field(field, message string) FieldError { return FieldError{Field: field, Message: message} }

// Validation reports bad input on one or more fields.
func Validation(message string, fields ...FieldError) *Error {
	return &Error{Kind: Invalid, Message: message, Fields: fields}
}

// InvalidField reports one bad field; the message names it.
func InvalidField(field, message string) *Error {
	return &Error{Kind: Invalid, Message: field + ": " + message, Fields: []FieldError{{Field: field, Message: message}}}
}

// NotFoundf reports that an object does not exist or is not visible.
func NotFoundf(format string, args ...any) *Error { return New(NotFound, format, args...) }

// Forbiddenf reports a caller that may not do this.
func Forbiddenf(format string, args ...any) *Error { return New(Forbidden, format, args...) }

// Unauthenticatedf reports missing or bad credentials.
func Unauthenticatedf(format string, args ...any) *Error {
	return New(Unauthenticated, format, args...)
}

// Conflictf reports a state conflict.
func Conflictf(format string, args ...any) *Error { return New(Conflict, format, args...) }

// RateLimitedf reports too many requests; retry is sent as Retry-After.
func RateLimitedf(retry time.Duration, format string, args ...any) *Error {
	e := New(RateLimited, format, args...)
	e.RetryAfter = retry
	return e
}

// KindOf returns the kind of the first *Error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// Is reports whether err is classified as kind.
func Is(err error, kind Kind) bool { return err != nil && KindOf(err) == kind }

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
