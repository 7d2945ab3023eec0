package web

import (
	"strconv"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/errs"
)

// MaxInteger is the largest magnitude an integer parameter or request
// field accepts when its own schema names no bound: 2^53−1, the largest
// integer every JSON client reads exactly, well inside the int64 columns of
// both databases. An ID path parameter beyond it (say 2^63) answers 422
// naming the parameter instead of reaching the database.
const MaxInteger = 1<<53 - 1

// boundIntegers gives every integer of an operation's parameters and
// request body that has no minimum or maximum of its own ±MaxInteger, so
// huma checks the bound before a handler runs and OpenAPI shows it.
func boundIntegers(oapi *huma.OpenAPI, op *huma.Operation) {
	seen := map[*huma.Schema]bool{}
	for _, p := range op.Parameters {
		if p != nil {
			boundSchema(oapi.Components.Schemas, p.Schema, seen)
		}
	}
	if op.RequestBody != nil {
		for _, mt := range op.RequestBody.Content {
			if mt != nil {
				boundSchema(oapi.Components.Schemas, mt.Schema, seen)
			}
		}
	}
}

func boundSchema(reg huma.Registry, s *huma.Schema, seen map[*huma.Schema]bool) {
	if s == nil || seen[s] {
		return
	}
	seen[s] = true
	if s.Ref != "" {
		boundSchema(reg, reg.SchemaFromRef(s.Ref), seen)
		return
	}
	if s.Type == huma.TypeInteger {
		changed := false
		if s.Maximum == nil && s.ExclusiveMaximum == nil {
			s.Maximum, changed = ptr(float64(MaxInteger)), true
		}
		if s.Minimum == nil && s.ExclusiveMinimum == nil {
			s.Minimum, changed = ptr(-float64(MaxInteger)), true
		}
		if changed {
			s.PrecomputeMessages()
		}
	}
	boundSchema(reg, s.Items, seen)
	for _, p := range s.Properties {
		boundSchema(reg, p, seen)
	}
	if ap, ok := s.AdditionalProperties.(*huma.Schema); ok {
		boundSchema(reg, ap, seen)
	}
	for _, list := range [][]*huma.Schema{s.OneOf, s.AnyOf, s.AllOf} {
		for _, x := range list {
			boundSchema(reg, x, seen)
		}
	}
}

// PathID reads a page route's ID path parameter name: a positive integer
// up to MaxInteger. Anything else (empty, zero, negative, not a number, or
// beyond what the database's columns hold) is a page that does not exist,
// so a typed or tampered address answers the friendly 404 page and never
// reaches the database.
func PathID(c *fiber.Ctx, name string) (uint, error) {
	n, err := strconv.ParseUint(c.Params(name), 10, 64)
	if err != nil || n == 0 || n > MaxInteger {
		return 0, errs.NotFoundf("not found")
	}
	return uint(n), nil
}

// QueryID reads an optional ID query parameter (a paging cursor, say): 0
// when it is absent or is not an ID PathID would accept, so a mangled link
// shows the first page instead of an error.
func QueryID(c *fiber.Ctx, name string) uint {
	n, err := strconv.ParseUint(c.Query(name), 10, 64)
	if err != nil || n > MaxInteger {
		return 0
	}
	return uint(n)
}
