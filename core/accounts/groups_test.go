package accounts_test

import (
	"context"
	"slices"
	"testing"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// groupWorld is a school with two courses and a shop team:
//
//	course A: professor pa; students s1, s2
//	course B: professor pb; students s1, s3
//	no group: s4; staff none
//	shop team (opens every area): clerk; shopper s4
type groupWorld struct {
	ta                         *accounts.Service
	org                        *accounts.Org
	pa, pb, none, clerk, admin *accounts.Principal
	s1, s2, s3, s4, foreign    *accounts.User
	foreignAdmin               *accounts.Principal
	courseA, courseB, team     *accounts.Group
	principal                  func(email string) *accounts.Principal
	ids                        func(us ...*accounts.User) []uint
	visible                    func(r accounts.Reach, p *accounts.Principal) []uint
	mustReach, mustNotReach    func(area string, p *accounts.Principal, u *accounts.User)
}

func newGroupWorld(t *testing.T) *groupWorld {
	t.Helper()
	ta, _ := newApp(t)
	ctx := context.Background()
	for _, k := range []accounts.GroupKind{
		{ID: "school.course", Opens: []string{"messages"}, Label: "Course"},
		{ID: "shop.team", Opens: []string{accounts.AllAreas}, Label: "Shop"},
	} {
		if err := ta.Accounts.DeclareGroupKind(k); err != nil {
			t.Fatal(err)
		}
	}
	w := &groupWorld{ta: ta.Accounts, org: ta.Org(t, "school")}
	slug := w.org.Slug
	w.principal = func(email string) *accounts.Principal { return ta.Principal(t, ta.Login(t, slug, email)) }
	user := func(email string, role accounts.Role) *accounts.User { return ta.User(t, slug, email, role) }
	for _, e := range []string{"pa", "pb", "none", "clerk"} {
		user(e+"@school.example", accounts.Staff)
	}
	user("admin@school.example", accounts.Admin)
	w.s1, w.s2, w.s3, w.s4 = user("s1@school.example", accounts.Customer), user("s2@school.example", accounts.Customer),
		user("s3@school.example", accounts.Customer), user("s4@school.example", accounts.Customer)
	w.pa, w.pb, w.none, w.clerk, w.admin = w.principal("pa@school.example"), w.principal("pb@school.example"),
		w.principal("none@school.example"), w.principal("clerk@school.example"), w.principal("admin@school.example")
	w.foreign = ta.User(t, "elsewhere", "s9@elsewhere.example", accounts.Customer)
	w.foreignAdmin = ta.Principal(t, ta.Login(t, "elsewhere", ta.User(t, "elsewhere", "admin@elsewhere.example", accounts.Admin).Email))

	group := func(kind, ref string, staff *accounts.Principal, customers ...*accounts.User) *accounts.Group {
		g, err := w.ta.SaveGroup(ctx, nil, w.org.ID, kind, ref, "Group "+ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.ta.AddGroupMember(ctx, nil, w.org.ID, g.ID, staff.UserID, accounts.StaffSide, "professor"); err != nil {
			t.Fatal(err)
		}
		for _, c := range customers {
			if err := w.ta.AddGroupMember(ctx, nil, w.org.ID, g.ID, c.ID, accounts.CustomerSide, "student"); err != nil {
				t.Fatal(err)
			}
		}
		return g
	}
	w.courseA = group("school.course", "A", w.pa, w.s1, w.s2)
	w.courseB = group("school.course", "B", w.pb, w.s1, w.s3)
	w.team = group("shop.team", "till", w.clerk, w.s4)
	w.ids = func(us ...*accounts.User) []uint {
		out := []uint{}
		for _, u := range us {
			out = append(out, u.ID)
		}
		slices.Sort(out)
		return out
	}
	w.visible = func(r accounts.Reach, p *accounts.Principal) []uint {
		t.Helper()
		q, err := r.WhereVisible(ctx, p, store.Org(ta.Store.DB, w.org.ID).Model(&accounts.User{}).Where("role = ?", accounts.Customer), "id")
		if err != nil {
			t.Fatal(err)
		}
		out := []uint{}
		if err := q.Order("id").Pluck("id", &out).Error; err != nil {
			t.Fatal(err)
		}
		ids, all, err := r.VisibleCustomers(ctx, p)
		if err != nil || all {
			t.Fatalf("VisibleCustomers: all=%v err=%v", all, err)
		}
		slices.Sort(ids)
		if ids == nil {
			ids = []uint{}
		}
		if !slices.Equal(ids, out) {
			t.Fatalf("VisibleCustomers %v disagrees with WhereVisible %v", ids, out)
		}
		return out
	}
	w.mustReach = func(area string, p *accounts.Principal, u *accounts.User) {
		t.Helper()
		if err := w.ta.Reach(area).CanRead(ctx, p, w.org.ID, u.ID); err != nil {
			t.Errorf("%s should reach %s in area %q: %v", p.Email, u.Email, area, err)
		}
	}
	w.mustNotReach = func(area string, p *accounts.Principal, u *accounts.User) {
		t.Helper()
		if err := w.ta.Reach(area).CanRead(ctx, p, u.OrgID, u.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("%s must not reach %s in area %q: got %v, want not found", p.Email, u.Email, area, err)
		}
	}
	return w
}

// TestGroupStaffReachTheirGroupsCustomersOnly: a group's staff reach its
// customers, in the areas its kind opens, and nobody else.
func TestGroupStaffReachTheirGroupsCustomersOnly(t *testing.T) {
	w := newGroupWorld(t)
	ctx := context.Background()

	// Course A's professor reaches s1 and s2 in the school's own area and
	// the area the kind opens (messages), not s3 (course B) nor s4.
	for _, area := range []string{"school", "messages"} {
		w.mustReach(area, w.pa, w.s1)
		w.mustReach(area, w.pa, w.s2)
		w.mustNotReach(area, w.pa, w.s3)
		w.mustNotReach(area, w.pa, w.s4)
		if got, want := w.visible(w.ta.Reach(area), w.pa), w.ids(w.s1, w.s2); !slices.Equal(got, want) {
			t.Errorf("area %s: professor A sees %v, want %v", area, got, want)
		}
	}
	// A course does not open a student's bank account, devices or timeline.
	for _, area := range []string{"banking", "devices", "timeline", ""} {
		w.mustNotReach(area, w.pa, w.s1)
		if got := w.visible(w.ta.Reach(area), w.pa); len(got) != 0 {
			t.Errorf("area %q: professor A sees %v through a course, want nobody", area, got)
		}
	}
	// The shop team opens every area, like an assignment.
	for _, area := range []string{"shop", "banking", "devices", ""} {
		w.mustReach(area, w.clerk, w.s4)
		w.mustNotReach(area, w.clerk, w.s1)
	}
	// Staff in no group and with no assignment reach nobody; admins reach
	// everyone of their organisation and nobody of another.
	w.mustNotReach("school", w.none, w.s1)
	if got := w.visible(w.ta.Reach("school"), w.none); len(got) != 0 {
		t.Errorf("staff in no group see %v", got)
	}
	w.mustReach("school", w.admin, w.s3)
	w.mustNotReach("school", w.admin, w.foreign)
	w.mustNotReach("school", w.foreignAdmin, w.s1)
	// Customers reach nobody through a group, not even a fellow student.
	s1 := w.principal("s1@school.example")
	w.mustNotReach("school", s1, w.s2)
	w.mustReach("school", s1, w.s1)

	// Staff may write through a group only where the module lets staff write.
	if err := w.ta.Reach("school").CanWrite(ctx, w.pa, w.org.ID, w.s1.ID, false); !errs.Is(err, errs.Forbidden) {
		t.Errorf("read-only staff write: %v, want forbidden", err)
	}
	if err := w.ta.Reach("school").CanWrite(ctx, w.pa, w.org.ID, w.s1.ID, true); err != nil {
		t.Errorf("staff write where allowed: %v", err)
	}

	// The user directory shows whom a staff member looks after at all.
	users, _, err := w.ta.ListUsers(ctx, w.pa, accounts.UserFilter{}, accounts.Page{Size: 50})
	if err != nil {
		t.Fatal(err)
	}
	var got []uint
	for _, u := range users {
		got = append(got, u.ID)
	}
	slices.Sort(got)
	if want := w.ids(w.s1, w.s2); !slices.Equal(got, want) {
		t.Errorf("professor A's user list: %v, want %v", got, want)
	}
}

// TestThroughThisGroup: a module asks about one group, so a professor of
// course A does not see course B's part of a student both courses share.
func TestThroughThisGroup(t *testing.T) {
	w := newGroupWorld(t)
	ctx := context.Background()
	reaches := func(g *accounts.Group, p *accounts.Principal, u *accounts.User) bool {
		t.Helper()
		ok, err := w.ta.GroupReaches(ctx, nil, w.org.ID, g.ID, p.UserID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !reaches(w.courseA, w.pa, w.s1) || !reaches(w.courseB, w.pb, w.s1) {
		t.Error("each professor reaches s1 through their own course")
	}
	if reaches(w.courseB, w.pa, w.s1) {
		t.Error("professor A reaches s1 through course B")
	}
	if reaches(w.courseA, w.pa, w.s3) || reaches(w.courseA, w.s1Principal(t), w.s2) {
		t.Error("course A reaches someone outside it, or a student reaches a fellow student")
	}
	customers := func(g *accounts.Group, p *accounts.Principal) []uint {
		t.Helper()
		out := []uint{}
		q := store.Org(w.ta.Store().DB, w.org.ID).Model(&accounts.User{}).Where("id IN (?)", w.ta.GroupCustomers(nil, w.org.ID, g.ID, p.UserID))
		if err := q.Order("id").Pluck("id", &out).Error; err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got, want := customers(w.courseA, w.pa), w.ids(w.s1, w.s2); !slices.Equal(got, want) {
		t.Errorf("course A gives professor A %v, want %v", got, want)
	}
	if got := customers(w.courseB, w.pa); len(got) != 0 {
		t.Errorf("course B gives professor A %v, want nobody", got)
	}
	groups, err := w.ta.GroupsOf(ctx, nil, w.org.ID, w.s1.ID, "school.course", accounts.CustomerSide)
	if err != nil || len(groups) != 2 {
		t.Fatalf("s1's courses: %v %v", groups, err)
	}
}

func (w *groupWorld) s1Principal(t *testing.T) *accounts.Principal {
	t.Helper()
	return w.principal("s1@school.example")
}

// TestLeavingAGroupEndsReach: removing a membership or the group ends the
// reach it gave at once; an assignment is separate and stays.
func TestLeavingAGroupEndsReach(t *testing.T) {
	w := newGroupWorld(t)
	ctx := context.Background()
	w.mustReach("school", w.pa, w.s2)
	if err := w.ta.RemoveGroupMember(ctx, nil, w.org.ID, w.courseA.ID, w.s2.ID); err != nil {
		t.Fatal(err)
	}
	w.mustNotReach("school", w.pa, w.s2)
	w.mustReach("school", w.pa, w.s1)

	// The professor leaves course A.
	if err := w.ta.RemoveGroupMember(ctx, nil, w.org.ID, w.courseA.ID, w.pa.UserID); err != nil {
		t.Fatal(err)
	}
	w.mustNotReach("school", w.pa, w.s1)
	if got := w.visible(w.ta.Reach("school"), w.pa); len(got) != 0 {
		t.Errorf("after leaving, professor A sees %v", got)
	}

	// Deleting course B ends professor B's reach.
	w.mustReach("school", w.pb, w.s3)
	if err := w.ta.DeleteGroup(ctx, nil, w.org.ID, w.courseB.ID); err != nil {
		t.Fatal(err)
	}
	w.mustNotReach("school", w.pb, w.s3)
	if _, err := w.ta.GroupByID(ctx, nil, w.org.ID, w.courseB.ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("deleted group still found: %v", err)
	}

	// Inside a module's transaction the policy sees the membership it just
	// wrote (WithTx), and nothing is left when the transaction fails.
	failed := errs.Conflictf("the module's transaction fails")
	err := w.ta.Store().Tx(ctx, func(tx *gorm.DB) error {
		if err := w.ta.AddGroupMember(ctx, tx, w.org.ID, w.team.ID, w.pa.UserID, accounts.StaffSide, "cover"); err != nil {
			return err
		}
		if err := w.ta.Reach("school").WithTx(tx).CanRead(ctx, w.pa, w.org.ID, w.s4.ID); err != nil {
			t.Errorf("inside the transaction the new membership does not reach: %v", err)
		}
		return failed
	})
	if err != failed {
		t.Fatalf("transaction: %v", err)
	}
	w.mustNotReach("school", w.pa, w.s4)
}

// TestGroupMistakesAreRefused: bad kinds, sides and members get an error
// naming the problem, and nothing is written.
func TestGroupMistakesAreRefused(t *testing.T) {
	w := newGroupWorld(t)
	ctx := context.Background()
	for _, k := range []accounts.GroupKind{{ID: "nodot"}, {ID: "School.course"}, {ID: "school.course"}, {ID: "x.y", Opens: []string{"Bad Area"}}} {
		if err := w.ta.DeclareGroupKind(k); err == nil {
			t.Errorf("kind %+v accepted", k)
		}
	}
	if _, err := w.ta.SaveGroup(ctx, nil, w.org.ID, "school.club", "x", "X"); !fieldErr(err, "kind") {
		t.Errorf("undeclared kind: %v", err)
	}
	if _, err := w.ta.SaveGroup(ctx, nil, w.org.ID, "school.course", " ", "X"); !fieldErr(err, "ref") {
		t.Errorf("empty ref: %v", err)
	}
	cases := []struct {
		user  uint
		side  accounts.Side
		field string
	}{
		{w.s4.ID, accounts.StaffSide, "side"},
		{w.none.UserID, accounts.CustomerSide, "side"},
		{w.s4.ID, "teacher", "side"},
		{w.foreign.ID, accounts.CustomerSide, "user_id"},
	}
	for _, c := range cases {
		if err := w.ta.AddGroupMember(ctx, nil, w.org.ID, w.courseA.ID, c.user, c.side, ""); !fieldErr(err, c.field) {
			t.Errorf("member %d on side %q: %v, want an error on %s", c.user, c.side, err, c.field)
		}
	}
	members, err := w.ta.GroupMembers(ctx, nil, w.org.ID, w.courseA.ID, "")
	if err != nil || len(members) != 3 {
		t.Fatalf("course A has %d members (%v), want 3", len(members), err)
	}
	// A group of another organisation cannot be joined or found.
	if err := w.ta.AddGroupMember(ctx, nil, w.foreign.OrgID, w.courseA.ID, w.foreign.ID, accounts.CustomerSide, ""); !errs.Is(err, errs.NotFound) {
		t.Errorf("joining another organisation's group: %v", err)
	}
	// Saving again renames and keeps the members.
	g, err := w.ta.SaveGroup(ctx, nil, w.org.ID, "school.course", "A", "Algebra")
	if err != nil || g.ID != w.courseA.ID || g.Name != "Algebra" {
		t.Fatalf("rename: %+v %v", g, err)
	}
	w.mustReach("school", w.pa, w.s1)
}

func fieldErr(err error, field string) bool {
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid {
		return false
	}
	for _, f := range e.Fields {
		if f.Field == field {
			return true
		}
	}
	return false
}
