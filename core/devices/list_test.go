package devices_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/accounts"
)

// TestDeviceListIsPaged: the API pages by offset with next_offset, the
// /devices page by 100 with previous/next links, so a fleet is never cut
// at a fixed size; another organisation's devices never show.
func TestDeviceListIsPaged(t *testing.T) {
	ta := newApp(t)
	for i := 0; i < 103; i++ {
		provision(t, ta, "acme", fmt.Sprintf("c%03d@acme.example", i%3))
	}
	provision(t, ta, "other", "olga@other.example")
	admin := ta.As(t, "acme", "admin@acme.example", accounts.Admin)
	seen := map[string]bool{}
	offset, pages := 0, 0
	for {
		var out struct {
			Devices []struct {
				ID string `json:"id"`
			}
			NextOffset int `json:"next_offset"`
		}
		r := ta.Do(t, http.MethodGet, fmt.Sprintf("/api/v1/devices?limit=40&offset=%d", offset), nil, admin)
		if r.Status != 200 {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		r.JSON(t, &out)
		pages++
		for _, d := range out.Devices {
			if seen[d.ID] {
				t.Fatalf("device %s on two pages", d.ID)
			}
			seen[d.ID] = true
		}
		if out.NextOffset == 0 {
			break
		}
		offset = out.NextOffset
	}
	if len(seen) != 103 || pages != 3 {
		t.Fatalf("%d devices in %d pages, want 103 in 3", len(seen), pages)
	}
	if r := ta.Do(t, http.MethodGet, "/api/v1/devices?limit=1001", nil, admin); r.Status != 422 || !strings.Contains(r.Body, "limit") {
		t.Fatalf("limit 1001: %d %s", r.Status, r.Body)
	}

	b := ta.Browser()
	b.SignIn(t, "acme", "admin@acme.example")
	first := b.Get(t, "/devices")
	if n := strings.Count(first.Body, `<td><a href="/devices/`); first.Status != 200 || n != 100 || !strings.Contains(first.Body, `href="/devices?page=1"`) {
		t.Fatalf("first page: %d, %d devices", first.Status, n)
	}
	second := b.Get(t, "/devices?page=1")
	if n := strings.Count(second.Body, `<td><a href="/devices/`); n != 3 || !strings.Contains(second.Body, `href="/devices?page=0"`) || strings.Contains(second.Body, `rel="next"`) {
		t.Fatalf("second page: %d devices", n)
	}
}
