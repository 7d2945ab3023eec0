package bookshop

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/store"
)

// catalogue is the demo organisation's books.
var catalogue = []Book{
	{Title: "The Name of the Rose", Author: "Umberto Eco", Genre: "crime", PriceMinor: 1400},
	{Title: "Foucault's Pendulum", Author: "Umberto Eco", Genre: "classics", PriceMinor: 1600},
	{Title: "The Shape of Water", Author: "Andrea Camilleri", Genre: "crime", PriceMinor: 1100},
	{Title: "The Snack Thief", Author: "Andrea Camilleri", Genre: "crime", PriceMinor: 1150},
	{Title: "The Murder at the Vicarage", Author: "Agatha Christie", Genre: "crime", PriceMinor: 990},
	{Title: "And Then There Were None", Author: "Agatha Christie", Genre: "crime", PriceMinor: 990},
	{Title: "The Hobbit", Author: "J. R. R. Tolkien", Genre: "fantasy", PriceMinor: 1250},
	{Title: "The Fellowship of the Ring", Author: "J. R. R. Tolkien", Genre: "fantasy", PriceMinor: 1800},
	{Title: "A Wizard of Earthsea", Author: "Ursula K. Le Guin", Genre: "fantasy", PriceMinor: 1090},
	{Title: "The Betrothed", Author: "Alessandro Manzoni", Genre: "classics", PriceMinor: 900},
	{Title: "The Leopard", Author: "Giuseppe Tomasi di Lampedusa", Genre: "classics", PriceMinor: 1200},
	{Title: "Seven Brief Lessons on Physics", Author: "Carlo Rovelli", Genre: "science", PriceMinor: 1000},
	{Title: "The Order of Time", Author: "Carlo Rovelli", Genre: "science", PriceMinor: 1500},
	{Title: "SPQR", Author: "Mary Beard", Genre: "history", PriceMinor: 1900},
	{Title: "The Adventures of Pinocchio", Author: "Carlo Collodi", Genre: "children", PriceMinor: 800},
}

// demo fills the demo organisation once: the catalogue, two shops (the
// demo staff member on the Milano till), three orders of the demo
// customer and two of the second, reviews, two reading groups, three
// events and a reservation ready to collect. It does nothing when the
// catalogue is already there.
func (m *Module) demo(ctx context.Context, d *module.DemoContext) error {
	org := d.Orgs["demo"]
	cust, cust2, staff := d.Users["customer@demo.example"], d.Users["customer2@demo.example"], d.Users["staff@demo.example"]
	if org == 0 || cust == 0 || cust2 == 0 || staff == 0 {
		return nil
	}
	tx := d.Tx.WithContext(ctx)
	db := store.Org(tx, org)
	var n int64
	if err := db.Model(&Book{}).Count(&n).Error; err != nil || n > 0 {
		return err
	}
	books := make([]Book, len(catalogue))
	copy(books, catalogue)
	for i := range books {
		books[i].Currency = "EUR"
	}
	if err := db.Create(&books).Error; err != nil {
		return err
	}
	byTitle := map[string]uint{}
	for _, b := range books {
		byTitle[b.Title] = b.ID
	}
	milano, err := m.CreateShop(ctx, tx, org, "Milano Duomo", "Milano")
	if err != nil {
		return err
	}
	torino, err := m.CreateShop(ctx, tx, org, "Torino Porta Nuova", "Torino")
	if err != nil {
		return err
	}
	if err := m.AddTillStaff(ctx, tx, org, milano.ID, staff); err != nil {
		return err
	}
	now := m.now().Truncate(time.Hour)
	order := func(who uint, daysAgo int, titles ...string) error {
		o := Order{CustomerID: who, PlacedAt: now.AddDate(0, 0, -daysAgo), Currency: "EUR"}
		for _, t := range titles {
			for _, b := range books {
				if b.Title == t {
					o.Lines = append(o.Lines, OrderLine{CustomerID: who, BookID: b.ID, Quantity: 1, PriceMinor: b.PriceMinor})
					o.TotalMinor += b.PriceMinor
				}
			}
		}
		if err := db.Create(&o).Error; err != nil {
			return err
		}
		for i := range o.Lines {
			o.Lines[i].OrderID = o.ID
		}
		return db.Create(&o.Lines).Error
	}
	for _, o := range []struct {
		who    uint
		days   int
		titles []string
	}{
		{cust, 120, []string{"The Name of the Rose", "The Hobbit"}},
		{cust, 45, []string{"The Shape of Water"}},
		{cust, 10, []string{"Seven Brief Lessons on Physics"}},
		{cust2, 60, []string{"The Shape of Water", "The Murder at the Vicarage"}},
		{cust2, 20, []string{"The Order of Time", "SPQR"}},
	} {
		if err := order(o.who, o.days, o.titles...); err != nil {
			return err
		}
	}
	reviews := []Review{
		{CustomerID: cust, BookID: byTitle["The Name of the Rose"], Stars: 5, Text: "A medieval mystery I could not put down."},
		{CustomerID: cust2, BookID: byTitle["The Name of the Rose"], Stars: 4, Text: "Dense in places, but worth every page."},
		{CustomerID: cust2, BookID: byTitle["The Shape of Water"], Stars: 5, Text: "Montalbano at his best."},
	}
	for i := range reviews {
		reviews[i].UpdatedAt = now
	}
	if err := db.Create(&reviews).Error; err != nil {
		return err
	}
	if err := db.Create(&Favourite{CustomerID: cust, BookID: byTitle["The Name of the Rose"], CreatedAt: now}).Error; err != nil {
		return err
	}
	crime := Group{Name: "Crime fiction club", Description: "Whodunits, old and new: one book a month."}
	fantasy := Group{Name: "Fantasy readers", Description: "Dragons, wizards and maps at the front of the book."}
	if err := db.Create([]*Group{&crime, &fantasy}).Error; err != nil {
		return err
	}
	if err := db.Create([]Membership{{GroupID: crime.ID, CustomerID: cust, JoinedAt: now}, {GroupID: crime.ID, CustomerID: cust2, JoinedAt: now}}).Error; err != nil {
		return err
	}
	if err := db.Create([]Post{
		{GroupID: crime.ID, AuthorID: cust2, AuthorName: "Carlo Customer", Text: "This month: The Shape of Water. Who is in?", CreatedAt: now.Add(-48 * time.Hour)},
		{GroupID: crime.ID, AuthorID: cust, AuthorName: "Chiara Customer", Text: "Me! Halfway through already.", CreatedAt: now.Add(-24 * time.Hour)},
	}).Error; err != nil {
		return err
	}
	events := []Event{
		{Title: "Meet the author: an evening on Camilleri", Kind: EventInStore, ShopID: milano.ID, StartsAt: now.AddDate(0, 0, 7).Add(8 * time.Hour), Capacity: 40},
		{Title: "Online reading: The Hobbit, chapter one", Kind: EventVirtual, StartsAt: now.AddDate(0, 0, 3), Capacity: 200},
		{Title: "Children's story hour", Kind: EventInStore, ShopID: torino.ID, StartsAt: now.AddDate(0, 0, 12), Capacity: 2},
	}
	if err := db.Create(&events).Error; err != nil {
		return err
	}
	if err := db.Create(&Signup{EventID: events[0].ID, CustomerID: cust, CreatedAt: now}).Error; err != nil {
		return err
	}
	return m.demoReservation(ctx, tx, org, cust, milano, byTitle["The Snack Thief"], now)
}

// demoReservation: the demo customer's reservation at Milano, ready to
// collect (they are on the shop's customer side, like any reserving
// customer).
func (m *Module) demoReservation(ctx context.Context, tx *gorm.DB, org, cust uint, shop *Shop, book uint, now time.Time) error {
	if err := m.acc.AddGroupMember(ctx, tx, org, shop.GroupID, cust, accounts.CustomerSide, "customer"); err != nil {
		return err
	}
	ready := now.Add(-2 * time.Hour)
	return store.Org(tx, org).Create(&Reservation{CustomerID: cust, ShopID: shop.ID, BookID: book, Status: StatusReady,
		CreatedAt: now.AddDate(0, 0, -1), ReadyAt: &ready}).Error
}
