package dashboard_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/dashboard"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

// Core widgets run on the request's goroutine, yet a panicking one, or one
// whose read the deadline ends, fails only its own card.
func TestCoreWidgetsRunInlineAndAreContained(t *testing.T) {
	ta := portaltest.New(t, nil)
	ta.User(t, "acme", "ann@acme.example", accounts.Customer)
	p := ta.Principal(t, ta.Login(t, "acme", "ann@acme.example"))
	if p.Role != accounts.Customer {
		t.Fatalf("role %s", p.Role)
	}
	s := dashboard.New(dashboard.Options{Store: ta.Store, Config: ta.Config})
	s.AddCoreWidget(dashboard.Widget{ID: "boom", Title: "Boom", Order: 1, Template: "x", Data: func(context.Context, *accounts.Principal) (any, error) {
		panic("core widget secret")
	}})
	s.AddCoreWidget(dashboard.Widget{ID: "late", Title: "Late", Order: 2, Template: "x", Data: func(ctx context.Context, _ *accounts.Principal) (any, error) {
		<-ctx.Done() // a slow read: the deadline ends it
		return nil, ctx.Err()
	}})
	s.AddCoreWidget(dashboard.Widget{ID: "fine", Title: "Fine", Order: 3, Template: "x", Data: func(context.Context, *accounts.Principal) (any, error) {
		return "ok", nil
	}})
	if err := s.Seal(func(string) bool { return true }, func(string) bool { return true }); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	b, err := s.Board(ctx, p, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Cards) != 3 || !b.Cards[0].Failed || !b.Cards[1].Failed || b.Cards[2].Failed || b.Cards[2].Data != "ok" {
		t.Fatalf("cards: %+v %+v %+v", b.Cards[0], b.Cards[1], b.Cards[2])
	}
	cards, _ := s.JSON(b, "en", "req-1")
	if strings.Contains(cards[0].Error, "secret") || cards[0].Error == "" {
		t.Fatalf("failed card says %q", cards[0].Error)
	}
}

// The account widget's read of a person's sign-ins uses the audit log's
// actor index instead of scanning the organisation's audit entries.
func TestAccountWidgetReadUsesTheActorIndex(t *testing.T) {
	ta := portaltest.New(t, nil)
	if ta.Store.Dialect == store.Postgres {
		var n int64
		if err := ta.Store.DB.Raw("SELECT count(*) FROM pg_indexes WHERE indexname = 'accounts_audit_actor' AND schemaname = current_schema()").Scan(&n).Error; err != nil || n != 1 {
			t.Fatalf("index accounts_audit_actor: %d, %v", n, err)
		}
		return
	}
	var plan []struct {
		Detail string
	}
	err := ta.Store.DB.Raw(`EXPLAIN QUERY PLAN SELECT created_at FROM accounts_audit
		WHERE org_id = 1 AND actor_id = 2 AND action = 'login' AND created_at >= '2026-01-01' ORDER BY created_at DESC`).Scan(&plan).Error
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, r := range plan {
		all = append(all, r.Detail)
	}
	if got := strings.Join(all, "; "); !strings.Contains(got, "accounts_audit_actor") || strings.Contains(got, "TEMP B-TREE") {
		t.Fatalf("plan %q does not read the actor index in order", got)
	}
}
