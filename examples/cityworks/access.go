package cityworks

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// Who reads what:
//
//   - A department's staff are the staff-side members of its policy group
//     (KindDepartment). They read the counts and congestion episodes of
//     their department's segments, plan its reports' work and reach the
//     citizens who reported to it.
//   - A department shares one segment with another department with a
//     Share: that department's staff then read the segment's counts and
//     episodes (never its reports). Withdrawing the share ends it at once.
//   - Admins and the organisation's integrator tokens read every segment.
//   - Staff of an unrelated department get 404 for a segment.

// CreateDepartment adds a department and its policy group.
func (m *Module) CreateDepartment(ctx context.Context, orgID uint, code, name string) (*Department, error) {
	d := &Department{Code: code, Name: name}
	d.OrgID = orgID
	err := m.st.Tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := store.Org(tx, orgID).Model(&Department{}).Where("code = ?", code).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return errs.InvalidField("body.code", "another department has this code")
		}
		g, err := m.acc.SaveGroup(ctx, tx, orgID, KindDepartment, code, name)
		if err != nil {
			return err
		}
		d.GroupID = g.ID
		return tx.Create(d).Error
	})
	return d, err
}

// AddStaff puts a staff member (or admin) in a department.
func (m *Module) AddStaff(ctx context.Context, orgID, deptID, userID uint) error {
	return m.st.Tx(ctx, func(tx *gorm.DB) error {
		d, err := m.department(tx, orgID, deptID)
		if err != nil {
			return err
		}
		u, err := m.acc.UserByID(ctx, orgID, userID)
		if err != nil || !(u.Role == accounts.Staff || u.Role == accounts.Admin) {
			return errs.InvalidField("body.user_id", "is not a staff member of the organisation")
		}
		return m.acc.AddGroupMember(ctx, tx, orgID, d.GroupID, userID, accounts.StaffSide, "staff")
	})
}

func (m *Module) department(db *gorm.DB, orgID, id uint) (*Department, error) {
	var d Department
	err := store.Org(db, orgID).Where("id = ?", id).Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.NotFoundf("department %d not found", id)
	}
	return &d, err
}

// departmentsOf returns the IDs of the departments the user works in.
func (m *Module) departmentsOf(ctx context.Context, tx *gorm.DB, orgID, userID uint) ([]uint, error) {
	gs, err := m.acc.GroupsOf(ctx, tx, orgID, userID, KindDepartment, accounts.StaffSide)
	if err != nil || len(gs) == 0 {
		return nil, err
	}
	ids := make([]uint, len(gs))
	for i, g := range gs {
		ids[i] = g.ID
	}
	var out []uint
	err = store.Org(m.db(ctx, tx), orgID).Model(&Department{}).Where("group_id IN ?", ids).Pluck("id", &out).Error
	return out, err
}

// departmentStaff lists the staff of a department.
func (m *Module) departmentStaff(ctx context.Context, tx *gorm.DB, orgID, deptID uint) ([]uint, error) {
	d, err := m.department(m.db(ctx, tx), orgID, deptID)
	if err != nil {
		return nil, err
	}
	ms, err := m.acc.GroupMembers(ctx, tx, orgID, d.GroupID, accounts.StaffSide)
	if err != nil {
		return nil, err
	}
	out := make([]uint, len(ms))
	for i, x := range ms {
		out[i] = x.UserID
	}
	return out, nil
}

func (m *Module) db(ctx context.Context, tx *gorm.DB) *gorm.DB {
	if tx != nil {
		return tx
	}
	return m.st.DB.WithContext(ctx)
}

func seesAll(p *accounts.Principal) bool { return p.Is(accounts.Admin, accounts.Integrator) }

// visibleSegments narrows a segment query to what p reads: their
// departments' segments and the segments shared with them.
func (m *Module) visibleSegments(ctx context.Context, p *accounts.Principal, q *gorm.DB) (*gorm.DB, error) {
	if seesAll(p) {
		return q, nil
	}
	if !p.Is(accounts.Staff) {
		return q.Where("1 = 0"), nil
	}
	depts, err := m.departmentsOf(ctx, nil, p.OrgID, p.UserID)
	if err != nil {
		return nil, err
	}
	if len(depts) == 0 {
		return q.Where("1 = 0"), nil
	}
	shared := m.st.DB.WithContext(ctx).Session(&gorm.Session{NewDB: true}).Table("cityworks_shares").Select("segment_id").
		Where("org_id = ? AND department_id IN ?", p.OrgID, depts)
	return q.Where("cityworks_segments.department_id IN ? OR cityworks_segments.id IN (?)", depts, shared), nil
}

// segmentFor returns a segment p may read, or 404.
func (m *Module) segmentFor(ctx context.Context, p *accounts.Principal, id uint) (*Segment, error) {
	q, err := m.visibleSegments(ctx, p, store.Org(m.st.DB.WithContext(ctx), p.OrgID).Where("cityworks_segments.id = ?", id))
	if err != nil {
		return nil, err
	}
	var s Segment
	err = q.Take(&s).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.NotFoundf("segment %d not found", id)
	}
	return &s, err
}

// ownsSegment reports whether p may manage a segment's shares: an admin,
// or staff of the segment's own department.
func (m *Module) ownsSegment(ctx context.Context, p *accounts.Principal, s *Segment) (bool, error) {
	if p.Is(accounts.Admin) {
		return true, nil
	}
	depts, err := m.departmentsOf(ctx, nil, p.OrgID, p.UserID)
	if err != nil {
		return false, err
	}
	for _, d := range depts {
		if d == s.DepartmentID {
			return true, nil
		}
	}
	return false, nil
}
