package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/app/testdata/courses"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
)

// TestPolicyGroupsGuideExample runs the guide's courses module: a professor
// reaches their course's students in the module's area, not in another
// module's, not through another course, and no longer once a student drops.
func TestPolicyGroupsGuideExample(t *testing.T) {
	m := &courses.Module{}
	ta := portaltest.New(t, []module.Module{m})
	ctx := context.Background()
	org := ta.Org(t, "uni")
	prof := ta.Principal(t, ta.Login(t, "uni", ta.User(t, "uni", "prof@uni.example", accounts.Staff).Email))
	other := ta.Principal(t, ta.Login(t, "uni", ta.User(t, "uni", "other@uni.example", accounts.Staff).Email))
	ann := ta.User(t, "uni", "ann@uni.example", accounts.Customer)
	if err := m.Enrol(ctx, org.ID, "alg-1", "Algebra", prof.UserID, ann.ID); err != nil {
		t.Fatal(err)
	}
	if err := m.Enrol(ctx, org.ID, "geo-1", "Geometry", other.UserID, ann.ID); err != nil {
		t.Fatal(err)
	}
	if err := m.CanSeeProfile(ctx, prof, ann.ID); err != nil {
		t.Errorf("professor cannot see their student: %v", err)
	}
	if err := ta.Accounts.Reach("banking").CanRead(ctx, prof, org.ID, ann.ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("a course opens the student's banking: %v", err)
	}
	if ok, err := m.CanSeeAttempt(ctx, prof, "geo-1", ann.ID); err != nil || ok {
		t.Errorf("professor of Algebra sees Geometry attempts: %v %v", ok, err)
	}
	if ok, err := m.CanSeeAttempt(ctx, prof, "alg-1", ann.ID); err != nil || !ok {
		t.Errorf("professor of Algebra cannot see Algebra attempts: %v %v", ok, err)
	}
	if err := m.Drop(ctx, org.ID, "alg-1", ann.ID); err != nil {
		t.Fatal(err)
	}
	if err := m.CanSeeProfile(ctx, prof, ann.ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("after the drop the professor still reaches the student: %v", err)
	}
}

// badKind declares a group kind named for another module.
type badKind struct{}

func (badKind) Info() module.Info { return module.Info{ID: "badkind", Name: "Bad", Version: "0"} }
func (badKind) Init(h module.Host) error {
	h.GroupKind(accounts.GroupKind{ID: "courses.course"})
	h.GroupKind(accounts.GroupKind{ID: "team", Opens: []string{"Not An Area"}})
	return nil
}

// TestStartRefusesBadGroupKinds: a kind of another module's name, or with a
// malformed area, stops start-up naming the module and the kind.
func TestStartRefusesBadGroupKinds(t *testing.T) {
	_, err := app.New(context.Background(), app.Options{Config: portaltest.Config(t), Modules: []module.Module{badKind{}}})
	if err == nil {
		t.Fatal("start-up accepted a bad group kind")
	}
	for _, want := range []string{"module badkind: group kind courses.course must be named badkind.<name>", `badkind.team: area "Not An Area"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
