package dashboard_bench

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	// The bundled verticals, as in cmd/portal: the demo customer's
	// dashboard is mostly the automotive module's widgets.
	_ "github.com/portalkit/portalkit/verticals/all"
)

// BenchmarkBoardDemo is BenchmarkBoard with the bundled verticals loaded,
// as `portal serve --demo` runs: the demo customer's dashboard then shows
// their car's status, open recalls and next payment besides the core's
// widgets.
func BenchmarkBoardDemo(b *testing.B) {
	ta := portaltest.New(b, module.Registered(), portaltest.WithConfig(func(c *config.Config) { c.Log.Level = "error" }))
	ta.Demo(b)
	p := ta.Principal(b, ta.Login(b, "demo", "customer@demo.example"))
	ctx := context.Background()
	board, err := ta.Dashboard.Board(ctx, p, "bench")
	if err != nil || len(board.Cards) < 5 {
		b.Fatalf("demo board: %v, %d cards", err, len(board.Cards))
	}
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
