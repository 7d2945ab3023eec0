package notify_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/notify"
)

// "Stop notifications like this" switches the kind off on every channel,
// from the inbox page and the API; only for the reader's own notification
// and only for kinds that may be switched off. Later notifications of the
// kind are not sent to the person; other kinds are.
func TestMuteFromTheNotification(t *testing.T) {
	e := newEnv(t, envOpt{})
	shipped := e.sendID(note(e.bruno, "shop.shipped", map[string]any{"order": 1}))
	security := e.sendID(note(e.bruno, "shop.security", nil))

	b := e.browser(e.bruno)
	inbox := b.Get(t, "/notifications")
	if !strings.Contains(inbox.Body, `action="/notifications/`+itoa(shipped)+`/mute"`) {
		t.Fatalf("the inbox offers no way to stop the shipped notifications:\n%s", inbox.Body)
	}
	if strings.Contains(inbox.Body, `action="/notifications/`+itoa(security)+`/mute"`) {
		t.Fatal("the inbox offers to stop a security notice")
	}
	if res := b.Post(t, "/notifications/"+itoa(shipped)+"/mute", url.Values{}); res.Status != http.StatusSeeOther {
		t.Fatalf("muting from the inbox: %d %s", res.Status, res.Body)
	}
	if page := b.Get(t, "/notifications?muted=shop.shipped"); !strings.Contains(page.Body, "Non riceverai più") {
		t.Errorf("the inbox does not say, in Bruno's Italian, what was stopped:\n%s", page.Body)
	}
	var prefs notify.Preferences
	e.ta.Do(t, "GET", "/api/v1/notifications/preferences", nil, e.bruno.headers).JSON(t, &prefs)
	for _, k := range prefs.Kinds {
		for _, ch := range k.Channels {
			if (k.Kind == "shop.shipped" && ch.Enabled) || (k.Kind == "shop.security" && !ch.Enabled) {
				t.Errorf("after muting shop.shipped, %s by %s is enabled=%v", k.Kind, ch.Channel, ch.Enabled)
			}
		}
	}
	later := e.sendID(note(e.bruno, "shop.shipped", map[string]any{"order": 2}))
	for _, row := range e.outbox(e.org1) {
		if row.NotificationID == later {
			t.Errorf("a muted kind was still queued for delivery: %+v", row)
		}
	}

	// The API: someone else's notification is 404, a security notice 409.
	if res := e.ta.Do(t, "POST", "/api/v1/notifications/"+itoa(shipped)+"/mute", nil, e.ada.headers); res.Status != 404 {
		t.Errorf("muting another person's notification: %d, want 404", res.Status)
	}
	if res := e.ta.Do(t, "POST", "/api/v1/notifications/"+itoa(security)+"/mute", nil, e.bruno.headers); res.Status != 409 {
		t.Errorf("muting a security notice: %d %s, want 409", res.Status, res.Body)
	}
	if res := e.ta.Do(t, "POST", "/api/v1/notifications/"+itoa(shipped)+"/mute", nil, e.bruno.headers); res.Status != 200 || !strings.Contains(res.Body, `"kind":"shop.shipped"`) {
		t.Errorf("muting through the API: %d %s", res.Status, res.Body)
	}
}
