package accounts

import (
	"testing"
	"time"
)

func TestPrincipalCacheBoundAndFence(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := newPrincipalCache(time.Second, 3)
	for i := 0; i < 10; i++ {
		c.put(string(rune('a'+i)), cachedSession{p: Principal{OrgID: 1, UserID: uint(i)}}, c.generation(), now)
		if c.len() > 3 {
			t.Fatalf("%d entries, bound is 3", c.len())
		}
	}
	if _, ok := c.get("j", now); !ok {
		t.Fatal("the newest entry was evicted")
	}
	if _, ok := c.get("j", now.Add(time.Second)); ok {
		t.Fatal("an entry outlived its TTL")
	}
	// A read that began before an invalidation must not store its result.
	gen := c.generation()
	c.drop(func(p *Principal) bool { return p.UserID == 42 })
	c.put("late", cachedSession{p: Principal{UserID: 42}}, gen, now)
	if _, ok := c.get("late", now); ok {
		t.Fatal("a result read before the invalidation was cached")
	}
	if newPrincipalCache(0, 10) != nil {
		t.Fatal("a TTL of 0 must turn the cache off")
	}
}
