package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/stop"
	"github.com/portalkit/portalkit/core/store"
)

// The Service is the app's background runner for notifications: Start
// starts the dispatcher workers; Stop ends them after their in-flight batch.

// Name implements app.Runner.
func (s *Service) Name() string { return "notify" }

type runState struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start implements app.Runner.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.run != nil {
		s.mu.Unlock()
		return errors.New("notify: already started")
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	rs := &runState{cancel: cancel}
	s.run = rs
	for i := 0; i < s.cfg.Workers; i++ {
		rs.wg.Add(1)
		go func(i int) {
			defer rs.wg.Done()
			s.work(ctx, i)
		}(i)
	}
	s.mu.Unlock()
	return nil
}

// Stop implements app.Runner: it lets each worker finish its batch, and returns when all have ended or ctx does.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	rs := s.run
	s.run = nil
	s.mu.Unlock()
	if rs == nil {
		return nil
	}
	rs.cancel()
	if err := stop.Wait(ctx, &rs.wg); err != nil {
		return fmt.Errorf("notify: workers did not stop: %w", err)
	}
	return nil
}

// Kick wakes an idle worker now instead of at its next poll.
func (s *Service) Kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// dispatchErrEvery is how often, at most, a failing dispatcher logs.
const dispatchErrEvery = 30 * time.Second

// dispatchFailed logs a failed poll of the outbox at most once every
// dispatchErrEvery (a database outage made every worker log several times
// a second), with the number of failures the line stands for: a warning
// while the database does not answer, an error otherwise.
func (s *Service) dispatchFailed(log *slog.Logger, err error) {
	s.dispatchFails.Add(1)
	s.dispatchErrs.Do(func() {
		level := slog.LevelError
		if store.IsUnavailable(err) {
			level = slog.LevelWarn
		}
		log.Log(context.Background(), level, "dispatch failed", "err", err, "failures", s.dispatchFails.Swap(0),
			"next_report_in", dispatchErrEvery)
	})
}

func (s *Service) work(ctx context.Context, i int) {
	log := s.log.With("worker", i)
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		n, err := s.DispatchOnce(ctx)
		if err != nil && ctx.Err() == nil {
			s.dispatchFailed(log, err)
		}
		if n > 0 && err == nil {
			continue // more may be due; poll again at once
		}
		timer.Reset(s.cfg.PollInterval)
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-timer.C:
		case <-prune.C:
			if i == 0 {
				if _, err := s.Prune(ctx); err != nil && ctx.Err() == nil {
					log.Warn("pruning delivered outbox rows failed", "err", err)
				}
			}
		}
	}
}

// claimed is an outbox row a worker holds.
type claimed struct {
	ID             uint
	OrgID          uint
	NotificationID uint
	UserID         uint
	Channel        string
	EndpointID     uint
	Key            string
	Attempts       int
}

// DispatchOnce claims one batch of due outbox rows, delivers them and
// records the outcome. It returns how many rows it claimed. Workers call it
// in a loop; tests call it to deliver deterministically.
func (s *Service) DispatchOnce(ctx context.Context) (int, error) {
	rows, err := s.claim(ctx)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	started := time.Now()
	results := s.deliver(ctx, rows)
	return len(rows), s.record(context.WithoutCancel(ctx), rows, results, started)
}

// claim takes up to batch_size due rows and hides them from other workers
// for the lease (next_attempt_at moves to the lease's end; a worker that
// dies leaves them to be claimed again then). The attempt is counted now,
// so a row that crashes its worker every time still ends as a dead letter.
func (s *Service) claim(ctx context.Context) ([]claimed, error) {
	now := s.now().UTC()
	lock := ""
	if s.st.Dialect == store.Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	q := `UPDATE notify_outbox SET next_attempt_at = ?, attempts = attempts + 1, claimed_by = ?
WHERE id IN (SELECT id FROM notify_outbox WHERE status = 'pending' AND next_attempt_at <= ?
ORDER BY next_attempt_at, id LIMIT ?` + lock + `)
RETURNING id, org_id, notification_id, user_id, channel, endpoint_id, "key", attempts`
	var out []claimed
	err := s.st.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return tx.Raw(q, now.Add(s.cfg.Lease), s.inst, now, s.cfg.BatchSize).Scan(&out).Error
	})
	return out, err
}

// deliver renders and delivers claimed rows, grouped by channel; it
// returns one error (or nil) per row.
func (s *Service) deliver(ctx context.Context, rows []claimed) []error {
	results := make([]error, len(rows))
	ids := make([]uint, 0, len(rows))
	var mailIDs []uint
	for _, r := range rows {
		ids = append(ids, r.NotificationID)
		if r.Channel == ChannelEmail {
			mailIDs = append(mailIDs, r.NotificationID)
		}
	}
	db := store.AllOrgs(s.st.DB.WithContext(ctx)) // the dispatcher serves every organisation
	var recs []Record
	if err := db.Where("id IN ?", ids).Find(&recs).Error; err != nil {
		for i := range results {
			results[i] = err
		}
		return results
	}
	byID := make(map[uint]*Record, len(recs))
	for i := range recs {
		byID[recs[i].ID] = &recs[i]
	}
	files := map[uint][]Attachment{}
	if len(mailIDs) > 0 {
		var fs []attachmentRow
		if err := db.Where("notification_id IN ?", mailIDs).Order("id").Find(&fs).Error; err != nil {
			for i := range results {
				results[i] = err
			}
			return results
		}
		for _, f := range fs {
			files[f.NotificationID] = append(files[f.NotificationID], Attachment{Name: f.Name, ContentType: f.ContentType, Content: f.Content})
		}
	}
	dir, dirErr := s.directory()
	recipients := map[userKey]Recipient{}
	recipientErr := map[userKey]error{}
	groups := map[string][]int{}
	deliveries := make([]*Delivery, len(rows))
	for i, r := range rows {
		rec, ok := byID[r.NotificationID]
		if !ok {
			results[i] = Permanent(fmt.Errorf("notification %d no longer exists", r.NotificationID))
			continue
		}
		k, ok := s.kind(rec.Kind)
		if !ok {
			results[i] = Permanent(fmt.Errorf("notification kind %q is no longer declared", rec.Kind))
			continue
		}
		if _, ok := s.channel(r.Channel); !ok {
			results[i] = fmt.Errorf("channel %q is not available in this instance", r.Channel)
			continue
		}
		d := &Delivery{OutboxID: r.ID, Key: r.Key, Attempt: r.Attempts, Notification: rec, EndpointID: r.EndpointID}
		if err := json.Unmarshal([]byte(rec.Data), &d.Data); err != nil {
			results[i] = Permanent(fmt.Errorf("notification data: %w", err))
			continue
		}
		if r.Channel != ChannelWebhook {
			u := userKey{r.OrgID, r.UserID}
			rcp, seen := recipients[u]
			if !seen && recipientErr[u] == nil {
				if dirErr != nil {
					recipientErr[u] = dirErr
				} else if rcp, recipientErr[u] = dir.Recipient(ctx, s.st.DB.WithContext(ctx), r.OrgID, r.UserID); recipientErr[u] == nil {
					recipients[u] = rcp
				}
			}
			if err := recipientErr[u]; err != nil {
				if errors.Is(err, ErrNoRecipient) {
					err = Permanent(err)
				}
				results[i] = err
				continue
			}
			d.Recipient = rcp
			msg, err := k.render(TemplateData{Data: d.Data, Recipient: rcp, BaseURL: s.base, Notification: rec, catalog: s.catalog}, r.Channel == ChannelEmail)
			if err != nil {
				results[i] = Permanent(err)
				continue
			}
			d.Message = msg
			if r.Channel == ChannelEmail {
				d.Attachments = files[rec.ID]
			}
		}
		deliveries[i] = d
		groups[r.Channel] = append(groups[r.Channel], i)
	}
	for name, idx := range groups {
		ch, _ := s.channel(name)
		if bc, ok := ch.(BatchChannel); ok {
			batch := make([]*Delivery, len(idx))
			for j, i := range idx {
				batch[j] = deliveries[i]
			}
			errs := bc.DeliverBatch(ctx, batch)
			for j, i := range idx {
				if j < len(errs) {
					results[i] = errs[j]
				} else {
					results[i] = errors.New("channel returned too few results")
				}
			}
			continue
		}
		for _, i := range idx {
			results[i] = safeDeliver(ctx, ch, deliveries[i])
		}
	}
	return results
}

func safeDeliver(ctx context.Context, ch Channel, d *Delivery) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("channel %s panicked: %v", ch.Name(), r)
		}
	}()
	return ch.Deliver(ctx, d)
}

// record marks delivered rows done and schedules the others' retries (or
// makes them dead letters). started is when the batch's deliveries began.
func (s *Service) record(ctx context.Context, rows []claimed, results []error, started time.Time) error {
	now := s.now().UTC()
	db := store.AllOrgs(s.st.DB.WithContext(ctx))
	var done []uint
	var errs []error
	outcomes := map[string]*channelOutcome{}
	defer func() { s.noteOutcomes(outcomes) }()
	for i, r := range rows {
		o := outcomes[r.Channel]
		if o == nil {
			o = &channelOutcome{started: started}
			outcomes[r.Channel] = o
		}
		err := results[i]
		if err == nil {
			done = append(done, r.ID)
			o.delivered++
			continue
		}
		msg := truncate(err.Error(), 1000)
		if !IsPermanent(err) {
			o.transient++
			o.lastErr = msg
		}
		upd := map[string]any{"last_error": msg}
		if IsPermanent(err) || r.Attempts >= s.cfg.MaxAttempts {
			o.dead++
			upd["status"] = StatusDead
			s.log.Warn("notification delivery is a dead letter", "outbox_id", r.ID, "channel", r.Channel,
				"org_id", r.OrgID, "attempts", r.Attempts, "err", msg)
		} else {
			o.retried++
			upd["next_attempt_at"] = now.Add(s.backoff(r.Attempts))
			s.log.Debug("notification delivery failed; will retry", "outbox_id", r.ID, "channel", r.Channel,
				"attempts", r.Attempts, "err", msg)
		}
		// attempts = ? keeps a late worker from overwriting a newer claim.
		if e := db.Model(&OutboxRow{}).Where("id = ? AND status = ? AND attempts = ?", r.ID, StatusPending, r.Attempts).
			Updates(upd).Error; e != nil {
			errs = append(errs, e)
		}
	}
	byID := make(map[uint]claimed, len(done))
	for _, r := range rows {
		byID[r.ID] = r
	}
	for start := 0; start < len(done); start += 500 {
		part := done[start:min(start+500, len(done))]
		if err := db.Transaction(func(tx *gorm.DB) error {
			var marked []struct{ ID uint }
			if err := tx.Raw(`UPDATE notify_outbox SET status = ?, done_at = ?, last_error = '' WHERE id IN ? AND status = ? RETURNING id`,
				StatusDone, now, part, StatusPending).Scan(&marked).Error; err != nil {
				return err
			}
			return s.publishDelivered(ctx, tx, marked, byID, now)
		}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// deliveredSummary is the timeline sentence per channel.
var deliveredSummary = map[string]string{
	ChannelInApp: "Notification “%s” shown in the portal",
	ChannelEmail: "Notification “%s” sent by e-mail",
}

// publishDelivered announces the deliveries to people (EventDelivered) in
// the transaction that marked them done.
func (s *Service) publishDelivered(ctx context.Context, tx *gorm.DB, marked []struct{ ID uint }, rows map[uint]claimed, now time.Time) error {
	if s.bus == nil || len(marked) == 0 {
		return nil
	}
	nids := make([]uint, 0, len(marked))
	for _, m := range marked {
		nids = append(nids, rows[m.ID].NotificationID)
	}
	var recs []Record
	if err := tx.Select("id", "kind", "title").Where("id IN ?", nids).Find(&recs).Error; err != nil {
		return err
	}
	titles := make(map[uint]Record, len(recs))
	for _, r := range recs {
		titles[r.ID] = r
	}
	es := make([]events.Event, 0, len(marked))
	for _, m := range marked {
		r := rows[m.ID]
		if r.UserID == 0 {
			continue // a webhook endpoint, not a person
		}
		rec := titles[r.NotificationID]
		summary, args := deliveredSummary[r.Channel], []any{rec.Title}
		if summary == "" {
			summary, args = "Notification “%s” delivered via %s", []any{rec.Title, r.Channel}
		}
		es = append(es, events.Event{Name: EventDelivered, OrgID: r.OrgID, SubjectID: r.UserID, Time: now, Tx: tx,
			Data:    map[string]any{"notification_id": r.NotificationID, "kind": rec.Kind, "channel": r.Channel},
			Summary: summary, SummaryArgs: args, Link: "/notifications"})
	}
	// One call for the batch: the timeline writes its entries in one
	// statement instead of one per delivery.
	return s.bus.PublishMany(ctx, es)
}

// backoff is the wait after the given failed attempt: exponential from
// retry_base, capped at retry_max, with "equal jitter" (half fixed, half
// random) so rows that failed together do not retry together.
func (s *Service) backoff(attempt int) time.Duration {
	d := s.cfg.RetryBase
	for i := 1; i < attempt && d < s.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, s.cfg.RetryMax)
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// Prune deletes delivered outbox rows older than notify.retention.
func (s *Service) Prune(ctx context.Context) (int64, error) {
	cut := s.now().UTC().Add(-s.cfg.Retention)
	res := store.AllOrgs(s.st.DB.WithContext(ctx)).Where("status = ? AND done_at < ?", StatusDone, cut).Delete(&OutboxRow{})
	return res.RowsAffected, res.Error
}

func defaultInstance() string {
	h, _ := os.Hostname()
	if h == "" {
		h = "portal"
	}
	return fmt.Sprintf("%s:%d", h, os.Getpid())
}
