package notify

import (
	"context"
	"sort"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// DeadLetter is an outbox row that ran out of attempts (or failed for good),
// with what it was about.
type DeadLetter struct {
	OutboxRow
	Kind  string `json:"kind"`
	Title string `json:"title"`
}

// DeadLetters returns one page of the organisation's dead letters, newest
// first.
func (s *Service) DeadLetters(ctx context.Context, orgID uint, p Page) ([]DeadLetter, uint, error) {
	if p.Limit <= 0 || p.Limit > 100 {
		p.Limit = 50
	}
	q := store.Org(s.st.DB.WithContext(ctx), orgID).Where("status = ?", StatusDead)
	if p.Before > 0 {
		q = q.Where("id < ?", p.Before)
	}
	var rows []OutboxRow
	if err := q.Order("id DESC").Limit(p.Limit + 1).Find(&rows).Error; err != nil {
		return nil, 0, err
	}
	var next uint
	if len(rows) > p.Limit {
		rows = rows[:p.Limit]
		next = rows[len(rows)-1].ID
	}
	ids := make([]uint, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.NotificationID)
	}
	var recs []Record
	if len(ids) > 0 {
		if err := store.Org(s.st.DB.WithContext(ctx), orgID).Select("id", "kind", "title").Where("id IN ?", ids).Find(&recs).Error; err != nil {
			return nil, 0, err
		}
	}
	byID := map[uint]Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	out := make([]DeadLetter, 0, len(rows))
	for _, r := range rows {
		out = append(out, DeadLetter{OutboxRow: r, Kind: byID[r.NotificationID].Kind, Title: byID[r.NotificationID].Title})
	}
	return out, next, nil
}

// RetryDeadLetter puts a dead letter back in the queue with a fresh set of
// attempts. The idempotency key stays, so a receiver that did get an
// earlier attempt drops the repeat.
func (s *Service) RetryDeadLetter(ctx context.Context, orgID, id uint) error {
	res := store.Org(s.st.DB.WithContext(ctx), orgID).Model(&OutboxRow{}).
		Where("id = ? AND status = ?", id, StatusDead).
		Updates(map[string]any{"status": StatusPending, "attempts": 0, "next_attempt_at": s.now().UTC()})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errs.NotFoundf("dead letter %d not found", id)
	}
	s.Kick()
	return nil
}

// OutboxCount is the number of outbox rows of one channel in one status.
type OutboxCount struct {
	Channel string `json:"channel"`
	Status  string `json:"status"`
	Count   int64  `json:"count"`
}

// OutboxStats counts the organisation's outbox rows by channel and status.
func (s *Service) OutboxStats(ctx context.Context, orgID uint) ([]OutboxCount, error) {
	var out []OutboxCount
	err := store.Org(s.st.DB.WithContext(ctx), orgID).Model(&OutboxRow{}).
		Select("channel, status, count(*) AS count").Group("channel, status").Scan(&out).Error
	sort.Slice(out, func(i, j int) bool {
		if out[i].Channel != out[j].Channel {
			return channelOrder(out[i].Channel) < channelOrder(out[j].Channel)
		}
		return out[i].Status < out[j].Status
	})
	return out, err
}
