package accounts

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/names"
	"github.com/portalkit/portalkit/core/store"
)

// Policy groups: a course, a care team, a shop, a council department. A
// group is an org-owned row of a kind a module declares, pointing at the
// module's own object (Ref); its members are people on the staff side
// (professor, clinician, clerk) or on the customer side (student, patient,
// shopper). A staff-side member reaches every customer-side member of the
// same group, for the areas the group's kind opens (GroupKind.Opens). No
// row is stored per staff–customer pair: reach is a join over memberships,
// so a course of 500 students is 501 rows and a query stays one subquery.

// Side says on which side of a group a member stands.
type Side string

// The sides of a group.
const (
	// StaffSide members (staff or admins) reach the customer-side members.
	StaffSide Side = "staff"
	// CustomerSide members are reached; they reach nobody through the group.
	CustomerSide Side = "customer"
)

// AllAreas in GroupKind.Opens gives the group's staff the same reach as an
// assignment: every module's and core area's data of the group's customers.
const AllAreas = "*"

// GroupKind is a kind of group a module declares at Init (module.Host's
// GroupKind): its ID is "<module id>.<name>" ("education.course") and Opens
// lists the areas whose customer data the group's staff reach. An area is a
// module ID ("education", "banking") or a core area ("devices",
// "messages", "timeline", "feedback"); the declaring module's own area is
// always opened. AllAreas ("*") opens everything, like an assignment.
type GroupKind struct {
	ID    string
	Opens []string
	// Label names the kind for people ("Course"); translated through the
	// module's it.json.
	Label string
}

// module returns the module part of the kind's ID.
func (k GroupKind) module() string { m, _, _ := strings.Cut(k.ID, "."); return m }

// opens reports whether the kind's staff reach area.
func (k GroupKind) opens(area string) bool {
	return area == k.module() || slices.Contains(k.Opens, AllAreas) || (area != "" && slices.Contains(k.Opens, area))
}

// ValidateGroupKind reports what is wrong with k, naming it.
func ValidateGroupKind(k GroupKind) error {
	if err := names.Qualified("group kind", k.ID, ""); err != nil {
		return err
	}
	for _, a := range k.Opens {
		if a != AllAreas && names.ID(a) != nil {
			return fmt.Errorf("group kind %s: area %q in Opens: want a module ID, a core area or %q", k.ID, a, AllAreas)
		}
	}
	return nil
}

// groupKinds is the registry of declared kinds.
type groupKinds struct {
	mu    sync.RWMutex
	kinds map[string]GroupKind
}

// DeclareGroupKind adds a group kind. Modules declare theirs through
// module.Host's GroupKind, which also checks the module prefix; a malformed
// or repeated kind is an error naming it.
func (s *Service) DeclareGroupKind(k GroupKind) error {
	if err := ValidateGroupKind(k); err != nil {
		return err
	}
	s.groups.mu.Lock()
	defer s.groups.mu.Unlock()
	if s.groups.kinds == nil {
		s.groups.kinds = map[string]GroupKind{}
	}
	if _, dup := s.groups.kinds[k.ID]; dup {
		return fmt.Errorf("group kind %s is declared twice", k.ID)
	}
	k.Opens = slices.Clone(k.Opens)
	s.groups.kinds[k.ID] = k
	return nil
}

// GroupKinds returns the declared kinds, sorted by ID.
func (s *Service) GroupKinds() []GroupKind {
	s.groups.mu.RLock()
	defer s.groups.mu.RUnlock()
	out := make([]GroupKind, 0, len(s.groups.kinds))
	for _, k := range s.groups.kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (s *Service) groupKind(id string) (GroupKind, bool) {
	s.groups.mu.RLock()
	defer s.groups.mu.RUnlock()
	k, ok := s.groups.kinds[id]
	return k, ok
}

// kindsOpening returns the IDs of the kinds whose staff reach area (every
// kind when any is set).
func (s *Service) kindsOpening(area string, any bool) []string {
	s.groups.mu.RLock()
	defer s.groups.mu.RUnlock()
	var out []string
	for id, k := range s.groups.kinds {
		if any || k.opens(area) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// Group is a set of staff and customers of one organisation, of a kind a
// module declared, about one of the module's objects (Ref: a course ID, a
// care team ID, a shop code).
type Group struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	Kind      string    `gorm:"size:100;not null;uniqueIndex:accounts_groups_ref,priority:2" json:"kind"`
	Ref       string    `gorm:"size:80;not null;uniqueIndex:accounts_groups_ref,priority:3" json:"ref"`
	Name      string    `gorm:"size:200;not null" json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// TableName keeps the table in the accounts namespace.
func (Group) TableName() string { return "accounts_groups" }

// GroupMember is one person's membership of a group.
type GroupMember struct {
	ID uint `gorm:"primaryKey" json:"id"`
	store.OrgOwned
	GroupID uint `gorm:"not null;uniqueIndex:accounts_group_members_pair" json:"group_id"`
	UserID  uint `gorm:"not null;uniqueIndex:accounts_group_members_pair" json:"user_id"`
	Side    Side `gorm:"size:10;not null" json:"side"`
	// Role is the member's role in the group, the module's word for it
	// ("professor", "assistant", "student"); it does not change reach.
	Role      string    `gorm:"size:40" json:"role,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// TableName keeps the table in the accounts namespace.
func (GroupMember) TableName() string { return "accounts_group_members" }

// migrateGroups creates the group tables.
func migrateGroups(tx *gorm.DB) error {
	if err := tx.Migrator().AutoMigrate(&Group{}, &GroupMember{}); err != nil {
		return err
	}
	// Reach looks a staff member's memberships up by (org, user) and
	// joins the group's other side by group.
	if err := tx.Exec("CREATE INDEX accounts_group_members_user ON accounts_group_members (org_id, user_id, side)").Error; err != nil {
		return err
	}
	return tx.Exec("CREATE INDEX accounts_group_members_group ON accounts_group_members (group_id, side)").Error
}

// dbOr returns tx (with ctx) or the service's database.
func (s *Service) dbOr(ctx context.Context, tx *gorm.DB) *gorm.DB {
	if tx == nil {
		tx = s.st.DB
	}
	return tx.WithContext(ctx)
}

// SaveGroup creates the group of kind about ref, or renames it when it
// exists, inside tx (the module's transaction; nil: on its own). The kind
// must have been declared.
func (s *Service) SaveGroup(ctx context.Context, tx *gorm.DB, orgID uint, kind, ref, name string) (*Group, error) {
	if _, ok := s.groupKind(kind); !ok {
		return nil, errs.InvalidField("kind", "this group kind is not declared")
	}
	ref, name = strings.TrimSpace(ref), strings.TrimSpace(name)
	switch {
	case ref == "" || utf8.RuneCountInString(ref) > 80:
		return nil, errs.InvalidField("ref", "a group's reference is 1 to 80 characters")
	case name == "" || utf8.RuneCountInString(name) > 200:
		return nil, errs.InvalidField("name", "a group's name is 1 to 200 characters")
	}
	db := store.Org(s.dbOr(ctx, tx), orgID)
	var g Group
	err := db.Where("kind = ? AND ref = ?", kind, ref).Take(&g).Error
	switch {
	case err == nil:
		if g.Name != name {
			g.Name = name
			err = db.Model(&g).Update("name", name).Error
		}
		return &g, err
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return nil, err
	}
	g = Group{Kind: kind, Ref: ref, Name: name, CreatedAt: s.now()}
	if err := db.Create(&g).Error; err != nil {
		return nil, err
	}
	return &g, nil
}

// GroupByRef returns the group of kind about ref.
func (s *Service) GroupByRef(ctx context.Context, tx *gorm.DB, orgID uint, kind, ref string) (*Group, error) {
	var g Group
	err := store.Org(s.dbOr(ctx, tx), orgID).Where("kind = ? AND ref = ?", kind, ref).Take(&g).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.NotFoundf("no %s group %q", kind, ref)
	}
	return &g, err
}

// GroupByID returns a group of the organisation.
func (s *Service) GroupByID(ctx context.Context, tx *gorm.DB, orgID, id uint) (*Group, error) {
	var g Group
	err := store.Org(s.dbOr(ctx, tx), orgID).Take(&g, id).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.NotFoundf("no group %d", id)
	}
	return &g, err
}

// DeleteGroup removes a group with its memberships: the reach it gave ends
// at once.
func (s *Service) DeleteGroup(ctx context.Context, tx *gorm.DB, orgID, groupID uint) error {
	db := store.Org(s.dbOr(ctx, tx), orgID)
	if err := db.Where("group_id = ?", groupID).Delete(&GroupMember{}).Error; err != nil {
		return err
	}
	return db.Where("id = ?", groupID).Delete(&Group{}).Error
}

// AddGroupMember puts user into the group on side with the module's role
// word, or updates side and role when they are already a member. Staff-side
// members must be staff or admins, customer-side members customers, of the
// group's organisation.
func (s *Service) AddGroupMember(ctx context.Context, tx *gorm.DB, orgID, groupID, userID uint, side Side, role string) error {
	role = strings.TrimSpace(role)
	if utf8.RuneCountInString(role) > 40 {
		return errs.InvalidField("role", "a member's role in a group is at most 40 characters")
	}
	db := store.Org(s.dbOr(ctx, tx), orgID)
	if _, err := s.GroupByID(ctx, tx, orgID, groupID); err != nil {
		return err
	}
	var u User
	if err := db.Take(&u, userID).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return errs.InvalidField("user_id", "no user with this ID in the organisation")
		}
		return err
	}
	switch side {
	case StaffSide:
		if u.Role != Staff && u.Role != Admin {
			return errs.InvalidField("side", "only staff and admins stand on a group's staff side")
		}
	case CustomerSide:
		if u.Role != Customer {
			return errs.InvalidField("side", "only customers stand on a group's customer side")
		}
	default:
		return errs.InvalidField("side", `a member's side is "staff" or "customer"`)
	}
	res := db.Model(&GroupMember{}).Where("group_id = ? AND user_id = ?", groupID, userID).
		Updates(map[string]any{"side": side, "role": role})
	if res.Error != nil || res.RowsAffected > 0 {
		return res.Error
	}
	return db.Create(&GroupMember{GroupID: groupID, UserID: userID, Side: side, Role: role, CreatedAt: s.now()}).Error
}

// RemoveGroupMember takes user out of the group; the reach the membership
// gave ends at once.
func (s *Service) RemoveGroupMember(ctx context.Context, tx *gorm.DB, orgID, groupID, userID uint) error {
	return store.Org(s.dbOr(ctx, tx), orgID).Where("group_id = ? AND user_id = ?", groupID, userID).Delete(&GroupMember{}).Error
}

// GroupMembers lists a group's members on side ("" for both), oldest first.
func (s *Service) GroupMembers(ctx context.Context, tx *gorm.DB, orgID, groupID uint, side Side) ([]GroupMember, error) {
	q := store.Org(s.dbOr(ctx, tx), orgID).Where("group_id = ?", groupID)
	if side != "" {
		q = q.Where("side = ?", side)
	}
	var out []GroupMember
	return out, q.Order("id").Find(&out).Error
}

// GroupsOf lists the groups of kind ("" for every kind) user belongs to on
// side ("" for both).
func (s *Service) GroupsOf(ctx context.Context, tx *gorm.DB, orgID, userID uint, kind string, side Side) ([]Group, error) {
	db := s.dbOr(ctx, tx)
	sub := db.Session(&gorm.Session{NewDB: true}).Table("accounts_group_members").Select("group_id").
		Where("org_id = ? AND user_id = ?", orgID, userID)
	if side != "" {
		sub = sub.Where("side = ?", side)
	}
	q := store.Org(db, orgID).Where("id IN (?)", sub)
	if kind != "" {
		q = q.Where("kind = ?", kind)
	}
	var out []Group
	return out, q.Order("id").Find(&out).Error
}

// GroupCustomers is a subquery of the customers group gives staffID: the
// group's customer-side members when staffID stands on its staff side,
// nothing otherwise. Use it as q.Where("owner_id IN (?)", sub) to list what
// a staff member sees of this group only (a professor's view of one
// course), whatever else they reach.
func (s *Service) GroupCustomers(db *gorm.DB, orgID, groupID, staffID uint) *gorm.DB {
	if db == nil {
		db = s.st.DB
	}
	return db.Session(&gorm.Session{NewDB: true}).Table("accounts_group_members AS gc").Select("gc.user_id").
		Joins("JOIN accounts_group_members gs ON gs.group_id = gc.group_id AND gs.org_id = gc.org_id").
		Where("gc.org_id = ? AND gc.group_id = ? AND gc.side = ? AND gs.user_id = ? AND gs.side = ?",
			orgID, groupID, CustomerSide, staffID, StaffSide)
}

// GroupReaches reports whether staffID reaches customerID through this
// group: staffID on its staff side and customerID on its customer side. A
// module asks it for data that belongs to one group (course B's attempts),
// so a professor of course A does not see them although they reach the
// same student through course A.
func (s *Service) GroupReaches(ctx context.Context, tx *gorm.DB, orgID, groupID, staffID, customerID uint) (bool, error) {
	var n int64
	err := s.GroupCustomers(s.dbOr(ctx, tx), orgID, groupID, staffID).Where("gc.user_id = ?", customerID).Count(&n).Error
	return n > 0, err
}
