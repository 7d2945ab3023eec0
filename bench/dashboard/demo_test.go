package dashboard_bench

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	// The bundled verticals, as in cmd/portal: the demo customer's
	// dashboard is mostly the automotive and banking modules' widgets.
	_ "github.com/portalkit/portalkit/verticals/all"
)

// BenchmarkBoardDemo is BenchmarkBoard with the bundled verticals loaded,
// as `portal serve --demo` runs: the demo customer's dashboard then shows
// their car's status, open recalls, next payment and their banking widgets
// besides the core's. It runs twice: "cached" with the default
// dashboard.cache_ttl (the demo customer repeated, as the HTTP benchmark
// loads it), "uncached" with the cache off (every load reads the layout and
// runs every widget), each encoding the API's answer.
func BenchmarkBoardDemo(b *testing.B) {
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"cached", 5 * time.Second}, {"uncached", 0}} {
		b.Run(c.name, func(b *testing.B) {
			ta := portaltest.New(b, module.Registered(), portaltest.WithConfig(func(cfg *config.Config) {
				cfg.Log.Level = "error"
				cfg.Dashboard.CacheTTL = c.ttl
			}))
			ta.Demo(b)
			p := ta.Principal(b, ta.Login(b, "demo", "customer@demo.example"))
			ctx := context.Background()
			// Past the sign-in's settle time, so the cached run stores.
			ta.Dashboard.SetClock(func() time.Time { return time.Now().UTC().Add(2 * time.Second) })
			board, err := ta.Dashboard.Board(ctx, p, "bench")
			if err != nil || len(board.Cards) < 5 {
				b.Fatalf("demo board: %v, %d cards", err, len(board.Cards))
			}
			var out struct {
				Widgets []struct {
					ID    string `json:"id"`
					Error string `json:"error"`
				} `json:"widgets"`
			}
			if err := json.Unmarshal(ta.Dashboard.EncodeJSON(board, p.Locale, "bench"), &out); err != nil {
				b.Fatal(err)
			}
			for _, w := range out.Widgets {
				if w.Error != "" {
					b.Fatalf("widget %s failed", w.ID)
				}
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					board, err := ta.Dashboard.Board(ctx, p, "bench")
					if err != nil {
						b.Error(err)
						return
					}
					if body := ta.Dashboard.EncodeJSON(board, p.Locale, "bench"); len(body) < 100 {
						b.Errorf("answer %s", body)
						return
					}
				}
			})
		})
	}
}
