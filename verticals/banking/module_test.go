package banking_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/banking"
)

// fixedNow is the tests' clock: mid-June 2026, so fixtures never depend on
// today's date.
var fixedNow = time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)

func newApp(t *testing.T) (*portaltest.TestApp, *banking.Module) {
	t.Helper()
	m := &banking.Module{Now: func() time.Time { return fixedNow }}
	return portaltest.New(t, []module.Module{m}), m
}

// bank is an organisation with an integrator token and an admin.
type bank struct {
	ta    *portaltest.TestApp
	admin map[string]string
}

func newBank(t *testing.T, ta *portaltest.TestApp) *bank {
	return &bank{ta: ta, admin: ta.As(t, "acme", "admin@acme.example", accounts.Admin)}
}

// customer signs up a customer with a current account and returns their
// headers, user ID and account ID.
func (b *bank) customer(t *testing.T, email string) (map[string]string, uint, uint) {
	t.Helper()
	h := b.ta.As(t, "acme", email, accounts.Customer)
	uid := b.ta.Principal(t, h["Authorization"][7:]).UserID
	res := b.ta.Do(t, "POST", "/api/v1/banking/accounts", map[string]any{"owner_id": uid, "kind": "current"}, b.admin)
	if res.Status != 201 {
		t.Fatalf("open account: %d %s", res.Status, res.Body)
	}
	var a banking.AccountView
	res.JSON(t, &a)
	if msg := banking.ValidateIBAN(a.IBAN); msg != "" {
		t.Fatalf("account IBAN %s: %s", a.IBAN, msg)
	}
	return h, uid, a.ID
}

type txn = map[string]any

func (b *bank) book(t *testing.T, items ...txn) *portaltest.Response {
	t.Helper()
	return b.ta.Do(t, "POST", "/api/v1/banking/transactions/batch", map[string]any{"transactions": items}, b.admin)
}

func item(acct uint, ext string, on string, desc string, minor int64) txn {
	return txn{"account_id": acct, "external_id": ext, "booked_on": on + "T00:00:00Z", "description": desc, "amount_minor": minor, "currency": "EUR"}
}

func balanceOf(t *testing.T, ta *portaltest.TestApp, h map[string]string, acct uint) int64 {
	t.Helper()
	var a banking.AccountView
	res := ta.Do(t, "GET", fmt.Sprintf("/api/v1/banking/accounts/%d", acct), nil, h)
	if res.Status != 200 {
		t.Fatalf("account: %d %s", res.Status, res.Body)
	}
	res.JSON(t, &a)
	return a.Balance
}

func TestBankingAuthorizationMatrix(t *testing.T) {
	ta, _ := newApp(t)
	portaltest.AuthorizationMatrix(t, ta)
}

func TestBatchIsAllOrNothingAndIdempotent(t *testing.T) {
	ta, _ := newApp(t)
	b := newBank(t, ta)
	h, _, acct := b.customer(t, "ann@acme.example")
	_, _, other := b.customer(t, "bob@acme.example")

	batch := []txn{item(acct, "t1", "2026-06-01", "STIPENDIO ACME", 250000), item(acct, "t2", "2026-06-02", "POS ESSELUNGA MILANO", -4520),
		item(other, "t3", "2026-06-02", "NETFLIX.COM", -1299)}
	res := b.book(t, batch...)
	if res.Status != 200 || !strings.Contains(res.Body, `"created":3`) {
		t.Fatalf("first batch: %d %s", res.Status, res.Body)
	}
	res = b.book(t, batch...)
	if res.Status != 200 || !strings.Contains(res.Body, `"created":0`) || !strings.Contains(res.Body, `"duplicates":3`) {
		t.Fatalf("replayed batch: %d %s", res.Status, res.Body)
	}
	if got := balanceOf(t, ta, h, acct); got != 250000-4520 {
		t.Fatalf("balance %d after a replay, want %d", got, 250000-4520)
	}
	// One bad item among good ones: 422 naming each bad item, nothing written.
	bad := b.book(t, item(acct, "t4", "2026-06-03", "CONAD", -1000), item(acct, "t5", "2026-06-03", "", 0),
		txn{"account_id": acct, "external_id": "t6", "booked_on": "2026-06-03T00:00:00Z", "description": "X", "amount_minor": 5, "currency": "USD"},
		item(acct, "t4", "2026-06-03", "CONAD again", -1000), item(999999, "t7", "2026-06-03", "NOPE", -1))
	for _, want := range []string{`transactions[1].description`, `transactions[1].amount_minor`, `transactions[2].currency`, `transactions[3].external_id`, `transactions[4].account_id`, "nothing was booked"} {
		if bad.Status != 422 || !strings.Contains(bad.Body, want) {
			t.Fatalf("bad batch lacks %q: %d %s", want, bad.Status, bad.Body)
		}
	}
	if strings.Contains(bad.Body, "transactions[0]") {
		t.Fatalf("a good item was reported: %s", bad.Body)
	}
	var n int64
	store.AllOrgs(ta.Store.DB).Model(&banking.Entry{}).Where("external_id = ?", "t4").Count(&n)
	if n != 0 {
		t.Fatal("a refused batch wrote a transaction")
	}
	// Categorised by the shipped rules.
	var e banking.Entry
	store.AllOrgs(ta.Store.DB).Where("external_id = ?", "t2").First(&e)
	if e.Category != banking.CatGroceries || e.Merchant != "ESSELUNGA MILANO" {
		t.Fatalf("categorised as %q (%q)", e.Category, e.Merchant)
	}
	// Customers cannot push batches.
	if r := ta.Do(t, "POST", "/api/v1/banking/transactions/batch", map[string]any{"transactions": batch}, h); r.Status != 403 {
		t.Fatalf("customer batch: %d", r.Status)
	}
}
