package notify_test

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/i18n"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/notify/notifytest"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
)

func TestKindsDeclaredThroughTheHost(t *testing.T) {
	ta := portaltest.New(t, []module.Module{shop{}})
	var ids []string
	for _, k := range ta.Notify.Kinds() {
		ids = append(ids, k.ID)
	}
	// The account e-mails are kinds too: the kernel declares them for accounts.
	// So is the secure messages' "new message".
	want := "accounts.invitation,accounts.password_changed,accounts.password_reset,accounts.verify_email," +
		"messages.received,notify.digest,notify.test,shop.security,shop.shipped"
	if got := strings.Join(ids, ","); got != want {
		t.Fatalf("kinds = %s", got)
	}
}

func TestKindValidation(t *testing.T) {
	e := newEnv(t, envOpt{})
	fsys := shopKinds()[0].Templates
	cases := []struct {
		kind notify.Kind
		want string
	}{
		{notify.Kind{ID: "other.thing", Title: "x", Templates: fsys}, "must be named shop.<name>"},
		{notify.Kind{ID: "shop.nothing", Title: "x", Templates: fsys}, `no templates for locale "en"`},
		{notify.Kind{ID: "shop.shipped", Title: "x", Templates: fsys}, "declared twice"},
		{notify.Kind{ID: "shop.x", Templates: fsys}, "no title"},
	}
	for _, c := range cases {
		svc, err := notify.New(notify.Options{Config: e.ta.Config, Store: e.ta.Store})
		if err != nil {
			t.Fatal(err)
		}
		if c.kind.ID == "shop.shipped" {
			svc.Declare("shop", shopKinds()[0])
		}
		svc.Declare("shop", c.kind)
		if err := svc.Err(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("declare %s: err = %v, want %q", c.kind.ID, err, c.want)
		}
	}
	// An unknown default channel is reported too.
	svc, _ := notify.New(notify.Options{Config: e.ta.Config, Store: e.ta.Store})
	k := shopKinds()[0]
	k.DefaultChannels = []string{"pigeon"}
	svc.Declare("shop", k)
	if err := svc.Err(); err == nil || !strings.Contains(err.Error(), "pigeon") {
		t.Errorf("unknown channel: %v", err)
	}
}

func TestSendWritesInsideTheCallersTransactionAndDedupes(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	n := note(e.bruno, "shop.shipped", map[string]any{"order": "A-1"})
	n.DedupeKey = "shipped:A-1"

	// Rolled back with the caller's work: nothing is left behind.
	boom := errors.New("caller failed")
	err := e.ta.Store.Tx(ctx, func(tx *gorm.DB) error {
		if _, err := e.svc.Send(ctx, tx, n); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if rows := e.outbox(e.org1); len(rows) != 0 {
		t.Fatalf("rolled-back send left %d outbox rows", len(rows))
	}

	if !e.send(n) {
		t.Fatal("first send was not new")
	}
	if e.send(n) {
		t.Fatal("second send with the same dedupe key was new")
	}
	// The same key for another user is a different notification.
	other := n
	other.UserID = e.ada.ID
	if !e.send(other) {
		t.Fatal("same key, other user: not new")
	}
	items, _, err := e.svc.List(ctx, e.org1, e.bruno.ID, notify.Page{})
	if err != nil || len(items) != 1 {
		t.Fatalf("inbox = %v, %v", items, err)
	}
	// Rendered in the recipient's locale (Bruno's account says Italian).
	if items[0].Title != "Ordine A-1 spedito" || !strings.Contains(items[0].Body, "Ciao bruno") {
		t.Errorf("in-app rendering = %q / %q", items[0].Title, items[0].Body)
	}
	if got := channels(e.outbox(e.org1)); got["inapp"] != 2 || got["email"] != 2 || len(got) != 2 {
		t.Errorf("outbox channels = %v", got)
	}

	// Many in one call, with a duplicate inside the batch and one already sent.
	var batch []notify.Notification
	for i, key := range []string{"b1", "b2", "b1", "shipped:A-1"} {
		b := note(e.bruno, "shop.shipped", map[string]any{"order": i})
		b.DedupeKey = key
		batch = append(batch, b)
	}
	var res []notify.Result
	if err := e.ta.Store.Tx(ctx, func(tx *gorm.DB) error {
		var err error
		res, err = e.svc.SendMany(ctx, tx, batch)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !res[0].New || !res[1].New || res[2].New || res[3].New {
		t.Errorf("batch results = %+v", res)
	}

	// Bad input is refused naming the field, before anything is written.
	for _, bad := range []notify.Notification{
		{OrgID: e.org1, UserID: e.bruno.ID, Kind: "shop.unknown"},
		{OrgID: 0, UserID: e.bruno.ID, Kind: "shop.shipped"},
		{OrgID: e.org1, UserID: e.bruno.ID, Kind: "shop.shipped", Attachments: []notify.Attachment{{Name: "../x.pdf"}}},
	} {
		err := e.ta.Store.Tx(ctx, func(tx *gorm.DB) error { _, err := e.svc.Send(ctx, tx, bad); return err })
		if err == nil {
			t.Errorf("send %+v: no error", bad)
		}
	}
	// An unknown user is an error, not a silent drop; so is a user of another
	// organisation (the directory looks users up within the organisation).
	for _, who := range []struct{ org, user uint }{{e.org1, e.carla.ID + 1000}, {e.org1, e.carla.ID}} {
		err = e.ta.Store.Tx(ctx, func(tx *gorm.DB) error {
			_, err := e.svc.Send(ctx, tx, notify.Notification{OrgID: who.org, UserID: who.user, Kind: "shop.shipped"})
			return err
		})
		if !errors.Is(err, notify.ErrNoRecipient) {
			t.Errorf("user %d of org %d: %v", who.user, who.org, err)
		}
	}
}

// A recipient's locale with a region ("it-IT") uses the language's
// templates, and an unknown one English. Accounts only stores "en" and
// "it", so this uses a directory of its own on a service that serves no
// routes. Each notification records the language it was written in (the
// inbox marks it with lang, for a reader who changed theirs since).
func TestTemplatesFallBackFromRegionToLanguageToEnglish(t *testing.T) {
	ta := portaltest.New(t, nil)
	dir := notifytest.NewDirectory()
	dir.Add(1, 1, notify.Recipient{Email: "it@example.com", Name: "Bruno", Locale: "it-IT", TimeZone: "Europe/Rome"})
	dir.Add(1, 2, notify.Recipient{Email: "de@example.com", Name: "Dieter", Locale: "de-DE"})
	svc, err := notify.New(notify.Options{Config: ta.Config, Store: ta.Store, Directory: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range shopKinds() {
		svc.Declare("shop", k)
	}
	if err := svc.Err(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := ta.Store.Tx(ctx, func(tx *gorm.DB) error {
		_, err := svc.SendMany(ctx, tx, []notify.Notification{
			{OrgID: 1, UserID: 1, Kind: "shop.shipped", Data: map[string]any{"order": 1}},
			{OrgID: 1, UserID: 2, Kind: "shop.shipped", Data: map[string]any{"order": 2}},
		})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for user, want := range map[uint][2]string{1: {"Ordine 1 spedito", "it"}, 2: {"Order 2 shipped", "en"}} {
		items, _, err := svc.List(ctx, 1, user, notify.Page{})
		if err != nil || len(items) != 1 || items[0].Title != want[0] || items[0].Locale != want[1] {
			t.Errorf("user %d: %+v, %v; want %q in %q", user, items, err, want[0], want[1])
		}
	}
}

func TestInboxIsPerUser(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		e.send(note(e.ada, "shop.shipped", map[string]any{"order": i}))
	}
	e.send(note(e.bruno, "shop.shipped", map[string]any{"order": "bruno"}))
	e.send(note(e.carla, "shop.shipped", map[string]any{"order": "carla"}))

	var list struct {
		Items []struct {
			ID    uint   `json:"id"`
			Title string `json:"title"`
		} `json:"items"`
		NextBefore uint  `json:"next_before"`
		Unread     int64 `json:"unread"`
	}
	res := e.ta.Do(t, "GET", "/api/v1/notifications?limit=2", nil, e.ada.headers)
	if res.Status != 200 {
		t.Fatalf("list: %d %s", res.Status, res.Body)
	}
	res.JSON(t, &list)
	if len(list.Items) != 2 || list.NextBefore == 0 || list.Unread != 3 || list.Items[0].Title != "Order 2 shipped" {
		t.Fatalf("page 1 = %+v", list)
	}
	res = e.ta.Do(t, "GET", "/api/v1/notifications?limit=2&before="+itoa(list.NextBefore), nil, e.ada.headers)
	list.NextBefore = 0
	res.JSON(t, &list)
	if len(list.Items) != 1 || list.NextBefore != 0 || list.Items[0].Title != "Order 0 shipped" {
		t.Fatalf("page 2 = %+v", list)
	}
	if strings.Contains(res.Body, "bruno") || strings.Contains(res.Body, "carla") {
		t.Fatal("another user's notification leaked into the inbox")
	}
	ada := list.Items[0].ID

	// Bruno can neither see nor mark Ada's notification.
	res = e.ta.Do(t, "POST", "/api/v1/notifications/"+itoa(ada)+"/read", nil, e.bruno.headers)
	if res.Status != 404 {
		t.Fatalf("marking another user's notification: %d", res.Status)
	}
	// Carla, in another organisation, sees her own and nothing of acme's,
	// and cannot mark Ada's either.
	res = e.ta.Do(t, "GET", "/api/v1/notifications", nil, e.carla.headers)
	if res.Status != 200 || !strings.Contains(res.Body, "Order carla shipped") || strings.Contains(res.Body, "Order 0") || strings.Contains(res.Body, "bruno") {
		t.Fatalf("globex sees acme: %s", res.Body)
	}
	if res := e.ta.Do(t, "POST", "/api/v1/notifications/"+itoa(ada)+"/read", nil, e.carla.headers); res.Status != 404 {
		t.Fatalf("another org's admin marked Ada's notification: %d", res.Status)
	}
	// The service itself scopes by organisation: Ada's ID under globex is nobody.
	if items, _, err := e.svc.List(ctx, e.org2, e.ada.ID, notify.Page{}); err != nil || len(items) != 0 {
		t.Fatalf("Ada's inbox under another org = %v, %v", items, err)
	}
	// No caller: 401.
	if res := e.ta.Do(t, "GET", "/api/v1/notifications", nil, nil); res.Status != 401 {
		t.Fatalf("anonymous list: %d", res.Status)
	}

	if res := e.ta.Do(t, "POST", "/api/v1/notifications/"+itoa(ada)+"/read", nil, e.ada.headers); res.Status != 204 {
		t.Fatalf("mark read: %d %s", res.Status, res.Body)
	}
	res = e.ta.Do(t, "GET", "/api/v1/notifications/unread-count", nil, e.ada.headers)
	if !strings.Contains(res.Body, `"unread":2`) {
		t.Fatalf("unread after one read: %s", res.Body)
	}
	res = e.ta.Do(t, "POST", "/api/v1/notifications/read-all", nil, e.ada.headers)
	if !strings.Contains(res.Body, `"marked":2`) {
		t.Fatalf("read-all: %s", res.Body)
	}
	// Bruno's stays unread.
	if n, _ := e.svc.UnreadCount(ctx, e.org1, e.bruno.ID); n != 1 {
		t.Fatalf("Bruno's unread = %d, want 1", n)
	}

	// The inbox page shows the user's own notifications only, in their
	// language, with the unread count in the layout.
	b := e.browser(e.bruno)
	page := b.Get(t, "/notifications")
	if page.Status != 200 || !strings.Contains(page.Body, "Ordine bruno spedito") || strings.Contains(page.Body, "Order 0") ||
		!strings.Contains(page.Body, `id="notify-list" data-live="notification unread"`) || !strings.Contains(page.Body, "da leggere") ||
		!strings.Contains(page.Body, `class="unread badge"`) {
		t.Fatalf("inbox page: %d %s", page.Status, page.Body)
	}
	// Marking read from the page, with the page's CSRF token; without it the
	// form is refused.
	if res := b.Post(t, "/notifications/read-all", url.Values{"_csrf": {""}}); res.Status != 403 {
		t.Fatalf("form without CSRF token: %d", res.Status)
	}
	b.Get(t, "/notifications")
	if res := b.Post(t, "/notifications/read-all", nil); res.Status != 303 {
		t.Fatalf("mark all read from the page: %d %s", res.Status, res.Body)
	}
	if n, _ := e.svc.UnreadCount(ctx, e.org1, e.bruno.ID); n != 0 {
		t.Fatalf("Bruno's unread after the page's mark-all = %d", n)
	}
	// Anonymous visitors are sent to sign in.
	if res := e.ta.Browser().Get(t, "/notifications"); res.Status != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous inbox page: %d %s", res.Status, res.Header.Get("Location"))
	}
}

func TestPreferencesMuteAChannel(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	body := map[string]any{"channels": []map[string]any{{"kind": "shop.shipped", "channel": "email", "enabled": false}}}
	res := e.ta.Do(t, "PATCH", "/api/v1/notifications/preferences", body, e.bruno.headers)
	if res.Status != 200 {
		t.Fatalf("mute: %d %s", res.Status, res.Body)
	}
	e.send(note(e.bruno, "shop.shipped", map[string]any{"order": 7}))
	e.send(note(e.ada, "shop.shipped", map[string]any{"order": 8}))
	bruno, ada := map[string]int{}, map[string]int{}
	for _, r := range e.outbox(e.org1) {
		if r.UserID == e.bruno.ID {
			bruno[r.Channel]++
		} else {
			ada[r.Channel]++
		}
	}
	if bruno["email"] != 0 || bruno["inapp"] != 1 {
		t.Errorf("muted email still queued: %v", bruno)
	}
	if ada["email"] != 1 {
		t.Errorf("Ada's preferences were changed by Bruno's: %v", ada)
	}
	e.dispatchAll()
	if n := len(e.mailbox(e.org1)); n != 1 {
		t.Errorf("mailbox has %d emails, want Ada's only", n)
	}

	// Muting the in-app channel keeps it out of the inbox.
	if err := e.svc.UpdatePreferences(ctx, e.org1, e.bruno.ID, notify.PreferencesUpdate{Channels: []notify.PrefChange{{Kind: "shop.shipped", Channel: "inapp", Enabled: false}}}); err != nil {
		t.Fatal(err)
	}
	e.send(note(e.bruno, "shop.shipped", map[string]any{"order": 9}))
	items, _, _ := e.svc.List(ctx, e.org1, e.bruno.ID, notify.Page{})
	if len(items) != 1 {
		t.Errorf("inbox with in-app muted has %d items, want the earlier 1", len(items))
	}

	// Security notices cannot be muted: 422 naming the field, nothing saved.
	body = map[string]any{"channels": []map[string]any{
		{"kind": "shop.shipped", "channel": "email", "enabled": true},
		{"kind": "shop.security", "channel": "email", "enabled": false},
	}}
	res = e.ta.Do(t, "PATCH", "/api/v1/notifications/preferences", body, e.bruno.headers)
	if res.Status != 422 || !strings.Contains(res.Body, `"location":"body.channels[1].enabled"`) {
		t.Fatalf("muting an unmutable kind: %d %s", res.Status, res.Body)
	}
	prefs, _ := e.svc.Preferences(ctx, e.org1, e.bruno.ID)
	for _, k := range prefs.Kinds {
		if k.Kind == "shop.shipped" && k.Channels[1].Enabled {
			t.Error("a refused update was partly applied")
		}
	}
	for _, bad := range []map[string]any{
		{"channels": []map[string]any{{"kind": "shop.nope", "channel": "email", "enabled": true}}},
		{"channels": []map[string]any{{"kind": "shop.shipped", "channel": "webhook", "enabled": true}}},
		{"quiet_hours": map[string]any{"start": "25:00", "end": "07:00"}},
	} {
		if res := e.ta.Do(t, "PATCH", "/api/v1/notifications/preferences", bad, e.bruno.headers); res.Status != 422 {
			t.Errorf("bad preferences %v: %d %s", bad, res.Status, res.Body)
		}
	}
	// Integrator tokens have no preferences (nor an inbox).
	tok, err := e.ta.Accounts.CreateToken(ctx, e.ta.Principal(t, e.ta.Login(t, acme, e.ada.Email)),
		accounts.NewToken{Name: "crm", Scopes: []string{"*"}, ExpiresIn: time.Hour}, "")
	if err != nil {
		t.Fatal(err)
	}
	if res := e.ta.Do(t, "GET", "/api/v1/notifications/preferences", nil, portaltest.Bearer(tok.Secret)); res.Status != 403 {
		t.Errorf("an API token read preferences: %d", res.Status)
	}
	// A security notice still goes to email even when a stale preference says no.
	if err := store.Org(e.ta.Store.DB, e.org1).Exec("INSERT INTO notify_preferences (org_id, user_id, kind, channel, enabled) VALUES (?, ?, 'shop.security', 'email', false)",
		e.org1, e.bruno.ID).Error; err != nil {
		t.Fatal(err)
	}
	e.send(note(e.bruno, "shop.security", map[string]any{"what": "new login"}))
	rows := e.outbox(e.org1)
	if last := rows[len(rows)-1]; last.Channel != "email" {
		t.Errorf("security notice email not queued: %+v", last)
	}

	// The preferences page renders in Bruno's language and a form post saves.
	b := e.browser(e.bruno)
	page := b.Get(t, "/notifications/preferences")
	if page.Status != 200 || !strings.Contains(page.Body, `name="pref:shop.shipped:email"`) || !strings.Contains(page.Body, "(sempre inviata)") ||
		!strings.Contains(page.Body, "Preferenze di notifica") || !strings.Contains(page.Body, "Nel portale") {
		t.Fatalf("preferences page: %d %s\n%s", page.Status, page.Body, e.ta.Logs.String())
	}
	form := url.Values{"pref:shop.shipped:email": {"on"}, "pref:shop.shipped:inapp": {"on"}, "quiet_start": {"22:00"}, "quiet_end": {"07:00"}, "digest": {"on"}}
	if post := b.Post(t, "/notifications/preferences", form); post.Status != 303 {
		t.Fatalf("preferences form: %d %s", post.Status, post.Body)
	}
	prefs, _ = e.svc.Preferences(ctx, e.org1, e.bruno.ID)
	if prefs.QuietHours == nil || prefs.QuietHours.Start != "22:00" || !prefs.Digest || prefs.TimeZone != "Europe/Rome" {
		t.Errorf("saved preferences = %+v", prefs)
	}
	// A bad time is a 422 page with the problem in Bruno's language.
	b.Get(t, "/notifications/preferences")
	form.Set("quiet_start", "25:00")
	if post := b.Post(t, "/notifications/preferences", form); post.Status != 422 || !strings.Contains(post.Body, "Inserisci un orario nel formato HH:MM") {
		t.Fatalf("bad time on the form: %d %s", post.Status, post.Body)
	}
}

func TestQuietHoursHoldNonUrgentEmail(t *testing.T) {
	e := newEnv(t, envOpt{clock: true})
	ctx := context.Background()
	if err := e.svc.UpdatePreferences(ctx, e.org1, e.ada.ID, notify.PreferencesUpdate{QuietHours: &notify.QuietHours{Start: "22:00", End: "07:00"}}); err != nil {
		t.Fatal(err)
	}
	rome, _ := time.LoadLocation("Europe/Rome")
	e.clock.Set(time.Date(2025, 3, 10, 23, 30, 0, 0, rome))
	late := e.sendID(note(e.ada, "shop.shipped", map[string]any{"order": "late"}))
	e.send(note(e.ada, "shop.security", map[string]any{"what": "password changed"}))
	var held *notify.OutboxRow
	for _, r := range e.outbox(e.org1) {
		if r.Channel == "email" && r.NotificationID == late {
			held = &r
		}
	}
	want := time.Date(2025, 3, 11, 7, 0, 0, 0, rome)
	if held == nil || !held.NextAttemptAt.Equal(want) {
		t.Fatalf("held email = %+v, want next attempt at %s", held, want)
	}
	e.dispatchAll()
	mails := e.mailbox(e.org1)
	if len(mails) != 1 || !strings.Contains(mails[0].Subject, "Security notice") {
		t.Fatalf("during quiet hours the mailbox has %d emails (want only the urgent one): %+v", len(mails), mails)
	}
	// Dates in e-mails are in the recipient's language and time zone.
	if !strings.Contains(mails[0].Text, "Sent 10 Mar 2025 23:30.") {
		t.Errorf("security notice text = %q", mails[0].Text)
	}
	// In-app is not held.
	if n, _ := e.svc.UnreadCount(ctx, e.org1, e.ada.ID); n != 2 {
		t.Fatalf("unread = %d", n)
	}
	e.clock.Set(want.Add(-time.Minute))
	e.dispatchAll()
	if n := len(e.mailbox(e.org1)); n != 1 {
		t.Fatalf("email left before quiet hours ended")
	}
	e.clock.Set(want.Add(time.Second))
	e.dispatchAll()
	if n := len(e.mailbox(e.org1)); n != 2 {
		t.Fatalf("after quiet hours the mailbox has %d emails, want 2", n)
	}
	// Outside quiet hours email goes at once.
	e.clock.Set(time.Date(2025, 3, 11, 12, 0, 0, 0, rome))
	e.send(note(e.ada, "shop.shipped", map[string]any{"order": "noon"}))
	e.dispatchAll()
	if n := len(e.mailbox(e.org1)); n != 3 {
		t.Fatalf("daytime email: mailbox has %d", n)
	}
}

func TestDailyDigest(t *testing.T) {
	e := newEnv(t, envOpt{clock: true})
	ctx := context.Background()
	on := true
	if err := e.svc.UpdatePreferences(ctx, e.org1, e.bruno.ID, notify.PreferencesUpdate{Digest: &on}); err != nil {
		t.Fatal(err)
	}
	for _, o := range []string{"A", "B", "C"} {
		e.send(note(e.bruno, "shop.shipped", map[string]any{"order": o}))
	}
	e.send(note(e.bruno, "shop.security", map[string]any{"what": "login"}))
	e.dispatchAll()
	mails := e.mailbox(e.org1)
	if len(mails) != 1 || !strings.Contains(mails[0].Subject, "sicurezza") {
		t.Fatalf("before the digest only the urgent email goes: %+v", mails)
	}
	// In Italian and Rome time: 12:00 UTC is 13:00 there in March.
	if !strings.Contains(mails[0].Text, "Inviato il 10 mar 2025 13:00.") {
		t.Errorf("security notice text = %q", mails[0].Text)
	}
	e.clock.Set(e.clock.Now().Add(24 * time.Hour))
	n, err := e.svc.SendDigests(ctx, e.clock.Now())
	if err != nil || n != 1 {
		t.Fatalf("SendDigests = %d, %v", n, err)
	}
	if n, _ := e.svc.SendDigests(ctx, e.clock.Now()); n != 0 {
		t.Fatalf("second SendDigests sent %d", n)
	}
	e.dispatchAll()
	mails = e.mailbox(e.org1)
	if len(mails) != 2 {
		t.Fatalf("mailbox = %d emails, want 2", len(mails))
	}
	d := mails[1]
	if !strings.Contains(d.Subject, "3 notifiche") || !strings.Contains(d.Text, "Ordine A spedito") || !strings.Contains(d.Text, "Ordine C spedito") ||
		!strings.Contains(d.HTML, "<li>Ordine B spedito</li>") {
		t.Fatalf("digest = %q\n%s\n%s", d.Subject, d.Text, d.HTML)
	}
	// The digest email is not itself an inbox entry.
	items, _, _ := e.svc.List(ctx, e.org1, e.bruno.ID, notify.Page{})
	if len(items) != 4 {
		t.Errorf("inbox has %d items, want the 4 notifications", len(items))
	}
}

func itoa(n uint) string { return strconv.FormatUint(uint64(n), 10) }

// Every notification route that takes an ID (mark read, retry a dead
// letter, delete a webhook) passes the authorization matrix: the owner
// reaches their object; another customer of the same organisation, people
// of another organisation, anonymous callers and revoked tokens do not.
func TestAuthorizationMatrix(t *testing.T) {
	ta := portaltest.New(t, []module.Module{shop{}})
	portaltest.AuthorizationMatrix(t, ta)
}

func TestTemplateHelpersFormatValuesThatWentThroughJSON(t *testing.T) {
	cat := i18n.NewCatalog()
	if err := cat.Load(fstest.MapFS{"it.json": {Data: []byte(`{"Loan instalment %d of %d": "Rata %d di %d del prestito"}`)}}); err != nil {
		t.Fatal(err)
	}
	d := notify.TemplateDataFor(map[string]any{"due": "2026-12-01T23:30:00Z", "amount": float64(123456), "text": "Loan instalment 3 of 48"},
		notify.Recipient{Locale: "it-IT", TimeZone: "Europe/Rome"}, cat)
	if got := d.Date(d.Data["due"]); got != "2 dic 2026" {
		t.Errorf("date in the recipient's time zone: %q", got)
	}
	if got := d.Money(d.Data["amount"], "EUR"); got != "1.234,56\u00a0€" {
		t.Errorf("money: %q", got)
	}
	if got := d.T(d.Data["text"].(string)); got != "Rata 3 di 48 del prestito" {
		t.Errorf("translation: %q", got)
	}
}

// A notification about a page of the portal can be followed from the
// inbox (its addresses are links, and "Open" goes to its page), and its
// e-mail carries the same full address.
func TestInboxLinksAreClickable(t *testing.T) {
	e := newEnv(t, envOpt{})
	if !e.send(note(e.ada, "shop.shipped", map[string]any{"order": "B-2", "link": "/m/shop/orders/B-2"})) {
		t.Fatal("not sent")
	}
	e.send(note(e.ada, "shop.shipped", map[string]any{"order": "B-3", "link": "//evil.example/x"}))
	page := e.browser(e.ada).Get(t, "/notifications")
	full := "http://portal.test/m/shop/orders/B-2"
	if !strings.Contains(page.Body, `<a href="`+full+`">`+full+`</a>`) || !strings.Contains(page.Body, `<a class="button" href="/m/shop/orders/B-2">Open</a>`) {
		t.Fatalf("inbox without links: %s", page.Body)
	}
	if strings.Contains(page.Body, `href="//evil.example/x"`) {
		t.Fatal("a link to another site became an Open button")
	}
	e.dispatchAll()
	found := false
	for _, m := range e.mailbox(e.org1) {
		found = found || strings.Contains(m.Text, "Track it: "+full)
	}
	if !found {
		t.Fatalf("no e-mail with %s: %+v", full, e.mailbox(e.org1))
	}
}

// TestInboxFollowsTheReadersLanguage: a notification sent while Ada read
// the portal in English reads in Italian, in the inbox page and the API,
// once she switched to Italian — rendered again from its data when shown,
// while the text stored at sending stays as it was.
func TestInboxFollowsTheReadersLanguage(t *testing.T) {
	e := newEnv(t, envOpt{})
	ctx := context.Background()
	id := e.sendID(note(e.ada, "shop.shipped", map[string]any{"order": "A-1"}))
	var list struct{ Items []notify.Record }
	e.ta.Do(t, "GET", "/api/v1/notifications", nil, e.ada.headers).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].Title != "Order A-1 shipped" {
		t.Fatalf("English inbox: %+v", list.Items)
	}
	it := "it"
	token := strings.TrimPrefix(e.ada.headers["Authorization"], "Bearer ")
	if _, err := e.ta.Accounts.UpdateProfile(ctx, e.ta.Principal(t, token), accounts.Profile{Locale: &it}); err != nil {
		t.Fatal(err)
	}
	list.Items = nil
	e.ta.Do(t, "GET", "/api/v1/notifications", nil, e.ada.headers).JSON(t, &list)
	if len(list.Items) != 1 || list.Items[0].Title != "Ordine A-1 spedito" || !strings.HasPrefix(list.Items[0].Body, "Ciao ada, Ordine A-1 spedito") {
		t.Fatalf("after switching to Italian, the API gives %+v", list.Items)
	}
	page := e.browser(e.ada).Get(t, "/notifications")
	if page.Status != 200 || !strings.Contains(page.Body, `lang="it">Ordine A-1 spedito`) || strings.Contains(page.Body, "Order A-1 shipped") {
		t.Fatalf("after switching to Italian, the inbox page: %d %s", page.Status, page.Body)
	}
	var stored notify.Record
	if err := store.Org(e.ta.Store.DB, e.org1).Where("id = ?", id).Take(&stored).Error; err != nil {
		t.Fatal(err)
	}
	if stored.Title != "Order A-1 shipped" {
		t.Fatalf("stored title changed to %q", stored.Title)
	}
}
