package schedule

import (
	"context"

	"gorm.io/gorm"
)

// PruneJob is the scheduler's own job: every night it deletes the runs that
// finished more than schedule.retention before its slot, with their
// idempotency keys, so schedule_keys does not grow by every customer of
// every slot forever. Running and interrupted runs are never pruned.
const PruneJob = "schedule.prune"

// pruneBatch bounds one delete transaction.
const pruneBatch = 500

func (s *Service) pruneJob() Job {
	return Job{
		Name:        PruneJob,
		Description: "Deletes finished runs and their idempotency keys older than schedule.retention.",
		Cron:        "17 3 * * *",
		Run:         s.prune,
		CatchUp:     CatchUpLatest, // one run deletes everything past retention
	}
}

func (s *Service) prune(ctx context.Context, r *Run) error {
	cutoff := r.Slot.Add(-s.cfg.Retention)
	old := func(db *gorm.DB) *gorm.DB {
		return db.Model(&RunRecord{}).Where("finished_at < ? AND status IN ?", cutoff, []Status{StatusSucceeded, StatusFailed})
	}
	var total int64
	if err := old(s.db.WithContext(ctx)).Count(&total).Error; err != nil {
		return err
	}
	var done int64
	for {
		var ids []uint
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := old(tx).Order("id").Limit(pruneBatch).Pluck("id", &ids).Error; err != nil {
				return err
			}
			if len(ids) == 0 {
				return nil
			}
			if err := tx.Where("run_id IN ?", ids).Delete(&onceKey{}).Error; err != nil {
				return err
			}
			return tx.Where("id IN ?", ids).Delete(&RunRecord{}).Error
		})
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			r.Log.Info("pruned old runs", "runs", done, "before", cutoff)
			return nil
		}
		done += int64(len(ids))
		r.Progress(done, max(total, done))
	}
}
