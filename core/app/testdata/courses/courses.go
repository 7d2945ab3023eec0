// Package courses is the example of docs/writing-a-module.md, "Policy groups
// for module authors": a module that declares a kind of policy group, keeps
// its groups inside its own transactions and checks access through them.
// core/app's TestPolicyGroupsGuideExample runs it.
package courses

import (
	"context"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/store"
)

// ID is the module's ID, and its policy area.
const ID = "courses"

// KindCourse is the group kind: a course's professors reach its students'
// course data (the "courses" area) and may message them ("messages"), but
// nothing else of theirs — not their bank account, not their devices.
const KindCourse = ID + ".course"

// Module is the courses module.
type Module struct {
	acc *accounts.Service
	st  *store.Store
}

// Info implements module.Module.
func (*Module) Info() module.Info {
	return module.Info{ID: ID, Name: "Courses", Version: "1.0.0", Description: "Courses with professors and students"}
}

// Init implements module.Module.
func (m *Module) Init(h module.Host) error {
	m.acc, m.st = h.Accounts(), h.Store()
	h.GroupKind(accounts.GroupKind{ID: KindCourse, Opens: []string{"messages"}, Label: "Course"})
	return nil
}

// Enrol puts professor and student into the group of course ref, in one
// transaction with whatever else the module writes about the enrolment.
func (m *Module) Enrol(ctx context.Context, orgID uint, ref, title string, professor, student uint) error {
	return m.st.Tx(ctx, func(tx *gorm.DB) error {
		g, err := m.acc.SaveGroup(ctx, tx, orgID, KindCourse, ref, title)
		if err != nil {
			return err
		}
		if err := m.acc.AddGroupMember(ctx, tx, orgID, g.ID, professor, accounts.StaffSide, "professor"); err != nil {
			return err
		}
		return m.acc.AddGroupMember(ctx, tx, orgID, g.ID, student, accounts.CustomerSide, "student")
	})
}

// Drop takes student out of course ref: the professor's reach ends at once.
func (m *Module) Drop(ctx context.Context, orgID uint, ref string, student uint) error {
	g, err := m.acc.GroupByRef(ctx, nil, orgID, KindCourse, ref)
	if err != nil {
		return err
	}
	return m.acc.RemoveGroupMember(ctx, nil, orgID, g.ID, student)
}

// CanSeeProfile is the module's general check: the student, staff who reach
// them in the courses area (any of their courses, or an assignment), admins.
func (m *Module) CanSeeProfile(ctx context.Context, p *accounts.Principal, student uint) error {
	return m.acc.Reach(ID).CanRead(ctx, p, p.OrgID, student)
}

// CanSeeAttempt is the check for data of one course: a staff member must
// reach the student through that course's group, not merely through another
// course they share.
func (m *Module) CanSeeAttempt(ctx context.Context, p *accounts.Principal, ref string, student uint) (bool, error) {
	if p.Is(accounts.Admin) || p.UserID == student {
		return true, nil
	}
	g, err := m.acc.GroupByRef(ctx, nil, p.OrgID, KindCourse, ref)
	if err != nil {
		return false, err
	}
	return m.acc.GroupReaches(ctx, nil, p.OrgID, g.ID, p.UserID, student)
}

// Students lists, as a subquery, the students course ref gives staff member
// staffID: q.Where("student_id IN (?)", m.Students(...)).
func (m *Module) Students(orgID, groupID, staffID uint) *gorm.DB {
	return m.acc.GroupCustomers(nil, orgID, groupID, staffID)
}
