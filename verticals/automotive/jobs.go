package automotive

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
)

// Notification kinds of the module.
const (
	KindAlert           = "automotive.alert"
	KindServiceDue      = "automotive.service_due"
	KindBookingReminder = "automotive.booking_reminder"
	KindRecall          = "automotive.recall"
	KindBillDue         = "automotive.bill_due"
	KindBillOverdue     = "automotive.bill_overdue"
)

func (s *Service) kinds() []notify.Kind {
	both := []string{notify.ChannelInApp, notify.ChannelEmail}
	return []notify.Kind{
		{ID: KindAlert, Title: "Vehicle alerts", DefaultChannels: both, Mutable: true, Urgent: true, Templates: mailTemplates()},
		{ID: KindServiceDue, Title: "Service reminders", DefaultChannels: both, Mutable: true, Templates: mailTemplates()},
		{ID: KindBookingReminder, Title: "Booking reminders", DefaultChannels: both, Mutable: true, Templates: mailTemplates()},
		// A recall is a safety notice: it cannot be muted.
		{ID: KindRecall, Title: "Safety recalls", DefaultChannels: both, Mutable: false, Urgent: true, Templates: mailTemplates()},
		{ID: KindBillDue, Title: "Payment reminders", DefaultChannels: both, Mutable: true, Templates: mailTemplates()},
		{ID: KindBillOverdue, Title: "Overdue payments", DefaultChannels: both, Mutable: false, Templates: mailTemplates()},
	}
}

func vehicleName(v *Vehicle) string {
	if v.Nickname != "" {
		return v.Nickname + " (" + v.Make + " " + v.Model + ")"
	}
	return v.Make + " " + v.Model
}

func vehicleLink(id uint) string { return "/m/automotive/vehicles/" + itoa(id) }

// orgsWithModule returns the organisations that enabled the module; jobs
// walk only these.
func (s *Service) orgsWithModule(ctx context.Context) ([]uint, error) {
	return s.acc.OrgsWithModule(ctx, ID)
}

// recallChunk is how many vehicles one fan-out transaction handles.
var recallChunk = 2000

// FanOutRecalls notifies, for every unfinished recall, the owners of the
// affected vehicles not notified yet, in chunks of vehicles: one
// transaction per chunk records the vehicles, writes their owners'
// notifications (deduplicated by recall and vehicle) and moves the recall's
// cursor, so an interrupted run resumes where it stopped and notifies
// nobody twice. progress, if not nil, gets (done, total) after each chunk.
func (s *Service) FanOutRecalls(ctx context.Context, progress func(done, total int)) error {
	orgs, err := s.orgsWithModule(ctx)
	if err != nil {
		return err
	}
	for _, org := range orgs {
		var recalls []Recall
		if err := store.Org(s.st.DB.WithContext(ctx), org).Where("completed_at IS NULL").Order("id").Find(&recalls).Error; err != nil {
			return err
		}
		for i := range recalls {
			if err := s.fanOutRecall(ctx, &recalls[i], progress); err != nil {
				return fmt.Errorf("recall %s: %w", recalls[i].Code, err)
			}
		}
	}
	return nil
}

func (s *Service) fanOutRecall(ctx context.Context, r *Recall, progress func(done, total int)) error {
	var total int64
	if err := matchQuery(s.st.DB.WithContext(ctx), r).Count(&total).Error; err != nil {
		return err
	}
	for {
		done := false
		matched := 0 // the campaign's recorded vehicles after this chunk, for progress
		err := s.st.Tx(ctx, func(tx *gorm.DB) error {
			// Another instance may be walking the same campaign: lock its row
			// (PostgreSQL; SQLite's transaction already holds the write lock)
			// and continue from the cursor as committed.
			q := store.Org(tx, r.OrgID)
			if s.st.Dialect == store.Postgres {
				q = q.Clauses(clause.Locking{Strength: "UPDATE"})
			}
			var cur Recall
			if err := q.First(&cur, r.ID).Error; err != nil {
				return err
			}
			matched = cur.Matched
			if cur.CompletedAt != nil {
				done = true
				return nil
			}
			r.Cursor = cur.Cursor
			notices, next, err := s.FanOutChunk(ctx, tx, r, r.Cursor, recallChunk)
			if err != nil {
				return err
			}
			matched += len(notices)
			if next == 0 {
				done = true
				now := s.now()
				r.CompletedAt = &now
				return store.Org(tx, r.OrgID).Model(&Recall{}).Where("id = ?", r.ID).Update("completed_at", now).Error
			}
			if err := s.notifyRecall(ctx, tx, r, notices); err != nil {
				return err
			}
			r.Cursor = next
			return store.Org(tx, r.OrgID).Model(&Recall{}).Where("id = ?", r.ID).Update("cursor", next).Error
		})
		if err != nil {
			return err
		}
		if progress != nil {
			// The counter the chunk moved in its own transaction: counting
			// the campaign's rows after every chunk grew with the campaign.
			progress(matched, int(total))
		}
		if done {
			return nil
		}
	}
}

// notifyRecall writes one notification per notice in tx (set-based).
func (s *Service) notifyRecall(ctx context.Context, tx *gorm.DB, r *Recall, notices []RecallNotice) error {
	if len(notices) == 0 || s.notify == nil {
		return nil
	}
	batch := make([]notify.Notification, len(notices))
	for i, n := range notices {
		batch[i] = notify.Notification{OrgID: r.OrgID, UserID: n.OwnerID, Kind: KindRecall,
			DedupeKey: fmt.Sprintf("recall:%d:%d", r.ID, n.VehicleID),
			Data: map[string]any{"vehicle": n.Vehicle, "vin": n.VIN, "code": r.Code, "title": r.Title,
				"description": r.Description, "remedy": r.Remedy, "link": vehicleLink(n.VehicleID)}}
	}
	_, err := s.notify.SendMany(ctx, tx, batch)
	return err
}

// ServiceReminders sends one reminder per due event (the vehicle and the
// due point): a vehicle that stays due is not reminded again until its next
// service moves the due point.
func (s *Service) ServiceReminders(ctx context.Context, r *schedule.Run) error {
	orgs, err := s.orgsWithModule(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	for _, org := range orgs {
		var after uint
		for {
			var vs []Vehicle
			if err := store.Org(s.st.DB.WithContext(ctx), org).Where("id > ?", after).Order("id").Limit(1000).Find(&vs).Error; err != nil {
				return err
			}
			if len(vs) == 0 {
				break
			}
			err := s.st.Tx(ctx, func(tx *gorm.DB) error {
				var batch []notify.Notification
				for i := range vs {
					v := &vs[i]
					st := NextService(s.planFor(ctx, org, v), v.LastServiceKm, v.LastServiceAt, v.OdometerKm, now)
					if st.State == "ok" {
						continue
					}
					batch = append(batch, notify.Notification{OrgID: org, UserID: v.OwnerID, Kind: KindServiceDue,
						DedupeKey: fmt.Sprintf("service-due:%d:%d:%s", v.ID, st.DueKm, st.DueAt.Format("2006-01-02")),
						Data:      map[string]any{"vehicle": vehicleName(v), "due_at": st.DueAt, "due_km": st.DueKm, "link": vehicleLink(v.ID) + "/book"}})
				}
				if len(batch) == 0 || s.notify == nil {
					return nil
				}
				_, err := s.notify.SendMany(ctx, tx, batch)
				return err
			})
			if err != nil {
				return err
			}
			after = vs[len(vs)-1].ID
		}
	}
	return nil
}

// BillReminders reminds owners of bills due within three days, and marks
// bills past their due date overdue with an alert; each once per bill.
func (s *Service) BillReminders(ctx context.Context, now time.Time) error {
	orgs, err := s.orgsWithModule(ctx)
	if err != nil {
		return err
	}
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	for _, org := range orgs {
		err := s.st.Tx(ctx, func(tx *gorm.DB) error {
			var soon, late []Bill
			if err := store.Org(tx, org).Where("status = ? AND due_on >= ? AND due_on < ?", BillDue, today, today.AddDate(0, 0, 4)).Find(&soon).Error; err != nil {
				return err
			}
			if err := store.Org(tx, org).Where("status = ? AND due_on < ?", BillDue, today).Find(&late).Error; err != nil {
				return err
			}
			var batch []notify.Notification
			for _, b := range soon {
				batch = append(batch, notify.Notification{OrgID: org, UserID: b.OwnerID, Kind: KindBillDue, DedupeKey: "bill-due:" + itoa(b.ID),
					Data: map[string]any{"description": b.Description, "amount_minor": b.Amount - b.Paid, "currency": b.Currency, "due_on": b.DueOn, "link": vehicleLink(b.VehicleID)}})
			}
			for _, b := range late {
				batch = append(batch, notify.Notification{OrgID: org, UserID: b.OwnerID, Kind: KindBillOverdue, DedupeKey: "bill-overdue:" + itoa(b.ID),
					Data: map[string]any{"description": b.Description, "amount_minor": b.Amount - b.Paid, "currency": b.Currency, "due_on": b.DueOn, "link": vehicleLink(b.VehicleID)}})
			}
			if len(late) > 0 {
				ids := make([]uint, len(late))
				for i, b := range late {
					ids[i] = b.ID
				}
				if err := store.Org(tx, org).Model(&Bill{}).Where("id IN ? AND status = ?", ids, BillDue).Update("status", BillOverdue).Error; err != nil {
					return err
				}
			}
			if len(batch) == 0 || s.notify == nil {
				return nil
			}
			_, err := s.notify.SendMany(ctx, tx, batch)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// BookingReminders reminds owners of tomorrow's bookings (UTC days), once
// per booking.
func (s *Service) BookingReminders(ctx context.Context, now time.Time) error {
	orgs, err := s.orgsWithModule(ctx)
	if err != nil {
		return err
	}
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	for _, org := range orgs {
		type row struct {
			Booking
			StartsAt time.Time
			Centre   string
		}
		var rows []row
		err := store.Org(s.st.DB.WithContext(ctx), org).Model(&Booking{}).
			Select("automotive_bookings.*, s.starts_at, c.name AS centre").
			Joins("JOIN automotive_slots s ON s.id = automotive_bookings.slot_id AND s.org_id = automotive_bookings.org_id").
			Joins("JOIN automotive_centres c ON c.id = s.centre_id AND c.org_id = s.org_id").
			Where("automotive_bookings.status = ? AND s.starts_at >= ? AND s.starts_at < ?", BookingBooked, day, day.AddDate(0, 0, 1)).
			Scan(&rows).Error
		if err != nil {
			return err
		}
		if len(rows) == 0 || s.notify == nil {
			continue
		}
		err = s.st.Tx(ctx, func(tx *gorm.DB) error {
			batch := make([]notify.Notification, 0, len(rows))
			for _, r := range rows {
				var v Vehicle
				if err := store.Org(tx, org).Select("id", "make", "model", "nickname").First(&v, r.VehicleID).Error; err != nil {
					return err
				}
				batch = append(batch, notify.Notification{OrgID: org, UserID: r.OwnerID, Kind: KindBookingReminder, DedupeKey: "booking:" + itoa(r.ID),
					Data: map[string]any{"vehicle": vehicleName(&v), "centre": r.Centre, "starts_at": r.StartsAt, "link": vehicleLink(v.ID)}})
			}
			_, err := s.notify.SendMany(ctx, tx, batch)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) jobs() []schedule.Job {
	return []schedule.Job{
		// Every run covers every campaign not yet fanned out: after an
		// outage one run does the work of all the missed minutes.
		{Name: "recall_fanout", Cron: "* * * * *", CatchUp: schedule.CatchUpLatest, Description: "Notify the owners of vehicles affected by new recall campaigns, once each",
			Run: func(ctx context.Context, r *schedule.Run) error {
				return s.FanOutRecalls(ctx, func(done, total int) { r.Progress(int64(done), int64(total)) })
			}},
		{Name: "service_reminders", Cron: "0 8 * * *", TimeZone: "Europe/Rome", Description: "Remind owners of services coming due",
			Run: s.ServiceReminders},
		{Name: "bill_reminders", Cron: "0 9 * * *", TimeZone: "Europe/Rome", Description: "Remind owners of payments due in three days; mark missed ones overdue",
			Run: func(ctx context.Context, r *schedule.Run) error { return s.BillReminders(ctx, r.Slot) }},
		{Name: "booking_reminders", Cron: "0 17 * * *", TimeZone: "Europe/Rome", Description: "Remind owners of tomorrow's service bookings",
			Run: func(ctx context.Context, r *schedule.Run) error { return s.BookingReminders(ctx, r.Slot) }},
	}
}

// ApplyReading stores a diagnostics reading of a vehicle and raises or
// clears its alerts, in tx: a condition is raised (and its owner notified)
// once, and cleared when the reading no longer shows it.
func (s *Service) ApplyReading(ctx context.Context, tx *gorm.DB, v *Vehicle, d *Diagnostics) error {
	rd := Reading{VehicleID: v.ID, At: d.Time.UTC(), Seq: d.Seq, OdometerKm: d.OdometerKm, BatteryV: d.BatteryV, CoolantC: d.CoolantC,
		FuelPct: d.FuelPct, SocPct: d.SocPct, TyreFL: d.Tyres.FL, TyreFR: d.Tyres.FR, TyreRL: d.Tyres.RL, TyreRR: d.Tyres.RR,
		DTCs: strings.Join(d.DTCs, ",")}
	if d.Position != nil {
		rd.Lat, rd.Lon = &d.Position.Lat, &d.Position.Lon
	}
	res := store.Org(tx, v.OrgID).Where("vehicle_id = ? AND at = ? AND seq = ?", rd.VehicleID, rd.At, rd.Seq).FirstOrCreate(&rd)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return nil // a redelivered reading: already applied
	}
	up := map[string]any{"last_seen_at": rd.At}
	if int(d.OdometerKm) > v.OdometerKm {
		up["odometer_km"] = int(d.OdometerKm)
	}
	if err := store.Org(tx, v.OrgID).Model(&Vehicle{}).Where("id = ?", v.ID).Updates(up).Error; err != nil {
		return err
	}
	var active []Alert
	if err := store.Org(tx, v.OrgID).Where("vehicle_id = ? AND cleared_at IS NULL", v.ID).Find(&active).Error; err != nil {
		return err
	}
	keys := map[string]bool{}
	for _, a := range active {
		keys[a.Key] = true
	}
	raise, clear := DiffConditions(keys, Conditions(d, keys))
	now := s.now()
	if len(clear) > 0 {
		if err := store.Org(tx, v.OrgID).Model(&Alert{}).Where("vehicle_id = ? AND cleared_at IS NULL AND key IN ?", v.ID, clear).Update("cleared_at", now).Error; err != nil {
			return err
		}
	}
	for _, c := range raise {
		a := Alert{VehicleID: v.ID, OwnerID: v.OwnerID, Key: c.Key, Severity: c.Severity, Title: c.Title, Advice: c.Advice, RaisedAt: now}
		if err := store.Org(tx, v.OrgID).Create(&a).Error; err != nil {
			return err
		}
		if s.notify != nil {
			if _, err := s.notify.Send(ctx, tx, notify.Notification{OrgID: v.OrgID, UserID: v.OwnerID, Kind: KindAlert,
				DedupeKey: "alert:" + itoa(a.ID),
				Data:      map[string]any{"vehicle": vehicleName(v), "title": c.Title, "advice": c.Advice, "severity": c.Severity, "link": vehicleLink(v.ID)}}); err != nil {
				return err
			}
		}
		if err := s.bus.Publish(ctx, events.Event{Name: EventAlertRaised, OrgID: v.OrgID, SubjectID: v.OwnerID, Data: a, Tx: tx,
			Summary: "Warning on %s: %s", SummaryArgs: []any{vehicleName(v), c.Title}, Link: vehicleLink(v.ID)}); err != nil {
			return err
		}
	}
	return nil
}
