package banking_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/banking"
)

func countKind(t *testing.T, ta *portaltest.TestApp, kind string) map[uint]int {
	t.Helper()
	var rows []struct {
		UserID uint
		N      int
	}
	if err := store.AllOrgs(ta.Store.DB).Table("notify_notifications").Select("user_id, COUNT(*) AS n").Where("kind = ?", kind).Group("user_id").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[uint]int{}
	for _, r := range rows {
		out[r.UserID] = r.N
	}
	return out
}

// TestReportExactlyOnceAcrossInstancesAndARestart runs the report job from
// an instance that dies after its first chunk, then from two instances at
// once, then again: every customer has one stored report and one
// notification (with its PDF) for the month.
func TestReportExactlyOnceAcrossInstancesAndARestart(t *testing.T) {
	cfg := portaltest.Config(t)
	clock := func() time.Time { return fixedNow }
	ma, mb, mc := &banking.Module{Now: clock}, &banking.Module{Now: clock}, &banking.Module{Now: clock}
	a := portaltest.NewWithConfig(t, cfg, []module.Module{ma})
	_ = portaltest.NewWithConfig(t, cfg, []module.Module{mb})
	_ = portaltest.NewWithConfig(t, cfg, []module.Module{mc})
	b := newBank(t, a)
	const n = 13
	users := map[uint]bool{}
	for i := 0; i < n; i++ {
		_, uid, acct := b.customer(t, fmt.Sprintf("c%d@acme.example", i))
		users[uid] = true
		if i%4 != 0 { // every fourth customer had no activity: the short report
			if r := b.book(t, item(acct, "s", "2026-05-27", "STIPENDIO", 200000), item(acct, "g", "2026-05-10", "POS CONAD", -int64(3000+i))); r.Status != 200 {
				t.Fatal(r.Body)
			}
		}
	}
	banking.SetReportChunk(t, 3)
	var chunks atomic.Int32
	crash := errors.New("instance stopped")
	banking.SetAfterReportChunk(t, func() error {
		if chunks.Add(1) == 1 {
			return crash
		}
		return nil
	})
	runAt := time.Date(2026, 6, 1, 1, 5, 0, 0, time.UTC)
	// The first instance stops after its first chunk. With two workers a
	// second chunk may be in flight and commit as the instance stops, its
	// outcome unknown to the instance (a commit cut by the cancelled
	// context), so the counts below are not summed: what must hold is the
	// state — one report and one notification per customer.
	sent, err := ma.Service().MonthlyReports(context.Background(), runAt, nil)
	if !errors.Is(err, crash) || sent < 3 || sent >= n {
		t.Fatalf("first instance: sent %d, err %v; want its first chunk and a stop", sent, err)
	}
	var wg sync.WaitGroup
	var total atomic.Int32
	for _, m := range []*banking.Module{mb, mc} {
		wg.Add(1)
		go func(m *banking.Module) {
			defer wg.Done()
			k, err := m.Service().MonthlyReports(context.Background(), runAt, nil)
			if err != nil {
				t.Error(err)
			}
			total.Add(int32(k))
		}(m)
	}
	wg.Wait()
	if again, err := ma.Service().MonthlyReports(context.Background(), runAt.Add(time.Hour), nil); err != nil || again != 0 {
		t.Fatalf("a later run sent %d (%v)", again, err)
	}
	if got := int(total.Load()) + sent; got > n {
		t.Fatalf("the instances sent %d reports, more than the %d customers", got, n)
	}
	got := countKind(t, a, banking.KindMonthlyReport)
	if len(got) != n {
		t.Fatalf("%d customers notified, want %d", len(got), n)
	}
	for u, k := range got {
		if !users[u] || k != 1 {
			t.Errorf("user %d: %d report notifications", u, k)
		}
	}
	var reports, short, pdfs int64
	store.AllOrgs(a.Store.DB).Model(&banking.MonthlyReport{}).Where("month = ? AND data <> ''", "2026-05").Count(&reports)
	store.AllOrgs(a.Store.DB).Model(&banking.MonthlyReport{}).Where("month = ? AND short = ?", "2026-05", true).Count(&short)
	store.AllOrgs(a.Store.DB).Table("notify_attachments").Where("content_type = ?", "application/pdf").Count(&pdfs)
	if reports != n || short != 4 || pdfs != n {
		t.Fatalf("%d reports (%d short), %d PDFs; want %d (4 short) and %d", reports, short, pdfs, n, n)
	}
}

// TestReportFollowsTheCustomersTimeZone: at 01:05 UTC on 1 June a customer
// in New York is still in May; they are served once their June begins.
func TestReportFollowsTheCustomersTimeZone(t *testing.T) {
	ta, m := newApp(t)
	b := newBank(t, ta)
	_, rome, _ := b.customer(t, "rome@acme.example")
	_, ny, _ := b.customer(t, "ny@acme.example")
	store.AllOrgs(ta.Store.DB).Model(&accounts.User{}).Where("id = ?", ny).Update("time_zone", "America/New_York")
	store.AllOrgs(ta.Store.DB).Model(&accounts.User{}).Where("id = ?", rome).Update("time_zone", "Europe/Rome")
	ctx := context.Background()
	if n, err := m.Service().MonthlyReports(ctx, time.Date(2026, 6, 1, 1, 5, 0, 0, time.UTC), nil); err != nil || n != 1 {
		t.Fatalf("01:05 UTC: %d reports (%v), want Rome's only", n, err)
	}
	if n, err := m.Service().MonthlyReports(ctx, time.Date(2026, 6, 1, 5, 5, 0, 0, time.UTC), nil); err != nil || n != 1 {
		t.Fatalf("05:05 UTC: %d reports (%v), want New York's", n, err)
	}
	if n, _ := m.Service().MonthlyReports(ctx, time.Date(2026, 6, 5, 5, 5, 0, 0, time.UTC), nil); n != 0 {
		t.Fatalf("after the window: %d reports", n)
	}
	got := countKind(t, ta, banking.KindMonthlyReport)
	if got[rome] != 1 || got[ny] != 1 {
		t.Fatalf("notifications %v", got)
	}
}

// TestReportContentsAgainstAFixtureMonth checks a hand-worked May 2026:
// groceries 400.00 (April 300.00, March 200.00, February 100.00: average of
// the three months before 200.00, so +100% is unusual), a new 389.00 flight
// (unusual: new and over 100.00), salary 2,500.00, top merchants, the plan
// for June, and the e-mail's PDF.
func TestReportContentsAgainstAFixtureMonth(t *testing.T) {
	ta, m := newApp(t)
	b := newBank(t, ta)
	h, uid, acct := b.customer(t, "ann@acme.example")
	r := b.book(t,
		item(acct, "f1", "2026-02-10", "POS ESSELUNGA", -10000),
		item(acct, "m1", "2026-03-10", "POS ESSELUNGA", -20000),
		item(acct, "a1", "2026-04-10", "POS ESSELUNGA", -30000),
		item(acct, "y1", "2026-05-03", "POS ESSELUNGA", -25000),
		item(acct, "y2", "2026-05-20", "POS CONAD CITY", -15000),
		item(acct, "y3", "2026-05-18", "RYANAIR DUBLIN", -38900),
		item(acct, "y4", "2026-05-27", "STIPENDIO ACME", 250000),
		item(acct, "y5", "2026-05-05", "NETFLIX.COM", -1299),
		item(acct, "j1", "2026-06-02", "POS ESSELUNGA", -99999), // next month: not in May's report
	)
	if r.Status != 200 {
		t.Fatal(r.Body)
	}
	if res := ta.Do(t, "POST", "/api/v1/banking/goals", map[string]any{"name": "Bike", "target_minor": 60000, "deadline": "2026-12-15T00:00:00Z", "priority": 1}, h); res.Status != 201 {
		t.Fatal(res.Body)
	}
	if n, err := m.Service().MonthlyReports(context.Background(), time.Date(2026, 6, 1, 0, 30, 0, 0, time.UTC), nil); err != nil || n != 1 {
		t.Fatalf("%d reports: %v", n, err)
	}
	var list struct{ Reports []banking.MonthlyReport }
	ta.Do(t, "GET", "/api/v1/banking/reports", nil, h).JSON(t, &list)
	if len(list.Reports) != 1 || list.Reports[0].Month != "2026-05" {
		t.Fatalf("reports %+v", list.Reports)
	}
	var v banking.ReportView
	ta.Do(t, "GET", fmt.Sprintf("/api/v1/banking/reports/%d", list.Reports[0].ID), nil, h).JSON(t, &v)
	rep := v.Report
	if rep.Short || rep.Income.Minor != 250000 || rep.Spending.Minor != 25000+15000+38900+1299 || rep.SpendingLast.Minor != 30000 {
		t.Fatalf("totals: %+v", rep)
	}
	cats := map[banking.Category]banking.CategoryLine{}
	for _, c := range rep.ByCategory {
		cats[c.Category] = c
	}
	if g := cats[banking.CatGroceries]; g.ThisMonth.Minor != 40000 || g.LastMonth.Minor != 30000 || g.Avg3.Minor != 20000 {
		t.Fatalf("groceries %+v", g)
	}
	if rep.ByCategory[0].Category != banking.CatGroceries || rep.ByCategory[1].Category != banking.CatTravel {
		t.Fatalf("order %+v", rep.ByCategory)
	}
	if len(rep.Unusual) != 2 || rep.Unusual[0].Category != banking.CatGroceries || rep.Unusual[0].PercentAbove != 100 || rep.Unusual[1].Category != banking.CatTravel {
		t.Fatalf("unusual %+v", rep.Unusual)
	}
	if len(rep.TopMerchants) != 4 || rep.TopMerchants[0].Merchant != "RYANAIR DUBLIN" || rep.TopMerchants[1].Merchant != "ESSELUNGA" {
		t.Fatalf("merchants %+v", rep.TopMerchants)
	}
	// June's plan: income is a third of March–May credits (2,500.00 / 3 =
	// 833.33); the bike needs 600.00 over 6 months = 100.00 and gets it all
	// (the extra goes to the goal that still lacks it): 600.00.
	if rep.SavingsPlan == nil || rep.SavingsPlan.Available.Minor != 83333 || len(rep.Goals) != 1 || rep.Goals[0].Monthly.Minor != 60000 || rep.Goals[0].Status != "on_track" {
		t.Fatalf("plan %+v goals %+v", rep.SavingsPlan, rep.Goals)
	}
	// The e-mail's PDF.
	var att struct {
		Name    string
		Content []byte
	}
	store.AllOrgs(ta.Store.DB).Table("notify_attachments").Select("name, content").Limit(1).Scan(&att)
	for _, want := range []string{"%PDF", "Monthly report - May 2026", "RYANAIR DUBLIN", "389.00", "Groceries", "100% above your usual", "Bike", "Put aside"} {
		if !bytes.Contains(att.Content, []byte(want)) {
			t.Errorf("the PDF %s lacks %q", att.Name, want)
		}
	}
	var rec struct{ Data string }
	store.AllOrgs(ta.Store.DB).Table("notify_notifications").Select("data").Where("user_id = ? AND kind = ?", uid, banking.KindMonthlyReport).Scan(&rec)
	var data map[string]any
	_ = json.Unmarshal([]byte(rec.Data), &data)
	if data["month_it"] != "maggio 2026" || data["link"] != "/m/banking/reports/2026-05" {
		t.Fatalf("notification data %v", data)
	}
	if strings.Contains(string(att.Content), "99999") || strings.Contains(string(att.Content), "999.99") {
		t.Fatal("June's spending leaked into May's report")
	}
}
