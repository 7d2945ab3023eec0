package banking

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/store"
)

// demo gives the demo customer a current account with 12 months of
// realistic transactions (salary, rent, utilities, groceries, eating out,
// fuel, subscriptions, shopping), a savings account, recurring bills
// detected from that history, budgets, two goals, and last month's report.
// Idempotent.
func (s *Service) demo(ctx context.Context, d *module.DemoContext) error {
	org, owner := d.Orgs["demo"], d.Users["customer@demo.example"]
	if org == 0 || owner == 0 {
		return nil
	}
	tx := d.Tx.WithContext(ctx)
	db := store.Org(tx, org)
	var n int64
	if err := db.Model(&Account{}).Where("owner_id = ?", owner).Count(&n).Error; err != nil || n > 0 {
		return err
	}
	cur, err := s.OpenAccount(ctx, tx, org, NewAccount{OwnerID: owner, Kind: KindCurrent, Name: "Conto corrente"})
	if err != nil {
		return err
	}
	now := s.now()
	terms := now.AddDate(0, -6, 0)
	sav, err := s.OpenAccount(ctx, tx, org, NewAccount{OwnerID: owner, Kind: KindSavings, Name: "Savings: holiday", TermsVersion: TermsVersion, TermsAt: &terms, TermsIP: "192.0.2.10"})
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(8, 2026))
	rules, err := rulesFor(tx, org, owner)
	if err != nil {
		return err
	}
	var rows []Entry
	seq := 0
	add := func(on time.Time, desc string, mcc int, amount int64) {
		seq++
		e := Entry{AccountID: cur.ID, OwnerID: owner, ExternalID: fmt.Sprintf("demo-%05d", seq), BookedOn: day(on), Description: desc, MCC: mcc, Amount: amount, Currency: "EUR"}
		categorise(&e, rules)
		rows = append(rows, e)
	}
	start := monthStart(now).AddDate(-1, 0, 0)
	groceries := []string{"ESSELUNGA MILANO", "CONAD CITY", "CARREFOUR EXPRESS", "LIDL"}
	eating := []string{"PIZZERIA DA MARIO", "BAR CENTRALE", "DELIVEROO", "RISTORANTE IL PORTO"}
	for m := start; !m.After(now); m = m.AddDate(0, 1, 0) {
		in := func(d int) time.Time { return m.AddDate(0, 0, d-1) }
		past := func(t time.Time) bool { return !t.After(now) }
		if t := in(27); past(t) {
			add(t, "STIPENDIO ACME SPA", 0, 245000)
		}
		if t := in(1); past(t) {
			add(t, "AFFITTO VIA ROMA 12", 0, -85000)
		}
		if t := in(12); past(t) {
			add(t, "SDD ENEL ENERGIA", 0, -(5800 + int64(rng.IntN(2400))))
		}
		if t := in(15); past(t) {
			add(t, "SDD TIM MOBILE", 0, -1999)
		}
		if t := in(5); past(t) {
			add(t, "NETFLIX.COM", 4899, -1299)
		}
		if t := in(20); past(t) {
			add(t, "ASSICURAZIONE UNIPOL AUTO", 0, -4200)
		}
		for w := 0; w < 4; w++ {
			if t := in(3 + 7*w); past(t) {
				add(t, "POS "+groceries[rng.IntN(len(groceries))], 5411, -(4500 + int64(rng.IntN(5000))))
			}
		}
		for k := 0; k < 3+rng.IntN(4); k++ {
			if t := in(2 + rng.IntN(26)); past(t) {
				add(t, "POS "+eating[rng.IntN(len(eating))], 5812, -(1200 + int64(rng.IntN(4500))))
			}
		}
		for k := 0; k < 2; k++ {
			if t := in(6 + 12*k); past(t) {
				add(t, "POS ENI STATION", 5541, -(5000 + int64(rng.IntN(2500))))
			}
		}
		if t := in(9 + rng.IntN(15)); past(t) && rng.IntN(3) > 0 {
			add(t, "AMAZON EU SARL", 5942, -(1500 + int64(rng.IntN(9000))))
		}
		if t := in(18); past(t) && m.Month() == now.AddDate(0, -1, 0).Month() {
			add(t, "RYANAIR BOOKING", 4511, -38900) // last month's unusual spending
		}
	}
	if _, err := s.insertEntries(tx, org, rows); err != nil {
		return err
	}
	// A first deposit into savings, six months ago.
	if _, err := s.Move(ctx, tx, org, cur, sav, 150000, "demo:first-deposit", "First deposit", terms); err != nil {
		return err
	}
	var txns []Txn
	for _, e := range rows {
		txns = append(txns, Txn{Date: e.BookedOn, Merchant: e.Merchant, Amount: moneyOf(e)})
	}
	for _, b := range DetectRecurring(txns) {
		if err := db.Create(&BankBill{OwnerID: owner, Name: b.Merchant, Amount: b.Amount.Minor, Currency: "EUR", Every: b.Every, NextDue: day(b.NextDue), Detected: true}).Error; err != nil {
			return err
		}
	}
	for _, b := range []Budget{{Category: CatGroceries, Amount: 30000}, {Category: CatRestaurants, Amount: 12000}, {Category: CatShopping, Amount: 8000}, {Category: CatFuel, Amount: 15000}} {
		b.OwnerID, b.Currency, b.AlertPct = owner, "EUR", 80
		if err := db.Create(&b).Error; err != nil {
			return err
		}
	}
	for _, g := range []SavingsGoal{
		{Name: "Summer holiday", Target: 250000, Saved: 100000, Deadline: monthStart(now).AddDate(0, 7, 0), Priority: 1, AccountID: &sav.ID},
		{Name: "Emergency fund", Target: 600000, Saved: 50000, Deadline: monthStart(now).AddDate(2, 0, 0), Priority: 2},
	} {
		g.OwnerID, g.Currency = owner, "EUR"
		if err := db.Create(&g).Error; err != nil {
			return err
		}
	}
	var u struct {
		Name, Locale, TimeZone string
	}
	if err := tx.Table("accounts_users").Select("name, locale, time_zone").Where("id = ?", owner).Scan(&u).Error; err != nil {
		return err
	}
	if u.Locale == "" {
		u.Locale = "en"
	}
	_, err = s.reportChunk(ctx, tx, org, monthStart(now).AddDate(0, -1, 0), []recipient{{ID: owner, Name: u.Name, Locale: u.Locale, TimeZone: u.TimeZone}})
	return err
}
