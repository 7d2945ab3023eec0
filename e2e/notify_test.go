package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/notify"
)

// TestNotificationsInTheBrowser: a customer's open inbox shows a new
// notification live (EventSource over the real stream, under the portal's
// CSP), and an admin walks the outbox, webhook, preferences and mailbox
// pages, including an e-mail's HTML in its sandboxed frame, with no console
// error or CSP violation.
func TestNotificationsInTheBrowser(t *testing.T) {
	env := Start(t)
	ctx := context.Background()
	org, err := env.App.Accounts.OrgBySlug(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	// customer2 has no demo conversations, so the inbox starts empty.
	customer, err := env.App.Accounts.UserByEmail(ctx, org.ID, "customer2@demo.example")
	if err != nil {
		t.Fatal(err)
	}

	tab := env.Tab(t, "customer")
	tab.SignIn("demo", "customer2@demo.example")
	tab.Go("/notifications")
	tab.Expect("You have no notifications.")
	// The page's stream is connected before anything is sent: a fresh stream
	// pushes only what is newer than its connection.
	deadline := time.Now().Add(15 * time.Second)
	for env.App.Live.Connected() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the inbox page never opened its live stream")
		}
		time.Sleep(20 * time.Millisecond)
	}
	err = env.App.Store.Tx(ctx, func(tx *gorm.DB) error {
		_, err := env.App.Notify.Send(ctx, tx, notify.Notification{OrgID: org.ID, UserID: customer.ID, Kind: notify.KindTest,
			Data: map[string]any{"message": "arrived live"}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	env.App.Notify.Kick()
	tab.Do(chromedp.WaitVisible("#notify-list li.notify-unread h2"))
	if got := tab.Text("#notify-list li.notify-unread h2"); !strings.Contains(got, "Test notification") {
		t.Fatalf("live item = %q", got)
	}
	if got := tab.Text("#notify-unread"); got != "1" {
		t.Fatalf("live unread count = %q, want 1", got)
	}
	tab.Shot("live-notification")
	tab.Go("/notifications/preferences")
	tab.Expect("Notification preferences", "Quiet hours (Europe/Rome)")

	admin := env.Tab(t, "admin")
	admin.SignIn("demo", "admin@demo.example")
	admin.Go("/notifications")
	admin.Click("form[action='/notifications/test'] button")
	admin.Expect("A test notification is on its way.")
	// No SMTP server here: the e-mail lands in the development mailbox once
	// a worker has delivered it.
	deadline = time.Now().Add(15 * time.Second)
	for {
		msgs, _, err := env.App.Notify.Mailbox(ctx, org.ID, notify.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) > 0 && strings.Contains(msgs[0].To, "admin@demo.example") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the test e-mail never reached the development mailbox")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, p := range []string{"/admin/notifications", "/admin/notifications/webhooks"} {
		admin.Go(p)
		admin.Shot(p)
	}
	admin.Go("/admin/notifications/mailbox")
	admin.Click("table.notify-mailbox tbody a")
	admin.Do(chromedp.WaitVisible("iframe.notify-email"))
	admin.Expect("Recipient", "admin@demo.example")
	admin.Shot("mailbox-message")
}
