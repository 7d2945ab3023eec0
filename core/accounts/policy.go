package accounts

import (
	"context"
	"net/http"
	"slices"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// The policy layer: every handler that reads or writes an object asks it.
//
//   - Roles per operation: declared with Allow/Public on the huma operation
//     and enforced by the API guard before the handler runs.
//   - Objects: CanRead/CanWrite decide for an object owned by a customer.
//     Owner: yes. Assigned staff: read (and write where the operation says
//     so). Org admin and integrator tokens: yes, within their organisation.
//     Anyone else gets a not-found error, never "forbidden", so IDs do not
//     reveal that an object exists.
//   - Queries stay org-scoped through store.Org regardless.

// Metadata keys on huma operations.
const (
	metaAccess = "portal.access"
	metaMatrix = "portal.matrix"
)

// Access says who may call an operation.
type Access struct {
	Public bool
	Roles  []Role
}

// Allow lets the given roles call an operation (an operation option for
// huma.Get/Post/...). Without it an operation is open to every signed-in
// person (customer, staff, admin) and closed to API tokens.
func Allow(roles ...Role) func(*huma.Operation) {
	return func(o *huma.Operation) { setMeta(o, metaAccess, Access{Roles: roles}) }
}

// Public lets anyone call an operation (sign-in, sign-up, health).
func Public() func(*huma.Operation) {
	return func(o *huma.Operation) { setMeta(o, metaAccess, Access{Public: true}) }
}

func setMeta(o *huma.Operation, k string, v any) {
	if o.Metadata == nil {
		o.Metadata = map[string]any{}
	}
	o.Metadata[k] = v
}

// AccessOf returns an operation's declared access.
func AccessOf(o *huma.Operation) Access {
	if a, ok := o.Metadata[metaAccess].(Access); ok {
		return a
	}
	return Access{Roles: PersonRoles}
}

// Fixture creates, for the authorization matrix, an object owned by owner
// and returns the path parameters (and, for writes, a valid body) that
// address it.
type Fixture func(ctx context.Context, tx *gorm.DB, owner *Principal) (params map[string]string, body any, err error)

// Matrix attaches a fixture so the authorization matrix test exercises the
// operation: the owner succeeds; another customer of the same org, a
// customer of another org, an anonymous caller and a revoked token fail.
func Matrix(f Fixture) func(*huma.Operation) {
	return func(o *huma.Operation) { setMeta(o, metaMatrix, f) }
}

// MatrixSkip opts an operation with path parameters out of the matrix; the
// reason is printed by the test and must say why the matrix does not apply.
func MatrixSkip(reason string) func(*huma.Operation) {
	return func(o *huma.Operation) { setMeta(o, metaMatrix, reason) }
}

// MatrixOf returns an operation's fixture or skip reason.
func MatrixOf(o *huma.Operation) (Fixture, string) {
	switch v := o.Metadata[metaMatrix].(type) {
	case Fixture:
		return v, ""
	case string:
		return nil, v
	}
	return nil, ""
}

// CanRead reports whether p may read an object of org owned by customer
// ownerID, as a not-found error when not.
func (s *Service) CanRead(ctx context.Context, p *Principal, orgID, ownerID uint) error {
	if p == nil || p.OrgID != orgID {
		return errs.NotFoundf("not found")
	}
	switch p.Role {
	case Admin, Integrator:
		return nil
	case Customer:
		if p.UserID == ownerID {
			return nil
		}
	case Staff:
		if p.UserID == ownerID {
			return nil
		}
		if ok, err := s.IsAssigned(ctx, orgID, p.UserID, ownerID); err != nil {
			return err
		} else if ok {
			return nil
		}
	}
	return errs.NotFoundf("not found")
}

// CanWrite is CanRead for changes: the owner, org admins and integrator
// tokens; assigned staff only when staffMayWrite.
func (s *Service) CanWrite(ctx context.Context, p *Principal, orgID, ownerID uint, staffMayWrite bool) error {
	if err := s.CanRead(ctx, p, orgID, ownerID); err != nil {
		return err
	}
	if p.Role == Staff && p.UserID != ownerID && !staffMayWrite {
		return errs.Forbiddenf("staff can view but not change this")
	}
	return nil
}

// IsAssigned reports whether staffID looks after customerID.
func (s *Service) IsAssigned(ctx context.Context, orgID, staffID, customerID uint) (bool, error) {
	var n int64
	err := store.Org(s.st.DB.WithContext(ctx), orgID).Model(&Assignment{}).
		Where("staff_id = ? AND customer_id = ?", staffID, customerID).Count(&n).Error
	return n > 0, err
}

// VisibleCustomers returns the customer IDs p may see: themselves for a
// customer, assigned customers for staff, and nil (meaning all of the org)
// for admins and integrators. Lists use it to filter.
func (s *Service) VisibleCustomers(ctx context.Context, p *Principal) (ids []uint, all bool, err error) {
	switch p.Role {
	case Admin, Integrator:
		return nil, true, nil
	case Customer:
		return []uint{p.UserID}, false, nil
	case Staff:
		err = store.Org(s.st.DB.WithContext(ctx), p.OrgID).Model(&Assignment{}).
			Where("staff_id = ?", p.UserID).Pluck("customer_id", &ids).Error
		return ids, false, err
	}
	return nil, false, nil
}

// WhereVisible narrows q to the rows whose column (a customer's user ID)
// p may see (VisibleCustomers): every row for admins and integrators.
func (s *Service) WhereVisible(ctx context.Context, p *Principal, q *gorm.DB, column string) (*gorm.DB, error) {
	ids, all, err := s.VisibleCustomers(ctx, p)
	if err != nil || all {
		return q, err
	}
	return q.Where(column+" IN ?", append(ids, 0)), nil
}

// ScopeFor returns the API-token scope an operation needs: "<area>:read"
// for GET and HEAD, "<area>:write" otherwise, where area is the first path
// segment after /api/v1/.
func ScopeFor(method, path string) string {
	area := areaOf(path)
	if method == http.MethodGet || method == http.MethodHead {
		return area + ":read"
	}
	return area + ":write"
}

func areaOf(path string) string {
	const prefix = "/api/v1/"
	if len(path) <= len(prefix) || path[:len(prefix)] != prefix {
		return ""
	}
	rest := path[len(prefix):]
	for i := 0; i < len(rest); i++ {
		if rest[i] == '/' {
			return rest[:i]
		}
	}
	return rest
}

func roleAllowed(a Access, r Role) bool { return slices.Contains(a.Roles, r) }

// Register declares an operation with options such as Allow, Public and
// Matrix (huma.Register takes none). Modules use it for their operations.
func Register[I, O any](api huma.API, op huma.Operation, h func(context.Context, *I) (*O, error), opts ...func(*huma.Operation)) {
	for _, o := range opts {
		o(&op)
	}
	huma.Register(api, op, h)
}
