package banking_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/banking"
)

func goalsOf(t *testing.T, ta *portaltest.TestApp, h map[string]string) []banking.SavingsGoal {
	t.Helper()
	res := ta.Do(t, "GET", "/api/v1/banking/goals", nil, h)
	if res.Status != 200 {
		t.Fatalf("goals: %d %s", res.Status, res.Body)
	}
	var out struct{ Goals []banking.SavingsGoal }
	res.JSON(t, &out)
	return out.Goals
}

func savingsCount(t *testing.T, ta *portaltest.TestApp, uid uint) int64 {
	t.Helper()
	var n int64
	store.AllOrgs(ta.Store.DB).Model(&banking.Account{}).Where("owner_id = ? AND kind = ?", uid, banking.KindSavings).Count(&n)
	return n
}

// A goal may be tied to one of the customer's own savings accounts, never
// to another customer's nor to a current account: 422 naming account_id.
// The API shows the account as account_id.
func TestGoalTiedToTheCustomersOwnSavingsAccount(t *testing.T) {
	ta, _ := newApp(t)
	b := newBank(t, ta)
	ann, _, annCur := b.customer(t, "ann@acme.example")
	bob, _, _ := b.customer(t, "bob@acme.example")
	annSav, bobSav := openSavings(t, ta, ann), openSavings(t, ta, bob)

	goal := func(acct uint) map[string]any {
		return map[string]any{"name": "Car", "target_minor": 500000, "deadline": "2027-06-30T00:00:00Z", "priority": 1, "account_id": acct}
	}
	res := ta.Do(t, "POST", "/api/v1/banking/goals", goal(annSav), ann)
	if res.Status != 201 || !strings.Contains(res.Body, fmt.Sprintf(`"account_id":%d`, annSav)) {
		t.Fatalf("own savings account: %d %s", res.Status, res.Body)
	}
	var g banking.SavingsGoal
	res.JSON(t, &g)
	for what, acct := range map[string]uint{"another customer's account": bobSav, "a current account": annCur, "no account": 999999} {
		res := ta.Do(t, "POST", "/api/v1/banking/goals", goal(acct), ann)
		if res.Status != 422 || !strings.Contains(res.Body, "account_id") {
			t.Errorf("%s: %d %s, want 422 naming account_id", what, res.Status, res.Body)
		}
		res = ta.Do(t, "PUT", fmt.Sprintf("/api/v1/banking/goals/%d", g.ID), goal(acct), ann)
		if res.Status != 422 || !strings.Contains(res.Body, "account_id") {
			t.Errorf("changing to %s: %d %s, want 422 naming account_id", what, res.Status, res.Body)
		}
	}
	gs := goalsOf(t, ta, ann)
	if len(gs) != 1 || gs[0].AccountID == nil || *gs[0].AccountID != annSav {
		t.Fatalf("ann's goals %+v, want one tied to %d", gs, annSav)
	}
	// A goal without an account has none in the API.
	res = ta.Do(t, "POST", "/api/v1/banking/goals", map[string]any{"name": "Bike", "target_minor": 50000, "deadline": "2027-01-31T00:00:00Z", "priority": 2}, ann)
	if res.Status != 201 || strings.Contains(res.Body, "account_id") {
		t.Fatalf("goal without an account: %d %s", res.Status, res.Body)
	}

	// The goals page offers ann's savings accounts and shows the tie; a
	// form naming bob's account is refused on the page, values kept.
	br := ta.Browser()
	br.SignIn(t, "acme", "ann@acme.example")
	expectPage(t, "goals page", br.Get(t, "/m/banking/goals"), 200, `id="f-account_id"`, fmt.Sprintf(`<option value="%d"`, annSav), "Saving into")
	r := br.Post(t, "/m/banking/goals", url.Values{"name": {"Sofa"}, "target": {"900"}, "deadline": {"2027-03-01"}, "priority": {"3"}, "account_id": {fmt.Sprint(bobSav)}})
	expectPage(t, "bob's account on ann's form", r, 422, "is not one of your savings accounts", `value="Sofa"`)
	r = br.Post(t, "/m/banking/goals", url.Values{"name": {"Sofa"}, "target": {"900"}, "deadline": {"2027-03-01"}, "priority": {"3"}, "account_id": {fmt.Sprint(annSav)}})
	if r.Status != 303 {
		t.Fatalf("goal on the page: %d %s", r.Status, lastLines(r.Body, 5))
	}
	if gs := goalsOf(t, ta, ann); len(gs) != 3 || gs[2].Name != "Sofa" || gs[2].AccountID == nil || *gs[2].AccountID != annSav {
		t.Fatalf("goals after the page's %+v", gs)
	}
}

// The opening form sets the goal with the account: one submission opens
// the account, moves the first deposit and sets the goal (named after the
// account, the deposit counted), and the confirmation names the goal. A
// bad goal field creates nothing: no account, no money moved, no goal;
// the page shows the field on its step with the values kept.
func TestOpenSavingsWithAGoalInOneTransaction(t *testing.T) {
	ta, _ := newApp(t)
	b := newBank(t, ta)
	_, uid, cur := b.customer(t, "ann@acme.example")
	b.book(t, item(cur, "in", "2026-06-01", "STIPENDIO", 100000))
	h := ta.CookieAuth(t, "acme", "ann@acme.example", accounts.Customer)
	br := ta.Browser()
	br.SignIn(t, "acme", "ann@acme.example")

	// No savings account, no goal yet: both pages say what to do next.
	expectPage(t, "home without savings", br.Get(t, "/m/banking/"), 200, "You have no savings account yet.", `class="button" href="/m/banking/savings/open"`)
	expectPage(t, "goals without any", br.Get(t, "/m/banking/goals"), 200, "You have no savings goals yet.", `class="button" href="/m/banking/savings/open"`)

	form := url.Values{"step": {"3"}, "purpose": {"holiday"}, "goal_target": {"1500"}, "goal_deadline": {"2026-06-01"},
		"from_account_id": {fmt.Sprint(cur)}, "first_deposit": {"250.00"}, "accept_terms": {"yes"}, "terms_version": {banking.TermsVersion}}
	// Leaving step 1 with a past date stops there.
	step1 := url.Values{"step": {"1"}, "next": {"2"}, "purpose": {"holiday"}, "goal_target": {"1500"}, "goal_deadline": {"2026-06-01"}}
	expectPage(t, "step 1 with a past date", br.Post(t, "/m/banking/savings/open", step1), 422, "Step 1 of 3", `id="e-goal_deadline"`)
	// The last step with a bad goal field (a form sent as is, skipping
	// the steps): nothing is created.
	r := br.Post(t, "/m/banking/savings/open", form)
	expectPage(t, "bad goal date", r, 422, "Step 1 of 3", `id="e-goal_deadline"`, "must be a date in the future", `value="1500"`, `value="2026-06-01"`, `value="250.00"`)
	form.Set("goal_target", "lots")
	expectPage(t, "bad goal amount", br.Post(t, "/m/banking/savings/open", form), 422, `id="e-goal_target"`, "is not an amount")
	if n := savingsCount(t, ta, uid); n != 0 {
		t.Fatalf("%d savings accounts after a refused goal", n)
	}
	if bal := balanceOf(t, ta, h, cur); bal != 100000 {
		t.Fatalf("the current account holds %d after a refused goal; nothing should have moved", bal)
	}
	if gs := goalsOf(t, ta, h); len(gs) != 0 {
		t.Fatalf("goals after a refused goal: %+v", gs)
	}

	// The same over the API: a goal field in error (here the one huma does
	// not check, a past date) is a 422 naming it, and nothing is created.
	res := ta.Do(t, "POST", "/api/v1/banking/savings", map[string]any{"accepted_terms": true, "terms_version": banking.TermsVersion,
		"goal": map[string]any{"target_minor": 150000, "deadline": "2026-01-01T00:00:00Z"}}, h)
	if res.Status != 422 || !strings.Contains(res.Body, "goal.deadline") {
		t.Fatalf("API with a past goal date: %d %s", res.Status, res.Body)
	}
	if n := savingsCount(t, ta, uid); n != 0 {
		t.Fatalf("%d savings accounts after the API refused the goal", n)
	}

	form.Set("goal_target", "1500")
	form.Set("goal_deadline", "2027-07-01")
	r = br.Post(t, "/m/banking/savings/open", form)
	if r.Status != 303 || !strings.Contains(r.Header.Get("Location"), "goal=") {
		t.Fatalf("open with a goal: %d %s %s", r.Status, r.Header.Get("Location"), lastLines(r.Body, 5))
	}
	var sav banking.Account
	store.AllOrgs(ta.Store.DB).Where("owner_id = ? AND kind = ?", uid, banking.KindSavings).First(&sav)
	gs := goalsOf(t, ta, h)
	if len(gs) != 1 || gs[0].AccountID == nil || *gs[0].AccountID != sav.ID || gs[0].Name != "Savings: holiday" || gs[0].Target != 150000 || gs[0].Saved != 25000 {
		t.Fatalf("goals %+v, want Savings: holiday (150000, 25000 saved) tied to %d", gs, sav.ID)
	}
	expectPage(t, "confirmation", br.Get(t, r.Header.Get("Location")), 200, "Your savings account is open.", "Your goal: Savings: holiday", "Saved so far")
	expectPage(t, "goals page", br.Get(t, "/m/banking/goals"), 200, "Savings: holiday", "Saving into")

	// Over the API the goal is optional and tied the same way.
	res = ta.Do(t, "POST", "/api/v1/banking/savings", map[string]any{"name": "Car fund", "accepted_terms": true, "terms_version": banking.TermsVersion,
		"goal": map[string]any{"target_minor": 800000, "deadline": "2028-01-01T00:00:00Z"}}, h)
	if res.Status != 201 {
		t.Fatalf("API with a goal: %d %s", res.Status, res.Body)
	}
	var car banking.AccountView
	res.JSON(t, &car)
	gs = goalsOf(t, ta, h)
	if len(gs) != 2 || gs[1].Name != "Car fund" || gs[1].AccountID == nil || *gs[1].AccountID != car.ID || gs[1].Priority != 2 {
		t.Fatalf("goals after the API's %+v", gs)
	}
}

// Migration 0003 adds the goal's account column to a table created before
// it (goals kept, with no account) and does nothing where 0001 already
// created it.
func TestGoalAccountMigrationOnAnOlderTable(t *testing.T) {
	ta, _ := newApp(t)
	b := newBank(t, ta)
	h, _, _ := b.customer(t, "ann@acme.example")
	if r := ta.Do(t, "POST", "/api/v1/banking/goals", map[string]any{"name": "Bike", "target_minor": 50000, "deadline": "2027-01-31T00:00:00Z", "priority": 1}, h); r.Status != 201 {
		t.Fatalf("goal: %d %s", r.Status, r.Body)
	}
	db := ta.Store.DB
	if err := db.Exec("ALTER TABLE banking_goals DROP COLUMN account_id").Error; err != nil {
		t.Fatalf("making the older table: %v", err)
	}
	for range 2 {
		if err := banking.GoalAccountMigration(db); err != nil {
			t.Fatalf("migration: %v", err)
		}
	}
	if !db.Migrator().HasColumn(&banking.SavingsGoal{}, "AccountID") {
		t.Fatal("no account_id column after the migration")
	}
	if gs := goalsOf(t, ta, h); len(gs) != 1 || gs[0].AccountID != nil {
		t.Fatalf("goals after the migration %+v", gs)
	}
}
