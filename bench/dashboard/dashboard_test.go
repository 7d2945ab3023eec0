// Package dashboard_bench measures, in process, what one dashboard request
// costs beyond HTTP: authenticating the session (accounts), building the
// board (layout read and every widget's data) and encoding it, so the HTTP
// numbers in docs/PERFORMANCE.md can be split into their parts.
//
//	go test ./bench/dashboard -run '^$' -bench . -benchmem
//	PORTAL_TEST_DB=postgres PORTAL_TEST_DATABASE_URL=... go test ./bench/dashboard -run '^$' -bench .
package dashboard_bench

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/chart"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/portaltest"
)

func demo(b *testing.B) (*portaltest.TestApp, string, *accounts.Principal) {
	b.Helper()
	ta := portaltest.New(b, nil, portaltest.WithConfig(func(c *config.Config) { c.Log.Level = "error" }))
	ta.Demo(b)
	tok := ta.Login(b, "demo", "customer@demo.example")
	return ta, tok, ta.Principal(b, tok)
}

// BenchmarkAuthenticate is the per-request session lookup every API call
// pays (one indexed query joining session, user and organisation).
func BenchmarkAuthenticate(b *testing.B) {
	ta, tok, _ := demo(b)
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := ta.Accounts.Authenticate(ctx, tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkBoard is the dashboard's own work for the demo customer: the
// layout read, the widgets' data (the account widget's sign-in read) and
// the JSON encoding of every card.
func BenchmarkBoard(b *testing.B) {
	ta, _, p := demo(b)
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			board, err := ta.Dashboard.Board(ctx, p, "bench")
			if err != nil {
				b.Error(err)
				return
			}
			cards, hidden := ta.Dashboard.JSON(board, p.Locale, "bench")
			if _, err := json.Marshal(map[string]any{"widgets": cards, "hidden": hidden}); err != nil {
				b.Error(err)
				return
			}
			for _, c := range cards {
				if c.Error != "" {
					b.Errorf("widget %s failed", c.ID)
					return
				}
			}
		}
	})
}

// BenchmarkChartBar30 renders the account widget's chart (30 bars) to SVG
// with its table, as the dashboard page does.
func BenchmarkChartBar30(b *testing.B) {
	c := chart.Chart{Kind: chart.Bar, Title: "Sign-ins, last 30 days", Series: []chart.Series{{Values: make([]float64, 30)}}}
	for i := range 30 {
		c.Labels = append(c.Labels, "22 Nov")
		c.Series[0].Values[i] = float64(i % 4)
	}
	for b.Loop() {
		_ = chart.Render(c, chart.Locale{Lang: "it"})
	}
}
