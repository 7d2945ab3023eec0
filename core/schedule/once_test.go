package schedule_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/schedule"
)

// Once and OnceEach agree on one table of keys: each key is first once per
// slot, a rolled-back key is first again, and another slot has keys of its
// own.
func TestOnceAndOnceEach(t *testing.T) {
	type result struct {
		single   []bool
		batch    []bool
		rollback bool
		again    bool
	}
	results := make(chan result, 2)
	m := newReports("A")
	m.extra = []schedule.Job{{Name: "keys", Cron: "@daily", Run: func(ctx context.Context, r *schedule.Run) error {
		var res result
		err := m.st.Tx(ctx, func(tx *gorm.DB) error {
			for _, k := range []string{"customer/1", "customer/2", "customer/1"} {
				first, err := r.Once(tx, k)
				if err != nil {
					return err
				}
				res.single = append(res.single, first)
			}
			keys := []string{"customer/2", "customer/3", "customer/3", "customer/4"}
			for i := 5; i < 2600; i++ { // several statements' worth
				keys = append(keys, fmt.Sprintf("customer/%d", i))
			}
			var err error
			res.batch, err = r.OnceEach(tx, keys)
			return err
		})
		if err != nil {
			return err
		}
		errRollback := fmt.Errorf("roll back")
		err = m.st.Tx(ctx, func(tx *gorm.DB) error {
			first, err := r.OnceEach(tx, []string{"customer/9000"})
			if err != nil {
				return err
			}
			res.rollback = first[0]
			return errRollback
		})
		if err != errRollback {
			return err
		}
		err = m.st.Tx(ctx, func(tx *gorm.DB) error {
			var err error
			res.again, err = r.Once(tx, "customer/9000")
			return err
		})
		results <- res
		return err
	}}}
	cfg := schedCfg(t, func(s *config.Schedule) { s.Enabled = false })
	clock := schedule.NewSimClock(t0)
	a := startInstance(t, cfg, m, clock)
	for i := 0; i < 2; i++ { // two manual slots: the second has its own keys
		clock.Advance(time.Second)
		if rec, err := a.ta.Schedule.RunNow(context.Background(), "reports.keys", schedule.Request{}, nil); err != nil || rec.Status != schedule.StatusSucceeded {
			t.Fatalf("%+v %v", rec, err)
		}
		res := <-results
		if !reflect.DeepEqual(res.single, []bool{true, true, false}) {
			t.Errorf("Once: %v", res.single)
		}
		if len(res.batch) != 2599 || !reflect.DeepEqual(res.batch[:4], []bool{false, true, false, true}) {
			t.Errorf("OnceEach: %d results, first four %v", len(res.batch), res.batch[:4])
		}
		for i, f := range res.batch[4:] {
			if !f {
				t.Fatalf("OnceEach: key %d not first", i+4)
			}
		}
		if !res.rollback || !res.again {
			t.Errorf("a rolled-back key must be first again: %v %v", res.rollback, res.again)
		}
	}
}
