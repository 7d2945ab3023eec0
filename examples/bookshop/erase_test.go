package bookshop_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

// TestErasureOnAccountClosure: when anna's closed account is purged, every
// bookshop row about her goes in the purge's transaction; bruno's stay.
func TestErasureOnAccountClosure(t *testing.T) {
	ta, _ := newApp(t)
	c := newChain(t, ta)
	rose := c.book(t, "The Name of the Rose", "Umberto Eco", "crime")
	var g struct{ ID uint }
	c.must(t, "POST", "/api/v1/bookshop/groups", map[string]any{"name": "Crime fiction club"}, c.admin, 201).JSON(t, &g)
	var e struct{ ID uint }
	c.must(t, "POST", "/api/v1/bookshop/events", map[string]any{"title": "Reading", "kind": "virtual", "starts_at": fixedNow.Add(time.Hour), "capacity": 5}, c.admin, 201).JSON(t, &e)
	for _, h := range []map[string]string{c.anna, c.bruno} {
		c.must(t, "POST", "/api/v1/bookshop/orders", map[string]any{"lines": []map[string]any{{"book_id": rose, "quantity": 1}}}, h, 201)
		c.must(t, "PUT", fmt.Sprintf("/api/v1/bookshop/books/%d/review", rose), map[string]any{"stars": 4, "text": "Fine."}, h, 201)
		c.must(t, "PUT", fmt.Sprintf("/api/v1/bookshop/books/%d/favourite", rose), nil, h, 204)
		c.must(t, "POST", fmt.Sprintf("/api/v1/bookshop/groups/%d/members", g.ID), nil, h, 204)
		c.must(t, "POST", fmt.Sprintf("/api/v1/bookshop/groups/%d/posts", g.ID), map[string]any{"text": "Hello"}, h, 201)
		c.must(t, "POST", fmt.Sprintf("/api/v1/bookshop/events/%d/signups", e.ID), nil, h, 201)
		c.must(t, "POST", "/api/v1/bookshop/reservations", map[string]any{"shop_id": c.milano, "book_id": rose}, h, 201)
	}
	tables := map[string]string{"bookshop_orders": "customer_id", "bookshop_order_lines": "customer_id", "bookshop_reviews": "customer_id",
		"bookshop_favourites": "customer_id", "bookshop_memberships": "customer_id", "bookshop_posts": "author_id",
		"bookshop_signups": "customer_id", "bookshop_reservations": "customer_id"}
	count := func(user uint) map[string]int64 {
		out := map[string]int64{}
		for tbl, col := range tables {
			var n int64
			if err := store.AllOrgs(ta.Store.DB).Table(tbl).Where(col+" = ?", user).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			out[tbl] = n
		}
		return out
	}
	for tbl, n := range count(c.annaID) {
		if n == 0 {
			t.Fatalf("anna has no row in %s before the purge", tbl)
		}
	}
	brunoBefore := count(c.brunoID)
	if r := ta.Do(t, "POST", "/api/v1/me/deletion", map[string]any{"password": portaltest.Password}, c.anna); r.Status != 202 {
		t.Fatalf("deletion request: %d %s", r.Status, r.Body)
	}
	var org accounts.Org
	if err := store.AllOrgs(ta.Store.DB).Where("slug = ?", "chain").Take(&org).Error; err != nil {
		t.Fatal(err)
	}
	later := time.Now().UTC().Add(time.Duration(org.RetentionDays+1) * 24 * time.Hour)
	if n, err := ta.Accounts.PurgeDeleted(t.Context(), later); err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	for tbl, n := range count(c.annaID) {
		if n != 0 {
			t.Errorf("%d rows of anna left in %s", n, tbl)
		}
	}
	for tbl, n := range count(c.brunoID) {
		if n != brunoBefore[tbl] {
			t.Errorf("bruno's rows in %s: %d, had %d", tbl, n, brunoBefore[tbl])
		}
	}
}
