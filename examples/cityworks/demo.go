package cityworks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/store"
)

// Demo data, in the "demo" organisation:
//
//   - departments "works" (Public works: staff@demo.example, the planner
//     and crew) and "mobility" (Mobility: admin@demo.example);
//   - segments via-roma-1 (works) and corso-italia-2 (mobility), via-roma-1
//     shared with mobility;
//   - the sensors account sensors@demo.example (a customer that never
//     signs in: the core gives every device a customer owner) and its
//     sensor DemoSensorID, whose MQTT secret is the demo password;
//   - four weeks of counts on via-roma-1 at every hour, so the usual level
//     is known, and today's counts so far;
//   - a report by customer@demo.example with a job for staff@demo.example.
const (
	DemoSensorID = "dvcityworksdemosensor01"
	SensorsEmail = "sensors@demo.example"
)

func (m *Module) demo(ctx context.Context, d *module.DemoContext) error {
	org, tx := d.Orgs["demo"], d.Tx
	staff, admin, citizen := d.Users["staff@demo.example"], d.Users["admin@demo.example"], d.Users["customer@demo.example"]
	if org == 0 || staff == 0 || citizen == 0 {
		return nil
	}
	db := store.Org(tx, org)
	dept := func(code, name string, member uint) (*Department, error) {
		var dp Department
		err := db.Where("code = ?", code).Take(&dp).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			g, err := m.acc.SaveGroup(ctx, tx, org, KindDepartment, code, name)
			if err != nil {
				return nil, err
			}
			dp = Department{Code: code, Name: name, GroupID: g.ID}
			dp.OrgID = org
			if err := tx.Create(&dp).Error; err != nil {
				return nil, err
			}
		} else if err != nil {
			return nil, err
		}
		return &dp, m.acc.AddGroupMember(ctx, tx, org, dp.GroupID, member, accounts.StaffSide, "staff")
	}
	works, err := dept("works", "Public works", staff)
	if err != nil {
		return err
	}
	mobility, err := dept("mobility", "Mobility", admin)
	if err != nil {
		return err
	}
	segment := func(code, name string, deptID uint) (*Segment, error) {
		s := Segment{Code: code, Name: name, DepartmentID: deptID}
		s.OrgID = org
		return &s, db.Where(Segment{Code: code}).FirstOrCreate(&s).Error
	}
	roma, err := segment("via-roma-1", "Via Roma (Piazza Castello – Via Po)", works.ID)
	if err != nil {
		return err
	}
	if _, err := segment("corso-italia-2", "Corso Italia (north)", mobility.ID); err != nil {
		return err
	}
	sh := Share{SegmentID: roma.ID, DepartmentID: mobility.ID, CreatedBy: admin, CreatedAt: m.now()}
	sh.OrgID = org
	if err := db.Where(Share{SegmentID: roma.ID, DepartmentID: mobility.ID}).FirstOrCreate(&sh).Error; err != nil {
		return err
	}

	var sensors accounts.User
	err = db.Where("email = ?", SensorsEmail).Take(&sensors).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		u, err := m.acc.CreateUser(ctx, tx, org, accounts.NewUser{Email: SensorsEmail, Name: "Traffic sensors", Role: accounts.Customer, Verified: true})
		if err != nil {
			return err
		}
		sensors = *u
	} else if err != nil {
		return err
	}
	var n int64
	if err := db.Model(&devices.Device{}).Where("id = ?", DemoSensorID).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		hash, err := devices.HashSecret(d.Password)
		if err != nil {
			return err
		}
		dev := devices.Device{ID: DemoSensorID, OrgSlug: "demo", OwnerID: sensors.ID, Module: ID, Name: "Traffic sensor, Via Roma",
			Kind: "bluetooth-counter", Status: devices.StatusActive, SecretHash: hash}
		dev.OrgID = org
		if err := tx.Create(&dev).Error; err != nil {
			return err
		}
	}

	// Counts: every 15 minutes of the last four weeks and of today so far,
	// with a morning and an evening peak. Written once: a second run finds
	// the first week's first count.
	now := m.now().Truncate(15 * time.Minute)
	start := now.AddDate(0, 0, -28).Truncate(24 * time.Hour)
	if err := db.Model(&TrafficCount{}).Where("segment_id = ? AND ts = ?", roma.ID, start).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		var rows []TrafficCount
		for t := start; t.Before(now); t = t.Add(15 * time.Minute) {
			h := t.Hour()
			v := 10 + 30*max(0, 4-abs(h-8)) + 25*max(0, 4-abs(h-18)) + (t.Minute()/15)*2
			r := TrafficCount{SegmentID: roma.ID, DeviceID: DemoSensorID, TS: t, Vehicles: v, Pedestrians: v / 3, Minutes: 15}
			r.OrgID = org
			rows = append(rows, r)
		}
		if err := tx.CreateInBatches(rows, 500).Error; err != nil {
			return err
		}
	}

	var r Report
	err = db.Where("reporter_id = ? AND place = ?", citizen, "Via Roma 12").Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		seg := roma.ID
		r = Report{ReporterID: citizen, Problem: "street_light", Place: "Via Roma 12", Description: "The light in front of the pharmacy has been out for three nights.",
			SegmentID: &seg, DepartmentID: works.ID, Status: ReportScheduled, CreatedAt: m.now().Add(-26 * time.Hour)}
		r.OrgID = org
		if err := tx.Create(&r).Error; err != nil {
			return err
		}
		j := Job{ReportID: r.ID, CrewID: staff, PlannerID: staff, On: m.now().Truncate(24 * time.Hour), Status: JobScheduled, Note: "Bring a ladder.", CreatedAt: m.now()}
		j.OrgID = org
		if err := tx.Create(&j).Error; err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if err := m.acc.AddGroupMember(ctx, tx, org, works.GroupID, citizen, accounts.CustomerSide, "reporter"); err != nil {
		return fmt.Errorf("cityworks demo: %w", err)
	}
	return nil
}
