package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// Result says what Send did with one notification.
type Result struct {
	// ID is the notification's ID (0 when it was a duplicate).
	ID uint
	// New is false when a notification with the same dedupe key existed.
	New bool
}

// MaxAttachmentBytes bounds the attachments of one notification.
const MaxAttachmentBytes = 10 << 20

// sendChunk bounds the rows of one multi-row INSERT.
const sendChunk = 400

// Send writes n — the in-app notification and one outbox row per enabled
// channel — inside tx, the caller's transaction, so it commits or rolls back
// with the caller's own writes. It returns false, and no error, when a
// notification with the same dedupe key was already sent to the user.
func (s *Service) Send(ctx context.Context, tx *gorm.DB, n Notification) (bool, error) {
	res, err := s.SendMany(ctx, tx, []Notification{n})
	if err != nil {
		return false, err
	}
	return res[0].New, nil
}

// SendMany is Send for many notifications in a few set-based statements:
// what a job walking customers in chunks calls once per chunk.
func (s *Service) SendMany(ctx context.Context, tx *gorm.DB, ns []Notification) ([]Result, error) {
	if tx == nil {
		return nil, fmt.Errorf("notify: Send needs the caller's transaction")
	}
	tx = tx.WithContext(ctx)
	now := s.now().UTC()
	kinds := make([]*kindEntry, len(ns))
	datas := make([]string, len(ns))
	keys := make([]string, len(ns))
	for i, n := range ns {
		field := func(f string) string {
			if len(ns) == 1 {
				return f
			}
			return fmt.Sprintf("[%d].%s", i, f)
		}
		if n.OrgID == 0 {
			return nil, errs.InvalidField(field("org_id"), "is required")
		}
		if n.UserID == 0 {
			return nil, errs.InvalidField(field("user_id"), "is required")
		}
		k, ok := s.kind(n.Kind)
		if !ok {
			return nil, errs.InvalidField(field("kind"), fmt.Sprintf("%q is not a declared notification kind", n.Kind))
		}
		kinds[i] = k
		d := n.Data
		if d == nil {
			d = map[string]any{}
		}
		b, err := json.Marshal(d)
		if err != nil {
			return nil, errs.InvalidField(field("data"), "must be JSON-serialisable")
		}
		datas[i] = string(b)
		size := 0
		for j, a := range n.Attachments {
			if strings.TrimSpace(a.Name) == "" || strings.ContainsAny(a.Name, "/\\\r\n\"") {
				return nil, errs.InvalidField(field(fmt.Sprintf("attachments[%d].name", j)), "must be a plain file name")
			}
			size += len(a.Content)
		}
		if size > MaxAttachmentBytes {
			return nil, errs.InvalidField(field("attachments"), fmt.Sprintf("total size over %d bytes", MaxAttachmentBytes))
		}
		keys[i] = n.DedupeKey
		if keys[i] == "" {
			keys[i] = "auto:" + randomKey()
		}
		if len(keys[i]) > 200 {
			return nil, errs.InvalidField(field("dedupe_key"), "longer than 200 characters")
		}
	}

	env, err := s.loadSendEnv(ctx, tx, ns, kinds)
	if err != nil {
		return nil, err
	}

	type planned struct {
		rec      Record
		channels []string
		emailAt  time.Time
	}
	plans := make([]planned, len(ns))
	for i, n := range ns {
		k := kinds[i]
		u := userKey{n.OrgID, n.UserID}
		rcp := env.recipients[u]
		set := env.settings[u]
		on := s.enabledChannels(k, env.prefs[u])
		p := planned{emailAt: now}
		p.rec = Record{UserID: n.UserID, Kind: k.ID, Data: datas[i], DedupeKey: keys[i], Urgent: k.Urgent, CreatedAt: now}
		p.rec.OrgID = n.OrgID
		msg, err := k.render(TemplateData{Data: n.Data, Recipient: rcp, BaseURL: s.base, Notification: &p.rec, catalog: s.catalog}, false)
		if err != nil {
			return nil, err
		}
		p.rec.Title, p.rec.Body, p.rec.Locale = truncate(msg.Subject, 300), msg.Text, msg.Locale
		for _, ch := range on {
			switch {
			case ch == ChannelInApp:
				p.rec.InApp = true
			case ch == ChannelEmail && !k.Urgent && set.Digest && k.ID != KindDigest:
				p.rec.Digest = "pending"
				continue
			case ch == ChannelEmail && !k.Urgent:
				if end, quiet := quietEnd(now, rcp.TimeZone, set.QuietStart, set.QuietEnd); quiet {
					p.emailAt = end
				}
			}
			p.channels = append(p.channels, ch)
		}
		plans[i] = p
	}

	results := make([]Result, len(ns))
	inserted := map[userDedupe]uint{}
	for start := 0; start < len(plans); start += sendChunk {
		end := min(start+sendChunk, len(plans))
		args := make([]any, 0, (end-start)*12)
		for i := start; i < end; i++ {
			r := plans[i].rec
			args = append(args, r.OrgID, r.UserID, r.Kind, r.Data, r.Title, r.Body, r.Locale, r.DedupeKey, r.Urgent, r.InApp, r.Digest, r.CreatedAt)
		}
		rows, err := tx.Raw(store.MultiRow(`INSERT INTO notify_notifications (org_id, user_id, kind, data, title, body, locale, dedupe_key, urgent, in_app, digest, created_at) VALUES `,
			end-start, 12, ` ON CONFLICT (org_id, user_id, dedupe_key) DO NOTHING RETURNING id, org_id, user_id, dedupe_key`), args...).Rows()
		if err != nil {
			return nil, fmt.Errorf("notify: insert notifications: %w", err)
		}
		for rows.Next() {
			var id, org, user uint
			var key string
			if err := rows.Scan(&id, &org, &user, &key); err != nil {
				rows.Close()
				return nil, err
			}
			inserted[userDedupe{userKey{org, user}, key}] = id
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}

	var outbox []OutboxRow
	var files []attachmentRow
	var shown []Record // new in-app notifications: pushed live on commit
	for i, p := range plans {
		id, ok := inserted[userDedupe{userKey{p.rec.OrgID, p.rec.UserID}, p.rec.DedupeKey}]
		if !ok {
			continue // a duplicate: sent before, or twice in this batch
		}
		delete(inserted, userDedupe{userKey{p.rec.OrgID, p.rec.UserID}, p.rec.DedupeKey})
		results[i] = Result{ID: id, New: true}
		if p.rec.InApp {
			r := p.rec
			r.ID = id
			shown = append(shown, r)
		}
		for _, ch := range p.channels {
			at := now
			if ch == ChannelEmail {
				at = p.emailAt
			}
			outbox = append(outbox, s.outboxRow(p.rec.OrgID, id, p.rec.UserID, ch, 0, at))
		}
		for _, h := range env.webhooks[p.rec.OrgID] {
			if h.wants(p.rec.Kind) {
				outbox = append(outbox, s.outboxRow(p.rec.OrgID, id, p.rec.UserID, ChannelWebhook, h.ID, now))
			}
		}
		for _, a := range ns[i].Attachments {
			ct := a.ContentType
			if ct == "" {
				ct = "application/octet-stream"
			}
			f := attachmentRow{NotificationID: id, Name: a.Name, ContentType: ct, Content: a.Content}
			f.OrgID = p.rec.OrgID
			files = append(files, f)
		}
	}
	if err := insertOutbox(tx, outbox); err != nil {
		return nil, fmt.Errorf("notify: insert outbox: %w", err)
	}
	if len(files) > 0 {
		if err := tx.Create(&files).Error; err != nil {
			return nil, fmt.Errorf("notify: insert attachments: %w", err)
		}
	}
	// Last: the live positions stay locked until the caller's transaction
	// ends.
	if err := s.pushNew(ctx, tx, shown); err != nil {
		return nil, fmt.Errorf("notify: live push: %w", err)
	}
	return results, nil
}

// insertOutbox writes rows with multi-row INSERTs of sendChunk rows: a
// fan-out's chunk writes thousands, which GORM's CreateInBatches walked by
// reflection row by row (the largest statement time of a recall chunk).
// The rows' IDs are not read back; nothing in a send needs them.
func insertOutbox(tx *gorm.DB, rows []OutboxRow) error {
	const cols = 11
	for start := 0; start < len(rows); start += sendChunk {
		end := min(start+sendChunk, len(rows))
		args := make([]any, 0, (end-start)*cols)
		for i := start; i < end; i++ {
			r := &rows[i]
			args = append(args, r.OrgID, r.NotificationID, r.UserID, r.Channel, r.EndpointID, r.Key, r.Status, r.Attempts, r.NextAttemptAt, r.LastError, r.CreatedAt)
		}
		if err := tx.Exec(store.MultiRow(`INSERT INTO notify_outbox (org_id, notification_id, user_id, channel, endpoint_id, "key", status, attempts, next_attempt_at, last_error, created_at) VALUES `,
			end-start, cols, ""), args...).Error; err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) outboxRow(org, notification, user uint, ch string, endpoint uint, at time.Time) OutboxRow {
	r := OutboxRow{NotificationID: notification, UserID: user, Channel: ch, EndpointID: endpoint,
		Key: randomKey(), Status: StatusPending, NextAttemptAt: at, CreatedAt: s.now().UTC()}
	r.OrgID = org
	return r
}

type userKey struct{ org, user uint }

// resolveRecipients fills recipients for every user of byOrg: in chunks
// when the directory resolves in bulk, one by one otherwise.
func resolveRecipients(ctx context.Context, tx *gorm.DB, dir Directory, byOrg map[uint][]uint, into map[userKey]Recipient) error {
	bulk, isBulk := dir.(BulkDirectory)
	for org, users := range byOrg {
		if !isBulk {
			for _, id := range users {
				r, err := dir.Recipient(ctx, tx, org, id)
				if err != nil {
					return fmt.Errorf("notify: recipient %d of org %d: %w", id, org, err)
				}
				into[userKey{org, id}] = r
			}
			continue
		}
		for start := 0; start < len(users); start += 1000 {
			part := users[start:min(start+1000, len(users))]
			found, err := bulk.Recipients(ctx, tx, org, part)
			if err != nil {
				return fmt.Errorf("notify: recipients of org %d: %w", org, err)
			}
			for _, id := range part {
				r, ok := found[id]
				if !ok {
					return fmt.Errorf("notify: recipient %d of org %d: %w", id, org, ErrNoRecipient)
				}
				into[userKey{org, id}] = r
			}
		}
	}
	return nil
}

type userDedupe struct {
	userKey
	key string
}

// sendEnv is everything Send reads besides its input, loaded set-wise.
type sendEnv struct {
	recipients map[userKey]Recipient
	prefs      map[userKey]map[string]map[string]bool // kind -> channel -> enabled
	settings   map[userKey]settings
	webhooks   map[uint][]Webhook
}

func (s *Service) loadSendEnv(ctx context.Context, tx *gorm.DB, ns []Notification, kinds []*kindEntry) (*sendEnv, error) {
	env := &sendEnv{
		recipients: map[userKey]Recipient{},
		prefs:      map[userKey]map[string]map[string]bool{},
		settings:   map[userKey]settings{},
		webhooks:   map[uint][]Webhook{},
	}
	dir, err := s.directory()
	if err != nil {
		return nil, err
	}
	byOrg := map[uint][]uint{}
	kindIDs := map[string]bool{}
	seen := map[userKey]bool{}
	for i, n := range ns {
		u := userKey{n.OrgID, n.UserID}
		kindIDs[kinds[i].ID] = true
		if !seen[u] {
			seen[u] = true
			byOrg[n.OrgID] = append(byOrg[n.OrgID], n.UserID)
		}
	}
	if err := resolveRecipients(ctx, tx, dir, byOrg, env.recipients); err != nil {
		return nil, err
	}
	kl := make([]string, 0, len(kindIDs))
	for k := range kindIDs {
		kl = append(kl, k)
	}
	for org, users := range byOrg {
		db := store.Org(tx, org)
		for start := 0; start < len(users); start += 500 {
			part := users[start:min(start+500, len(users))]
			var ps []preference
			if err := db.Where("user_id IN ? AND kind IN ?", part, kl).Find(&ps).Error; err != nil {
				return nil, err
			}
			for _, p := range ps {
				u := userKey{org, p.UserID}
				if env.prefs[u] == nil {
					env.prefs[u] = map[string]map[string]bool{}
				}
				if env.prefs[u][p.Kind] == nil {
					env.prefs[u][p.Kind] = map[string]bool{}
				}
				env.prefs[u][p.Kind][p.Channel] = p.Enabled
			}
			var ss []settings
			if err := db.Where("user_id IN ?", part).Find(&ss).Error; err != nil {
				return nil, err
			}
			for _, st := range ss {
				env.settings[userKey{org, st.UserID}] = st
			}
		}
		var hooks []Webhook
		if err := db.Where("active = ?", true).Order("id").Find(&hooks).Error; err != nil {
			return nil, err
		}
		env.webhooks[org] = hooks
	}
	return env, nil
}

// enabledChannels returns the user channels a notification of k goes to,
// given the user's preferences (ignored for kinds that may not be muted).
func (s *Service) enabledChannels(k *kindEntry, prefs map[string]map[string]bool) []string {
	var out []string
	for _, ch := range s.userChannels() {
		on := contains(k.DefaultChannels, ch)
		if k.Mutable {
			if v, ok := prefs[k.ID][ch]; ok {
				on = v
			}
		}
		if on {
			out = append(out, ch)
		}
	}
	return out
}

func (h Webhook) wants(kind string) bool {
	if strings.TrimSpace(h.Kinds) == "" {
		return true
	}
	for _, k := range strings.Split(h.Kinds, ",") {
		if strings.TrimSpace(k) == kind {
			return true
		}
	}
	return false
}

var zones sync.Map // name -> *time.Location

func location(name string) *time.Location {
	if name == "" {
		return time.UTC
	}
	if l, ok := zones.Load(name); ok {
		return l.(*time.Location)
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		l = time.UTC
	}
	zones.Store(name, l)
	return l
}

// quietEnd reports whether now falls in the quiet hours [start, end) —
// minutes after local midnight in zone tz, possibly crossing midnight — and
// when they end.
func quietEnd(now time.Time, tz string, start, end int) (time.Time, bool) {
	if start == end {
		return time.Time{}, false
	}
	loc := location(tz)
	l := now.In(loc)
	m := l.Hour()*60 + l.Minute()
	at := func(dayOffset int) time.Time {
		return time.Date(l.Year(), l.Month(), l.Day()+dayOffset, end/60, end%60, 0, 0, loc).UTC()
	}
	if start < end {
		if m >= start && m < end {
			return at(0), true
		}
		return time.Time{}, false
	}
	switch {
	case m >= start:
		return at(1), true
	case m < end:
		return at(0), true
	}
	return time.Time{}, false
}

func randomKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8Start(s[n]) {
		n--
	}
	return s[:n]
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }
