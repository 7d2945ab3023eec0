package web

import "github.com/danielgtaylor/huma/v2"

// IdempotencyKeyHeader is the request header that makes a retried POST safe
// (docs/api.md, "Idempotency").
const IdempotencyKeyHeader = "Idempotency-Key"

// IdempotencyReplayedHeader marks a response that repeats the stored first
// response to an Idempotency-Key instead of acting again.
const IdempotencyReplayedHeader = "Idempotent-Replayed"

// MaxIdempotencyKeyLen bounds an Idempotency-Key.
const MaxIdempotencyKeyLen = 255

const metaIdempotent = "portal.idempotent"

// Idempotent is an operation option (accounts.Register, huma.Register's
// operation hooks) for a POST that creates something a person would not
// want twice — a transfer, a payment, a booking, a message. The caller may
// then send an Idempotency-Key header: a retry with the same key and body
// gets the first response again without the operation acting again. The
// kernel's idempotency middleware does the work; this option only marks the
// operation and documents the header.
func Idempotent() func(*huma.Operation) {
	return func(o *huma.Operation) {
		if o.Metadata == nil {
			o.Metadata = map[string]any{}
		}
		o.Metadata[metaIdempotent] = true
		o.Parameters = append(o.Parameters, &huma.Param{
			Name: IdempotencyKeyHeader, In: "header",
			Description: "A unique value per intended action (a UUID). A retry with the same key and the same body " +
				"gets the first response again (marked `Idempotent-Replayed: true`) without acting twice; " +
				"the same key with another body is refused with 422. Keys belong to the caller and expire (api.idempotency_ttl).",
			Schema:  &huma.Schema{Type: huma.TypeString, MinLength: ptr(1), MaxLength: ptr(MaxIdempotencyKeyLen)},
			Example: "5f0e2a8c-1d0b-4c7e-9a51-3b6f8e2d4c10",
		})
	}
}

// IsIdempotent reports whether op was declared with Idempotent.
func IsIdempotent(op *huma.Operation) bool {
	v, _ := op.Metadata[metaIdempotent].(bool)
	return v
}

func ptr[T any](v T) *T { return &v }
