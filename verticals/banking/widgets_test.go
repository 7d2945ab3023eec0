package banking_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/portaltest"
)

// The balances and report widgets read in one query each what the accounts
// and reports API list for the customer (balances, newest report): the
// same data, field for field.
func TestBankingWidgetsMatchTheAPI(t *testing.T) {
	ta, _ := newApp(t)
	ta.Demo(t)
	cust := portaltest.Bearer(ta.Login(t, "demo", "customer@demo.example"))
	var board struct {
		Widgets []struct {
			ID    string          `json:"id"`
			Data  json.RawMessage `json:"data"`
			Error string          `json:"error"`
		} `json:"widgets"`
	}
	ta.Do(t, "GET", "/api/v1/dashboard", nil, cust).JSON(t, &board)
	data := map[string]json.RawMessage{}
	for _, w := range board.Widgets {
		if w.Error != "" {
			t.Fatalf("widget %s failed", w.ID)
		}
		data[w.ID] = w.Data
	}
	var widget struct {
		Accounts []map[string]any `json:"accounts"`
	}
	var api struct {
		Accounts []map[string]any `json:"accounts"`
	}
	if err := json.Unmarshal(data["banking.balances"], &widget); err != nil {
		t.Fatal(err)
	}
	ta.Do(t, "GET", "/api/v1/banking/accounts", nil, cust).JSON(t, &api)
	w, a := mustJSON(t, widget.Accounts), mustJSON(t, api.Accounts)
	if len(api.Accounts) < 2 || w != a {
		t.Fatalf("balances widget:\n%s\nAPI:\n%s", w, a)
	}
	for _, acct := range api.Accounts {
		if acct["balance_minor"] == float64(0) {
			t.Fatalf("a demo account without a balance: %v", acct)
		}
	}
	var report struct {
		Report map[string]any `json:"report"`
	}
	var reports struct {
		Reports []map[string]any `json:"reports"`
	}
	if err := json.Unmarshal(data["banking.report"], &report); err != nil {
		t.Fatal(err)
	}
	ta.Do(t, "GET", "/api/v1/banking/reports", nil, cust).JSON(t, &reports)
	if len(reports.Reports) == 0 || mustJSON(t, report.Report) != mustJSON(t, reports.Reports[0]) {
		t.Fatalf("report widget %v, API %v", report.Report, reports.Reports)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDashboardShowsTheBanksBookingAtOnce: the dashboard is cached per
// person, and a batch the bank's integrator books for a customer (someone
// else's request) publishes banking.transactions_booked naming the
// customer, so the customer's next dashboard has the new balance.
func TestDashboardShowsTheBanksBookingAtOnce(t *testing.T) {
	ta, _ := newApp(t)
	b := newBank(t, ta)
	h, _, acct := b.customer(t, "cached@acme.example")
	balance := func() float64 {
		t.Helper()
		var board struct {
			Widgets []struct {
				ID   string `json:"id"`
				Data struct {
					Accounts []struct {
						ID      uint    `json:"id"`
						Balance float64 `json:"balance_minor"`
					} `json:"accounts"`
				} `json:"data"`
			} `json:"widgets"`
		}
		ta.Do(t, "GET", "/api/v1/dashboard", nil, h).JSON(t, &board)
		for _, w := range board.Widgets {
			if w.ID == "banking.balances" {
				for _, a := range w.Data.Accounts {
					if a.ID == acct {
						return a.Balance
					}
				}
			}
		}
		t.Fatal("no balances widget with the account")
		return 0
	}
	if got := balance(); got != 0 {
		t.Fatalf("opening balance %v", got)
	}
	// Past the cache's settle time after the account was opened (an event
	// about the customer), a load is kept: move the dashboard's clock.
	ta.Dashboard.SetClock(func() time.Time { return time.Now().UTC().Add(2 * time.Second) })
	if got := balance(); got != 0 {
		t.Fatalf("opening balance %v", got)
	}
	if r := b.book(t, item(acct, "c1", "2026-06-10", "STIPENDIO ACME", 123400)); r.Status != 200 {
		t.Fatalf("book: %d %s", r.Status, r.Body)
	}
	if got := balance(); got != 123400 {
		t.Fatalf("the dashboard still shows %v after the bank booked 1,234.00", got)
	}
	var n int64
	ta.App.Store.DB.Table("timeline_entries").Where("event = ?", "banking.transactions_booked").Count(&n)
	if n != 0 {
		t.Fatalf("a booking without a summary reached the timeline %d times", n)
	}
}
