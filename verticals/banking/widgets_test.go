package banking_test

import (
	"encoding/json"
	"testing"

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
