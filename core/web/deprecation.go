package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

const metaDeprecation = "portal.deprecation"

// Deprecation says when an operation was deprecated, when it stops working
// and what replaces it (docs/api.md, "Versioning").
type Deprecation struct {
	Since  time.Time
	Sunset time.Time
	// Successor is the path of the operation that replaces it, if any.
	Successor string
}

// Deprecated is an operation option that marks an operation deprecated in
// the OpenAPI document and makes each of its responses carry the
// Deprecation (RFC 9745), Sunset (RFC 8594) and, with a successor, Link
// headers.
func Deprecated(d Deprecation) func(*huma.Operation) {
	return func(o *huma.Operation) {
		if o.Metadata == nil {
			o.Metadata = map[string]any{}
		}
		o.Metadata[metaDeprecation] = d
		o.Deprecated = true
		note := "Deprecated since " + d.Since.UTC().Format(time.DateOnly) + "; stops working on " + d.Sunset.UTC().Format(time.DateOnly) + "."
		if d.Successor != "" {
			note += " Use " + d.Successor + " instead."
		}
		if o.Description != "" {
			note = o.Description + "\n\n" + note
		}
		o.Description = note
	}
}

// deprecationHeaders is the API middleware that sends the headers of a
// deprecated operation.
func deprecationHeaders(ctx huma.Context, next func(huma.Context)) {
	if d, ok := ctx.Operation().Metadata[metaDeprecation].(Deprecation); ok {
		ctx.SetHeader("Deprecation", "@"+strconv.FormatInt(d.Since.Unix(), 10))
		ctx.SetHeader("Sunset", d.Sunset.UTC().Format(http.TimeFormat))
		if d.Successor != "" {
			ctx.AppendHeader("Link", "<"+d.Successor+`>; rel="successor-version"`)
		}
	}
	next(ctx)
}
