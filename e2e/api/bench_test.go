package api

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/portalkit/portalkit/sdk/go/portal"
)

// BenchmarkMe measures the Go SDK's overhead: the same GET /api/v1/me
// against the same served portal, through the SDK (generated client,
// transport, Result) and through plain net/http with a hand-written
// decode. docs/PERFORMANCE.md records the ratio.
//
//	go test -run '^$' -bench BenchmarkMe -benchtime 2000x -benchmem ./e2e/api/
func BenchmarkMe(b *testing.B) {
	_, base := start(b)
	c := signIn(b, base, "customer@demo.example")
	ctx := context.Background()
	b.Run("sdk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			res, err := portal.Result(c.API.MeWithResponse(ctx))
			if err != nil || res.JSON200 == nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("net_http", func(b *testing.B) {
		b.ReportAllocs()
		hc := &http.Client{}
		for b.Loop() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/me", nil)
			req.Header.Set("Authorization", "Bearer "+c.Token())
			res, err := hc.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			var me struct {
				Role string `json:"role"`
				User struct {
					ID    int64  `json:"id"`
					Email string `json:"email"`
				} `json:"user"`
			}
			err = json.NewDecoder(res.Body).Decode(&me)
			res.Body.Close()
			if err != nil || res.StatusCode != 200 || me.User.Email == "" {
				b.Fatalf("%d %v", res.StatusCode, err)
			}
		}
	})
}
