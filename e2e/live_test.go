package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/notify"
)

// TestSevenTabsShareOneStream: one browser with seven tabs of the portal
// open (more than the six HTTP/1.1 connections a browser allows per origin)
// holds one live stream, shared by a SharedWorker; a notification shows at
// once in every tab's unread badge and in the open inbox's list, and the
// screen-reader region announces it. A phone-sized tab (360 px) has no
// horizontal scroll.
func TestSevenTabsShareOneStream(t *testing.T) {
	env := Start(t)
	ctx := context.Background()
	org, err := env.App.Accounts.OrgBySlug(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	customer, err := env.App.Accounts.UserByEmail(ctx, org.ID, "customer2@demo.example")
	if err != nil {
		t.Fatal(err)
	}
	first := env.Tab(t, "tab1")
	first.SignIn("demo", "customer2@demo.example")
	tabs := []*Tab{first}
	pages := []string{"/notifications", "/", "/account", "/messages", "/help", "/notifications/preferences", "/"}
	first.Go(pages[0])
	for i := 1; i < 7; i++ {
		tb := first.Open(fmt.Sprintf("tab%d", i+1))
		tb.Go(pages[i])
		tabs = append(tabs, tb)
	}
	tabs[6].Do(chromedp.EmulateViewport(360, 740))
	for _, tb := range tabs {
		tb.Do(chromedp.WaitReady(`body[data-live="open"]`))
	}
	mode := eval[string](first, `window.portal.live.mode`)
	if mode != "shared-worker" {
		t.Fatalf("live mode %q, want shared-worker", mode)
	}
	// A stream the browser closed leaves the server at its next write (the
	// heartbeat, 25 s): wait for those.
	deadline := time.Now().Add(40 * time.Second)
	for env.App.Live.Connected() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%d streams open for seven tabs of one browser, want 1", env.App.Live.Connected())
		}
		time.Sleep(100 * time.Millisecond)
	}

	err = env.App.Store.Tx(ctx, func(tx *gorm.DB) error {
		_, err := env.App.Notify.Send(ctx, tx, notify.Notification{OrgID: org.ID, UserID: customer.ID, Kind: notify.KindTest,
			Data: map[string]any{"message": "seven tabs"}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tabs {
		tb.Do(chromedp.WaitVisible(".site-header .unread"))
		if got := tb.Text(".site-header .unread"); got != "1" {
			t.Fatalf("%s: badge %q, want 1", tb.name, got)
		}
	}
	first.Do(chromedp.WaitVisible("#notify-list li.notify-unread h2"))
	if got := first.Text("#notify-unread"); got != "1" {
		t.Fatalf("inbox count %q, want 1", got)
	}
	var announced string
	deadline = time.Now().Add(5 * time.Second)
	for !strings.Contains(announced, "Test notification") && time.Now().Before(deadline) {
		announced = eval[string](tabs[1], `document.getElementById("live-region").textContent`)
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.HasPrefix(announced, "New notification:") {
		t.Fatalf("live region says %q", announced)
	}
	width := eval[int](tabs[6], `document.documentElement.scrollWidth`)
	if width > 360 {
		t.Fatalf("the 360 px tab scrolls sideways: %d px wide", width)
	}
	tabs[6].Shot("360px-live")
}

// eval evaluates a JavaScript expression in tb.
func eval[T any](tb *Tab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("%s: %s: %v", tb.name, expr, err)
	}
	return v
}
