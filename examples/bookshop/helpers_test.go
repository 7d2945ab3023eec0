package bookshop_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"example.com/portal-examples/bookshop"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
)

// fixedNow is the tests' clock.
var fixedNow = time.Date(2026, 6, 15, 10, 0, 0, 0, time.UTC)

func newApp(t *testing.T) (*portaltest.TestApp, *bookshop.Module) {
	t.Helper()
	m := bookshop.New()
	m.Now = func() time.Time { return fixedNow }
	return portaltest.New(t, []module.Module{m}), m
}

// chain is an organisation "chain" with an admin, two shops (Milano with
// till staff mia, Torino with till staff tom), a staff member on no till,
// and customers anna, bruno and carla.
type chain struct {
	ta                 *portaltest.TestApp
	admin, mia, tom    map[string]string
	idle               map[string]string
	anna, bruno, carla map[string]string
	annaID, brunoID    uint
	milano, torino     uint
	books              map[string]uint
}

func newChain(t *testing.T, ta *portaltest.TestApp) *chain {
	t.Helper()
	c := &chain{ta: ta, books: map[string]uint{}}
	c.admin = ta.As(t, "chain", "admin@chain.example", accounts.Admin)
	c.mia = ta.As(t, "chain", "mia@chain.example", accounts.Staff)
	c.tom = ta.As(t, "chain", "tom@chain.example", accounts.Staff)
	c.idle = ta.As(t, "chain", "idle@chain.example", accounts.Staff)
	c.anna = ta.As(t, "chain", "anna@chain.example", accounts.Customer)
	c.bruno = ta.As(t, "chain", "bruno@chain.example", accounts.Customer)
	c.carla = ta.As(t, "chain", "carla@chain.example", accounts.Customer)
	c.annaID, c.brunoID = uid(t, ta, c.anna), uid(t, ta, c.bruno)
	c.milano = c.shop(t, "Milano Duomo", c.mia)
	c.torino = c.shop(t, "Torino Porta Nuova", c.tom)
	return c
}

func uid(t *testing.T, ta *portaltest.TestApp, h map[string]string) uint {
	return ta.Principal(t, strings.TrimPrefix(h["Authorization"], "Bearer ")).UserID
}

func (c *chain) shop(t *testing.T, name string, till map[string]string) uint {
	t.Helper()
	var s bookshop.Shop
	c.must(t, "POST", "/api/v1/bookshop/shops", map[string]any{"name": name, "city": "Città"}, c.admin, 201).JSON(t, &s)
	c.must(t, "POST", fmt.Sprintf("/api/v1/bookshop/shops/%d/staff", s.ID), map[string]any{"user_id": uid(t, c.ta, till)}, c.admin, 204)
	return s.ID
}

// book adds a book to the catalogue.
func (c *chain) book(t *testing.T, title, author, genre string) uint {
	t.Helper()
	var b bookshop.Book
	c.must(t, "POST", "/api/v1/bookshop/books", map[string]any{"title": title, "author": author, "genre": genre, "price_minor": 1000}, c.admin, 201).JSON(t, &b)
	c.books[title] = b.ID
	return b.ID
}

func (c *chain) must(t *testing.T, method, url string, body any, h map[string]string, want int) *portaltest.Response {
	t.Helper()
	res := c.ta.Do(t, method, url, body, h)
	if res.Status != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, url, res.Status, want, res.Body)
	}
	return res
}

func itoa(n uint) string { return strconv.FormatUint(uint64(n), 10) }
