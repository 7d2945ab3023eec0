package banking_test

import (
	"fmt"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/banking"
)

func expectPage(t *testing.T, what string, r *portaltest.Response, status int, wants ...string) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s: status %d, want %d\n%s", what, r.Status, status, lastLines(r.Body, 5))
	}
	for _, w := range wants {
		if !strings.Contains(r.Body, w) {
			t.Errorf("%s: the page lacks %q", what, w)
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func TestDemoPagesInEnglish(t *testing.T) {
	ta, _ := newApp(t)
	ta.Demo(t)
	b := ta.Browser()
	b.SignIn(t, "demo", "customer@demo.example")
	expectPage(t, "home", b.Get(t, "/m/banking/"), 200, "My accounts", "IT", "AFFITTO VIA ROMA", "Upcoming payments")
	expectPage(t, "transactions", b.Get(t, "/m/banking/transactions?q=esselunga"), 200, "ESSELUNGA", "Correct")
	expectPage(t, "bills", b.Get(t, "/m/banking/bills"), 200, "Recurring bills", "TIM MOBILE", "detected")
	expectPage(t, "budgets", b.Get(t, "/m/banking/budgets"), 200, "<svg", "<strong>Groceries</strong>")
	expectPage(t, "goals", b.Get(t, "/m/banking/goals"), 200, "Summer holiday", "Emergency fund", "Accept the plan", "Projected completion")
	expectPage(t, "reports", b.Get(t, "/m/banking/reports"), 200, "May 2026")
	expectPage(t, "report", b.Get(t, "/m/banking/reports/2026-05"), 200, "Spending by category", "RYANAIR", "Unusual spending", "<svg")
	pdf := b.Get(t, "/m/banking/reports/2026-05/pdf")
	if pdf.Status != 200 || !strings.HasPrefix(pdf.Body, "%PDF") {
		t.Fatalf("PDF: %d %.40q", pdf.Status, pdf.Body)
	}
	if cc := pdf.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the report PDF is cacheable: Cache-Control %q, want no-store (issue 19, item 8)", cc)
	}
	expectPage(t, "savings", b.Get(t, "/m/banking/savings/open"), 200, `id="savings-step-1"`, `data-draft="banking.savings"`)
	expectPage(t, "dashboard", b.Get(t, "/"), 200, "My accounts", "Savings goals", "Latest monthly report")
	// Another customer sees none of it.
	other := ta.Browser()
	other.SignIn(t, "demo", "customer2@demo.example")
	expectPage(t, "another customer's report", other.Get(t, "/m/banking/reports/2026-05"), 404)
	// The advisor sees the customer's goals, plan and reports.
	staff := ta.Browser()
	staff.SignIn(t, "demo", "staff@demo.example")
	adv := staff.Get(t, "/m/banking/advisor")
	expectPage(t, "advisor", adv, 200, "Banking customers")
	var cust accounts.User
	store.AllOrgs(ta.Store.DB).Where("email = ?", "customer@demo.example").First(&cust)
	expectPage(t, "advisor's customer", staff.Get(t, fmt.Sprintf("/m/banking/advisor/%d", cust.ID)), 200, "Summer holiday", "Proposed plan", "2026-05")
	expectPage(t, "advisor reads the report", staff.Get(t, fmt.Sprintf("/m/banking/reports/2026-05?customer=%d", cust.ID)), 200, "Top merchants")
	var g banking.SavingsGoal
	store.AllOrgs(ta.Store.DB).Where("owner_id = ? AND name = ?", cust.ID, "Summer holiday").First(&g)
	r := staff.Post(t, fmt.Sprintf("/m/banking/goals/%d/message", g.ID), url.Values{"body": {"You are ahead on this goal, well done."}})
	if r.Status != 303 {
		t.Fatalf("advisor message: %d %s", r.Status, lastLines(r.Body, 5))
	}
	var n int64
	store.AllOrgs(ta.Store.DB).Table("messages_conversations").Where("customer_id = ? AND module = ? AND subject_type = ?", cust.ID, "banking", "goal").Count(&n)
	if n != 1 {
		t.Fatalf("%d conversations about the goal", n)
	}
}

type untranslated struct {
	mu   sync.Mutex
	keys map[string]bool
}

func TestPagesInItalian(t *testing.T) {
	ta, _ := newApp(t)
	ta.Demo(t)
	u := &untranslated{keys: map[string]bool{}}
	ta.Web.Catalog().OnMissing(func(_, key string) {
		u.mu.Lock()
		u.keys[key] = true
		u.mu.Unlock()
	})
	store.AllOrgs(ta.Store.DB).Model(&accounts.User{}).Where("email IN ?", []string{"customer@demo.example", "staff@demo.example"}).Update("locale", "it")
	b := ta.Browser()
	b.SignIn(t, "demo", "customer@demo.example")
	expectPage(t, "home", b.Get(t, "/m/banking/"), 200, "I miei conti", "Prossimi pagamenti", "Saldo")
	expectPage(t, "transactions", b.Get(t, "/m/banking/transactions"), 200, "Movimenti", "Spesa")
	expectPage(t, "bills", b.Get(t, "/m/banking/bills"), 200, "Bollette ricorrenti", "ogni 3")
	expectPage(t, "budgets", b.Get(t, "/m/banking/budgets"), 200, "Imposta un budget")
	expectPage(t, "goals", b.Get(t, "/m/banking/goals"), 200, "Il tuo piano per questo mese", "Accetta il piano")
	expectPage(t, "reports", b.Get(t, "/m/banking/reports"), 200, "maggio 2026")
	expectPage(t, "report", b.Get(t, "/m/banking/reports/2026-05"), 200, "Spese per categoria", "Spese insolite", "Esercenti principali")
	expectPage(t, "savings", b.Get(t, "/m/banking/savings/open"), 200, "Apri un conto deposito", "Passo 1 di 3")
	// A form error in Italian, with the field named.
	r := b.Post(t, "/m/banking/goals", url.Values{"name": {"Auto"}, "target": {"abc"}, "deadline": {"2027-01-01"}, "priority": {"1"}})
	expectPage(t, "goal error", r, 422, "non è un importo")
	staff := ta.Browser()
	staff.SignIn(t, "demo", "staff@demo.example")
	expectPage(t, "advisor", staff.Get(t, "/m/banking/advisor"), 200, "Clienti della banca", "Regole di categorizzazione")
	u.mu.Lock()
	defer u.mu.Unlock()
	var keys []string
	for k := range u.keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Errorf("a page showed %q untranslated", k)
	}
}

// TestAdvisorListIsPaged: the advisor page lists customers 100 at a time
// by name, with next and previous links, so nobody is out of reach.
func TestAdvisorListIsPaged(t *testing.T) {
	ta, _ := newApp(t)
	b := newBank(t, ta)
	for i := 0; i < 101; i++ {
		b.customer(t, fmt.Sprintf("c%03d@acme.example", i))
	}
	ta.User(t, "acme", "admin@acme.example", accounts.Admin)
	adm := ta.Browser()
	adm.SignIn(t, "acme", "admin@acme.example")
	first := adm.Get(t, "/m/banking/advisor")
	if first.Status != 200 || strings.Count(first.Body, `href="/m/banking/advisor/`) != 100 ||
		!strings.Contains(first.Body, `href="/m/banking/advisor?page=1"`) || strings.Contains(first.Body, `rel="prev"`) {
		t.Fatalf("first page: %d, %d customers", first.Status, strings.Count(first.Body, `href="/m/banking/advisor/`))
	}
	second := adm.Get(t, "/m/banking/advisor?page=1")
	if n := strings.Count(second.Body, `href="/m/banking/advisor/`); n != 1 || !strings.Contains(second.Body, `href="/m/banking/advisor?page=0"`) || strings.Contains(second.Body, `rel="next"`) {
		t.Fatalf("second page: %d customers", n)
	}
	if bad := adm.Get(t, "/m/banking/advisor?page=-3"); bad.Status != 200 || strings.Count(bad.Body, `href="/m/banking/advisor/`) != 100 {
		t.Fatalf("a negative page: %d", bad.Status)
	}
}
