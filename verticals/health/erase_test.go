package health_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/experience/drafts"
	"github.com/portalkit/portalkit/core/experience/feedback"
	"github.com/portalkit/portalkit/core/experience/help"
	"github.com/portalkit/portalkit/core/experience/messages"
	"github.com/portalkit/portalkit/core/experience/quiz"
	"github.com/portalkit/portalkit/core/experience/timeline"
	"github.com/portalkit/portalkit/core/idempotency"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/health"
)

// where is one personal-data check: rows of table in the person's
// organisation matching cond.
type where struct {
	table, cond string
	args        []any
}

// person is one customer given data in every service that erases.
type person struct {
	org    *accounts.Org
	user   *accounts.User
	checks []where
}

// seed gives p a row in every table the erasure covers and records how to
// find each again.
func seed(t *testing.T, db *gorm.DB, p *person, staffID uint) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	org, uid := p.org.ID, p.user.ID
	tag := strconv.FormatUint(uint64(uid), 10)
	q := func() *gorm.DB { return store.Org(db.WithContext(ctx), org) }
	create := func(v any) {
		t.Helper()
		if err := q().Create(v).Error; err != nil {
			t.Fatalf("seeding %T: %v", v, err)
		}
	}
	row := func(table string, m map[string]any) {
		t.Helper()
		m["org_id"] = org
		if err := q().Table(table).Create(m).Error; err != nil {
			t.Fatalf("seeding %s: %v", table, err)
		}
	}
	by := func(table, col string, v any) { p.checks = append(p.checks, where{table, col + " = ?", []any{v}}) }

	// notify
	n := &notify.Record{UserID: uid, Kind: "health.vital_alert", Data: "{}", Title: "Hello " + p.user.Name, Body: p.user.Name + ", your reading", DedupeKey: "k" + tag, InApp: true, CreatedAt: now}
	create(n)
	create(&notify.OutboxRow{NotificationID: n.ID, UserID: uid, Channel: "email", Key: "out-" + tag, Status: notify.StatusPending, NextAttemptAt: now, CreatedAt: now})
	row("notify_attachments", map[string]any{"notification_id": n.ID, "name": "a.pdf", "content_type": "application/pdf", "content": []byte("x")})
	row("notify_preferences", map[string]any{"user_id": uid, "kind": "health.vital_alert", "channel": "email", "enabled": false})
	row("notify_settings", map[string]any{"user_id": uid, "quiet_start": 0, "quiet_end": 60, "digest": true, "updated_at": now})
	create(&notify.MailboxMessage{MessageID: "m-" + tag, To: fmt.Sprintf("%q <%s>", p.user.Name, p.user.Email), Subject: "Hi", Text: "Hi " + p.user.Name, CreatedAt: now})
	by("notify_notifications", "user_id", uid)
	by("notify_outbox", "user_id", uid)
	by("notify_attachments", "notification_id", n.ID)
	by("notify_preferences", "user_id", uid)
	by("notify_settings", "user_id", uid)
	by("notify_mailbox", "message_id", "m-"+tag)
	// live
	row("live_events", map[string]any{"user_id": uid, "seq": 1, "type": "notify", "data": "{}", "created_at": now})
	row("live_cursors", map[string]any{"user_id": uid, "seq": 1})
	by("live_events", "user_id", uid)
	by("live_cursors", "user_id", uid)
	// drafts, dashboard, help, idempotency
	create(&drafts.Draft{UserID: uid, Key: "health.note", Data: `{"text":"my symptoms"}`, Size: 10, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(time.Hour)})
	by("drafts_forms", "user_id", uid)
	row("dashboard_layouts", map[string]any{"user_id": uid, "order_ids": "a,b", "hidden_ids": "", "updated_at": now})
	by("dashboard_layouts", "user_id", uid)
	create(&help.Vote{ArticleID: 1, UserID: uid, Helpful: true})
	by("help_votes", "user_id", uid)
	create(&idempotency.Key{Caller: "u:" + tag, Key: "idem-" + tag, Operation: "op", Fingerprint: "f", Status: 200, LockedAt: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
	by("idempotency_keys", "caller", "u:"+tag)
	// timeline
	create(&timeline.Entry{CustomerID: uid, Event: "health.x", Module: "health", Summary: "Saw %s", Args: `["` + p.user.Name + `"]`, At: now})
	by("timeline_entries", "customer_id", uid)
	// feedback: one answered, one waiting, the throttle
	score := 9
	create(&feedback.Prompt{CustomerID: uid, StepID: "core.portal", Module: "core", Kind: feedback.NPS, SubjectRef: "visit:1", Status: feedback.StatusAnswered, Score: &score, Comment: "Dr was kind to " + p.user.Name, CreatedAt: now, AnsweredAt: &now})
	create(&feedback.Prompt{CustomerID: uid, StepID: "core.portal", Module: "core", Kind: feedback.NPS, SubjectRef: "visit:2", Status: "pending", CreatedAt: now})
	row("feedback_gates", map[string]any{"customer_id": uid, "prompt_id": 0, "version": 0})
	by("feedback_prompts", "customer_id", uid)
	by("feedback_gates", "customer_id", uid)
	// messages
	c := &messages.Conversation{CustomerID: uid, StaffID: staffID, Subject: "About my pills", LastMessageAt: now, CreatedBy: uid}
	create(c)
	m := &messages.Message{ConversationID: c.ID, SenderID: uid, SenderRole: "customer", Body: "I am " + p.user.Name, CreatedAt: now}
	create(m)
	create(&messages.Attachment{ConversationID: c.ID, MessageID: m.ID, Name: "scan.png", ContentType: "image/png", Size: 1, SHA256: "x", BlobKey: "blob-" + tag})
	create(&messages.Read{ConversationID: c.ID, UserID: uid, LastReadMessageID: m.ID, ReadAt: now})
	create(&messages.ResponseTime{ConversationID: c.ID, StaffID: staffID, CustomerID: uid, AskedAt: now, AnsweredAt: now, Seconds: 60})
	by("messages_conversations", "customer_id", uid)
	by("messages_messages", "conversation_id", c.ID)
	by("messages_attachments", "conversation_id", c.ID)
	by("messages_reads", "conversation_id", c.ID)
	by("messages_response_times", "customer_id", uid)
	// devices
	dev := "dev" + tag
	v := 72.0
	create(&devices.Device{ID: dev, OrgSlug: p.org.Slug, OwnerID: uid, Module: "health", Name: "Watch", SecretHash: "x"})
	create(&devices.Reading{DeviceID: dev, Key: "r1", Module: "health", Stream: "watch", TS: now, ReceivedAt: now, Value: &v, Payload: "{}"})
	create(&devices.Rollup{DeviceID: dev, Stream: "watch", Hour: now.Truncate(time.Hour), Module: "health", Count: 1, Sum: v})
	create(&devices.Command{DeviceID: dev, Name: "sync", At: now})
	create(&devices.Reject{DeviceID: dev, Reason: "test", At: now})
	by("devices", "owner_id", uid)
	for _, tb := range []string{"device_readings", "device_rollups", "device_commands", "device_rejects"} {
		by(tb, "device_id", dev)
	}
	// quiz
	a := &quiz.Attempt{UserID: uid, QuizKey: "health.q", Number: 1, Items: "[]", Status: "submitted", StartedAt: now}
	create(a)
	create(&quiz.Response{AttemptID: a.ID, UserID: uid, QuizKey: "health.q", Number: 1, Position: 1, ItemID: "i", At: now})
	by("quiz_attempts", "user_id", uid)
	by("quiz_responses", "user_id", uid)
	// health
	visit := &health.Visit{PatientID: uid, ClinicianID: staffID, On: now, Notes: "n", PrivateNotes: "p"}
	create(visit)
	create(&health.Goal{PatientID: uid, VisitID: visit.ID, SetBy: staffID, Measure: "steps", Code: "55423-8", StartOn: now, DueOn: now, Achievement: "in-progress", AchievementSince: now})
	rx := &health.Prescription{PatientID: uid, PrescriberID: staffID, Medicine: "Ramipril", Dose: "5 mg", Times: "08:00", StartOn: now}
	create(rx)
	create(&health.Dose{PrescriptionID: rx.ID, PatientID: uid, DueAt: now, Day: now, Status: health.DoseDue})
	create(&health.Observation{PatientID: uid, Code: "8867-4", At: now, Value: v, Unit: "/min", Source: health.SourceDevice, DeviceID: dev})
	create(&health.Alert{PatientID: uid, Code: "8867-4", Flag: "H", OpenedAt: now, LastAt: now})
	team := &health.Team{Name: "Team " + tag}
	create(team)
	create(&health.PatientTeam{PatientID: uid, TeamID: team.ID, Link: health.LinkShared})
	create(&health.BreakGlass{PatientID: uid, StaffID: staffID, Reason: "unconscious", OpenedAt: now, ExpiresAt: now.Add(time.Hour)})
	create(&health.AccessEntry{PatientID: uid, At: now, ActorID: staffID, ActorName: "Dr", ActorRole: "staff", What: "vitals", Via: health.ViaBreakGlass, Why: "unconscious"})
	create(&health.Meal{PatientID: uid, At: now, Text: "Risotto"})
	create(&health.ExerciseSession{PatientID: uid, At: now, Type: "walking", Minutes: 30, Intensity: "moderate"})
	for _, tb := range []string{"health_meals", "health_exercise", "health_visits", "health_goals", "health_prescriptions", "health_doses", "health_observations",
		"health_alerts", "health_patient_teams", "health_break_glass", "health_access_log"} {
		by(tb, "patient_id", uid)
	}
	// accounts: their sessions
	by("accounts_sessions", "user_id", uid)
}

func count(t *testing.T, db *gorm.DB, org uint, w where) int64 {
	t.Helper()
	var n int64
	if err := store.Org(db, org).Table(w.table).Where(w.cond, w.args...).Count(&n).Error; err != nil {
		t.Fatalf("counting %s: %v", w.table, err)
	}
	return n
}

func counts(t *testing.T, db *gorm.DB, p *person) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, w := range p.checks {
		out[w.table+" "+w.cond] = count(t, db, p.org.ID, w)
	}
	return out
}

// erasureSetup builds three customers with data everywhere: ann (who
// closes her account) and bob in acme, cat in other.
func erasureSetup(t *testing.T) (*portaltest.TestApp, *person, *person, *person, time.Time) {
	ta := portaltest.New(t, []module.Module{&health.Module{}})
	db := ta.App.Store.DB
	ann := &person{org: ta.Org(t, "acme"), user: ta.User(t, "acme", "ann@acme.example", accounts.Customer)}
	bob := &person{org: ann.org, user: ta.User(t, "acme", "bob@acme.example", accounts.Customer)}
	cat := &person{org: ta.Org(t, "other"), user: ta.User(t, "other", "cat@other.example", accounts.Customer)}
	staff := ta.User(t, "acme", "doc@acme.example", accounts.Staff)
	for _, p := range []*person{ann, bob, cat} {
		seed(t, db, p, staff.ID)
		ta.Login(t, p.org.Slug, p.user.Email)
	}
	now := time.Now().UTC()
	for _, p := range []*person{ann, bob, cat} {
		for k, n := range counts(t, db, p) {
			if n == 0 && !(p == ann && k == "accounts_sessions user_id = ?") {
				t.Fatalf("%s has no row in %s before the purge", p.user.Email, k)
			}
		}
	}
	tok := ta.Login(t, "acme", ann.user.Email)
	if r := ta.Do(t, "POST", "/api/v1/me/deletion", map[string]any{"password": portaltest.Password}, portaltest.Bearer(tok)); r.Status != 202 {
		t.Fatalf("deletion request: %d %s", r.Status, r.Body)
	}
	return ta, ann, bob, cat, now.Add(time.Duration(ann.org.RetentionDays+1) * 24 * time.Hour)
}

// TestErasureOnAccountClosure: when a closed account is purged, every core
// service and the health module delete the person's data in the purge's
// transaction, and nobody else's.
func TestErasureOnAccountClosure(t *testing.T) {
	ta, ann, bob, cat, later := erasureSetup(t)
	db := ta.App.Store.DB
	bobBefore, catBefore := counts(t, db, bob), counts(t, db, cat)
	n, err := ta.Accounts.PurgeDeleted(context.Background(), later)
	if err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	for k, n := range counts(t, db, ann) {
		if n != 0 {
			t.Errorf("%d rows of the deleted person left in %s", n, k)
		}
	}
	for _, x := range []struct {
		p      *person
		before map[string]int64
	}{{bob, bobBefore}, {cat, catBefore}} {
		for k, n := range counts(t, db, x.p) {
			if n != x.before[k] {
				t.Errorf("%s: %s has %d rows, had %d", x.p.user.Email, k, n, x.before[k])
			}
		}
	}
	// The answered NPS score stays for the figures, with nothing that
	// leads back to her.
	var kept []feedback.Prompt
	store.Org(db, ann.org.ID).Where("customer_id = 0").Find(&kept)
	if len(kept) != 1 || kept[0].Comment != "" || kept[0].Score == nil || *kept[0].Score != 9 || kept[0].SubjectRef == "visit:1" {
		t.Errorf("anonymised feedback: %+v", kept)
	}
	var rt int64
	store.Org(db, ann.org.ID).Model(&messages.ResponseTime{}).Where("customer_id = 0").Count(&rt)
	if rt != 1 {
		t.Errorf("response time kept anonymised: %d", rt)
	}
}

// TestErasureFailureRollsBackThePurge: a handler's error leaves the
// account and all its data as they were, to be purged on the next run.
func TestErasureFailureRollsBackThePurge(t *testing.T) {
	ta, ann, _, _, later := erasureSetup(t)
	db := ta.App.Store.DB
	before := counts(t, db, ann)
	fail := true
	ta.App.Events.Subscribe(accounts.EventUserDeleted, func(context.Context, events.Event) error {
		if fail {
			return errors.New("disk on fire")
		}
		return nil
	})
	if n, err := ta.Accounts.PurgeDeleted(context.Background(), later); err == nil || n != 0 {
		t.Fatalf("purge with a failing handler: %d %v", n, err)
	}
	for k, n := range counts(t, db, ann) {
		if n != before[k] {
			t.Errorf("%s: %d rows, had %d: the purge was half done", k, n, before[k])
		}
	}
	u, err := ta.Accounts.UserByID(context.Background(), ann.org.ID, ann.user.ID)
	if err != nil || u.Email != ann.user.Email {
		t.Fatalf("account anonymised although the purge failed: %+v %v", u, err)
	}
	fail = false
	if n, err := ta.Accounts.PurgeDeleted(context.Background(), later); err != nil || n != 1 {
		t.Fatalf("purge once the handler works: %d %v", n, err)
	}
	for k, n := range counts(t, db, ann) {
		if n != 0 {
			t.Errorf("%d rows of the deleted person left in %s", n, k)
		}
	}
}
