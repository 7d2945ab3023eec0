package accounts

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
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
//     Owner: yes. Staff who reach the owner (an assignment, or a policy
//     group whose kind opens the area: Reach, groups.go): read (and write
//     where the operation says so). Org admin and integrator tokens: yes,
//     within their organisation.
//     Anyone else gets a not-found error, never "forbidden", so IDs do not
//     reveal that an object exists.
//   - Queries stay org-scoped through store.Org regardless.

// Metadata keys on huma operations.
const (
	metaAccess = "portal.access"
	metaMatrix = "portal.matrix"
	metaReach  = "portal.matrix_reach"
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

// MatrixObject is the common fixture for a route on one object, "{id}":
// it stores the object newObj makes for the owner, in the owner's
// organisation (store.Org fills org_id), and passes its primary key as the
// path parameter "id".
//
//	accounts.MatrixObject(func(o *accounts.Principal) *Note { return &Note{OwnerID: o.UserID, Title: "x"} })
func MatrixObject[T any](newObj func(owner *Principal) *T) func(*huma.Operation) {
	return Matrix(func(ctx context.Context, tx *gorm.DB, owner *Principal) (map[string]string, any, error) {
		obj := newObj(owner)
		db := store.Org(tx.WithContext(ctx), owner.OrgID)
		if err := db.Create(obj).Error; err != nil {
			return nil, nil, err
		}
		stmt := &gorm.Statement{DB: db}
		if err := stmt.Parse(obj); err != nil {
			return nil, nil, err
		}
		pk := stmt.Schema.PrioritizedPrimaryField
		if pk == nil {
			return nil, nil, fmt.Errorf("matrix fixture: %s has no primary key", stmt.Schema.Name)
		}
		v, _ := pk.ValueOf(ctx, reflect.ValueOf(obj).Elem())
		return map[string]string{"id": fmt.Sprint(v)}, nil, nil
	})
}

// MatrixSkip opts an operation with path parameters out of the matrix; the
// reason is printed by the test and must say why the matrix does not apply.
func MatrixSkip(reason string) func(*huma.Operation) {
	return func(o *huma.Operation) { setMeta(o, metaMatrix, reason) }
}

// MatrixReach marks an operation open to staff but not to customers whose
// object belongs to a customer (a device's enable, rotate, delete): the
// matrix then calls its fixture with the owning customer and checks staff
// reach as it does for customer operations (assignment and group reach
// alike, unrelated staff refused). Operations customers may call get these
// checks without it.
func MatrixReach() func(*huma.Operation) {
	return func(o *huma.Operation) { setMeta(o, metaReach, true) }
}

// MatrixReachOf reports whether an operation declared MatrixReach.
func MatrixReachOf(o *huma.Operation) bool { v, _ := o.Metadata[metaReach].(bool); return v }

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

// Reach is the policy for one area: a module ID ("banking") or a core area
// ("devices", "messages", "timeline", "feedback"). Staff reach a customer
// through an assignment (every area) or through a policy group both belong
// to whose kind opens the area (GroupKind.Opens). Get one with
// Service.Reach; the Service's own CanRead, CanWrite, VisibleCustomers and
// WhereVisible are Reach("") (assignments and groups opening every area).
type Reach struct {
	s    *Service
	area string
	any  bool
	tx   *gorm.DB
}

// Reach returns the policy of area.
func (s *Service) Reach(area string) Reach { return Reach{s: s, area: area} }

// ReachAny is the policy over every group whatever areas its kind opens:
// whom a staff member looks after at all. The user directory (names and
// e-mail addresses) uses it; module data never does.
func (s *Service) ReachAny() Reach { return Reach{s: s, any: true} }

// WithTx returns the policy reading through tx, so it sees memberships and
// assignments written earlier in the same transaction (and, on SQLite's
// single writer connection, does not wait for it).
func (r Reach) WithTx(tx *gorm.DB) Reach { r.tx = tx; return r }

func (r Reach) db(ctx context.Context) *gorm.DB {
	if r.tx != nil {
		return r.tx.Session(&gorm.Session{NewDB: true}).WithContext(ctx)
	}
	return r.s.st.DB.WithContext(ctx)
}

// CanRead reports whether p may read an object of org owned by customer
// ownerID, as a not-found error when not.
func (r Reach) CanRead(ctx context.Context, p *Principal, orgID, ownerID uint) error {
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
		if ok, err := r.Reaches(ctx, orgID, p.UserID, ownerID); err != nil {
			return err
		} else if ok {
			return nil
		}
	}
	return errs.NotFoundf("not found")
}

// CanWrite is CanRead for changes: the owner, org admins and integrator
// tokens; staff who reach the owner only when staffMayWrite.
func (r Reach) CanWrite(ctx context.Context, p *Principal, orgID, ownerID uint, staffMayWrite bool) error {
	if err := r.CanRead(ctx, p, orgID, ownerID); err != nil {
		return err
	}
	if p.Role == Staff && p.UserID != ownerID && !staffMayWrite {
		return errs.Forbiddenf("staff can view but not change this")
	}
	return nil
}

// Audience returns the active people who may read an object of org owned
// by customer ownerID in the area — CanRead turned around: the owner, the
// staff who reach them (assigned, or in a group whose kind opens the area)
// and the organisation's admins. It reads through db, so it sees the
// caller's transaction. Live events about an object go to this audience
// and no one else (core/live); a test holds it to CanRead.
func (r Reach) Audience(ctx context.Context, db *gorm.DB, orgID, ownerID uint) ([]uint, error) {
	fresh := func() *gorm.DB { return db.Session(&gorm.Session{NewDB: true}).WithContext(ctx) }
	assigned := fresh().Table("accounts_assignments").Select("staff_id").Where("org_id = ? AND customer_id = ?", orgID, ownerID)
	cond := fresh().Where("id = ?", ownerID).Or("role = ?", Admin).Or("role = ? AND id IN (?)", Staff, assigned)
	if kinds := r.s.kindsOpening(r.area, r.any); len(kinds) > 0 {
		grouped := fresh().Table("accounts_group_members AS gs").Select("gs.user_id").
			Joins("JOIN accounts_group_members gc ON gc.group_id = gs.group_id AND gc.org_id = gs.org_id").
			Joins("JOIN accounts_groups g ON g.id = gs.group_id").
			Where("gc.org_id = ? AND gc.user_id = ? AND gc.side = ? AND gs.side = ? AND g.kind IN ?",
				orgID, ownerID, CustomerSide, StaffSide, kinds)
		cond = cond.Or("role = ? AND id IN (?)", Staff, grouped)
	}
	var ids []uint
	err := store.Org(db.WithContext(ctx), orgID).Model(&User{}).
		Where("disabled_at IS NULL").Where(cond).
		Order("id").Pluck("id", &ids).Error
	return ids, err
}

// Audience is Reach("").Audience: the people who may read an object of
// ownerID outside any module's area.
func (s *Service) Audience(ctx context.Context, db *gorm.DB, orgID, ownerID uint) ([]uint, error) {
	return s.Reach("").Audience(ctx, db, orgID, ownerID)
}

// Reaches reports whether staff member staffID reaches customerID in the
// area: assigned to them, or in a group with them whose kind opens it.
func (r Reach) Reaches(ctx context.Context, orgID, staffID, customerID uint) (bool, error) {
	var n int64
	err := r.db(ctx).Table("accounts_users").Where("org_id = ? AND id = ?", orgID, customerID).
		Where(r.cond(r.db(ctx), orgID, staffID, "id")).Count(&n).Error
	return n > 0, err
}

// Customers is a subquery of the IDs of the customers staffID reaches in
// the area (for q.Where("owner_id IN (?)", r.Customers(...))).
func (r Reach) Customers(ctx context.Context, orgID, staffID uint) *gorm.DB {
	db := r.db(ctx)
	return db.Session(&gorm.Session{NewDB: true}).Table("accounts_users").Select("id").
		Where("org_id = ?", orgID).Where(r.cond(db, orgID, staffID, "id"))
}

// cond is the condition "column is a customer staffID reaches": two
// indexed subqueries, never a list of IDs, however large the groups.
func (r Reach) cond(db *gorm.DB, orgID, staffID uint, column string) *gorm.DB {
	fresh := func() *gorm.DB { return db.Session(&gorm.Session{NewDB: true}) }
	assigned := fresh().Table("accounts_assignments").Select("customer_id").Where("org_id = ? AND staff_id = ?", orgID, staffID)
	c := fresh().Where(column+" IN (?)", assigned)
	if kinds := r.s.kindsOpening(r.area, r.any); len(kinds) > 0 {
		grouped := fresh().Table("accounts_group_members AS gc").Select("gc.user_id").
			Joins("JOIN accounts_group_members gs ON gs.group_id = gc.group_id AND gs.org_id = gc.org_id").
			Joins("JOIN accounts_groups g ON g.id = gc.group_id").
			Where("gs.org_id = ? AND gs.user_id = ? AND gs.side = ? AND gc.side = ? AND g.kind IN ?",
				orgID, staffID, StaffSide, CustomerSide, kinds)
		c = c.Or(column+" IN (?)", grouped)
	}
	return c
}

// VisibleCustomers returns the customer IDs p may see: themselves for a
// customer, the customers they reach for staff, and all=true (meaning all
// of the org) for admins and integrators. Prefer WhereVisible for queries:
// it filters in SQL.
func (r Reach) VisibleCustomers(ctx context.Context, p *Principal) (ids []uint, all bool, err error) {
	switch p.Role {
	case Admin, Integrator:
		return nil, true, nil
	case Customer:
		return []uint{p.UserID}, false, nil
	case Staff:
		err = r.Customers(ctx, p.OrgID, p.UserID).Pluck("id", &ids).Error
		return ids, false, err
	}
	return nil, false, nil
}

// WhereVisible narrows q to the rows whose column (a customer's user ID)
// p may see: every row for admins and integrators, their own for a
// customer, the customers they reach (a subquery) for staff.
func (r Reach) WhereVisible(ctx context.Context, p *Principal, q *gorm.DB, column string) (*gorm.DB, error) {
	switch p.Role {
	case Admin, Integrator:
		return q, nil
	case Customer:
		return q.Where(column+" = ?", p.UserID), nil
	case Staff:
		return q.Where(r.cond(r.db(ctx), p.OrgID, p.UserID, column)), nil
	}
	return q.Where("1 = 0"), nil
}

// CanRead is Reach("").CanRead: reach through assignments and groups that
// open every area. Modules use Reach(<module id>).
func (s *Service) CanRead(ctx context.Context, p *Principal, orgID, ownerID uint) error {
	return s.Reach("").CanRead(ctx, p, orgID, ownerID)
}

// CanWrite is Reach("").CanWrite.
func (s *Service) CanWrite(ctx context.Context, p *Principal, orgID, ownerID uint, staffMayWrite bool) error {
	return s.Reach("").CanWrite(ctx, p, orgID, ownerID, staffMayWrite)
}

// IsAssigned reports whether staffID looks after customerID by assignment.
func (s *Service) IsAssigned(ctx context.Context, orgID, staffID, customerID uint) (bool, error) {
	var n int64
	err := store.Org(s.st.DB.WithContext(ctx), orgID).Model(&Assignment{}).
		Where("staff_id = ? AND customer_id = ?", staffID, customerID).Count(&n).Error
	return n > 0, err
}

// VisibleCustomers is Reach("").VisibleCustomers.
func (s *Service) VisibleCustomers(ctx context.Context, p *Principal) (ids []uint, all bool, err error) {
	return s.Reach("").VisibleCustomers(ctx, p)
}

// WhereVisible is Reach("").WhereVisible.
func (s *Service) WhereVisible(ctx context.Context, p *Principal, q *gorm.DB, column string) (*gorm.DB, error) {
	return s.Reach("").WhereVisible(ctx, p, q, column)
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
