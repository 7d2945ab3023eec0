package devices

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/store"
)

// Area is the devices' policy area (accounts.Reach): staff reach a
// customer's devices by assignment or through a group whose kind opens
// "devices".
const Area = "devices"

// Actor is who calls the registry. The rules (docs/devices.md, "Who may do
// what"):
//
//   - admins and integrator tokens: every device of their organisation —
//     register, read, disable, enable, rotate, delete;
//   - staff: the devices of the customers they reach in the devices area
//     (accounts.Reach) — register for them, read, disable, enable, send
//     commands; never rotate (the new secret would let them impersonate a
//     device in use) nor delete (it destroys the customer's history);
//   - customers: their own devices — register, read, disable;
//   - anyone else, and staff for a customer they do not reach: not found.
type Actor struct {
	OrgID  uint
	UserID uint
	Role   string
}

// ActorOf turns a request principal into an Actor.
func ActorOf(p *accounts.Principal) Actor {
	if p == nil {
		return Actor{}
	}
	return Actor{OrgID: p.OrgID, UserID: p.UserID, Role: string(p.Role)}
}

// manager reports whether the actor manages devices (within what they see).
func (a Actor) manager() bool { return a.admin() || a.Role == string(accounts.Staff) }

// admin reports whether the actor sees every device of the organisation.
func (a Actor) admin() bool {
	return a.Role == string(accounts.Admin) || a.Role == string(accounts.Integrator)
}

// NewDevice is what Create needs. OwnerID 0 means the actor (a customer
// registering their own device).
type NewDevice struct {
	OwnerID uint   `json:"owner_id,omitempty" doc:"The customer who owns the device (admins and staff); customers register their own"`
	Module  string `json:"module" minLength:"1" maxLength:"40" doc:"The module the device serves, e.g. automotive"`
	Name    string `json:"name" minLength:"1" maxLength:"120"`
	Kind    string `json:"kind,omitempty" maxLength:"40" doc:"Free-form kind, e.g. obd-dongle"`
}

// Created is a new device with its secret, shown only this once.
type Created struct {
	Device   *Device `json:"device"`
	ID       string  `json:"id"`
	Username string  `json:"username"`
	Secret   string  `json:"secret"`
	Topics   Topics  `json:"topics"`
}

// Create registers a device and returns its credentials.
func (s *Service) Create(ctx context.Context, a Actor, in NewDevice) (*Created, error) {
	if a.OrgID == 0 {
		return nil, errs.NotFoundf("organisation not found")
	}
	in.Name = strings.TrimSpace(in.Name)
	in.Module = strings.TrimSpace(in.Module)
	switch {
	case in.Name == "" || utf8.RuneCountInString(in.Name) > 120:
		return nil, errs.InvalidField("name", "give the device a name of 1 to 120 characters")
	case utf8.RuneCountInString(in.Kind) > 40:
		return nil, errs.InvalidField("kind", "at most 40 characters")
	}
	org, err := s.accounts.OrgByID(ctx, a.OrgID)
	if err != nil {
		return nil, err
	}
	if !org.ModuleEnabled(in.Module) {
		return nil, errs.InvalidField("module", "this module is not enabled for the organisation")
	}
	owner := in.OwnerID
	switch {
	case a.Role == string(accounts.Customer):
		if owner != 0 && owner != a.UserID {
			return nil, errs.InvalidField("owner_id", "customers register their own devices")
		}
		owner = a.UserID
	case a.manager():
		if owner == 0 {
			return nil, errs.InvalidField("owner_id", "name the customer who owns the device")
		}
	default:
		return nil, errs.NotFoundf("not found")
	}
	u, err := s.accounts.UserByID(ctx, a.OrgID, owner)
	if err != nil || u.Role != accounts.Customer {
		return nil, errs.InvalidField("owner_id", "no customer with this ID in the organisation")
	}
	if a.Role == string(accounts.Staff) {
		// Staff register devices only for the customers they reach; the
		// answer is the same as for a customer who does not exist.
		if ok, err := s.accounts.Reach(Area).Reaches(ctx, a.OrgID, a.UserID, owner); err != nil {
			return nil, err
		} else if !ok {
			return nil, errs.InvalidField("owner_id", "no customer with this ID in the organisation")
		}
	}
	secret := newSecret()
	hash, err := HashSecret(secret)
	if err != nil {
		return nil, err
	}
	d := &Device{ID: newDeviceID(), OrgSlug: org.Slug, OwnerID: owner, Module: in.Module, Name: in.Name,
		Kind: strings.TrimSpace(in.Kind), Status: StatusActive, SecretHash: hash}
	d.OrgID = a.OrgID
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		if err := store.Org(tx, a.OrgID).Create(d).Error; err != nil {
			return err
		}
		return s.publish(ctx, tx, a, EventDeviceCreated, d)
	})
	if err != nil {
		return nil, err
	}
	s.exportSoon()
	return &Created{Device: d, ID: d.ID, Username: d.ID, Secret: secret, Topics: d.Topics()}, nil
}

// publish announces a change to device d made by actor, in tx.
func (s *Service) publish(ctx context.Context, tx *gorm.DB, a Actor, name string, d *Device) error {
	if s.bus == nil {
		return nil
	}
	e := events.Event{Name: name, OrgID: d.OrgID, ActorID: a.UserID, SubjectID: d.OwnerID, Tx: tx,
		Data:    map[string]any{"device_id": d.ID, "module": d.Module, "owner_id": d.OwnerID},
		Summary: summaries[name], SummaryArgs: []any{d.Name}}
	if name != EventDeviceDeleted {
		e.Link = "/devices/" + d.ID
	}
	return s.bus.Publish(ctx, e)
}

// visible scopes a query to the devices the actor may see.
func (s *Service) visible(ctx context.Context, a Actor) (*gorm.DB, error) {
	q := store.Org(s.st.DB.WithContext(ctx), a.OrgID)
	switch {
	case a.OrgID == 0:
		return nil, errs.NotFoundf("not found")
	case a.admin():
		return q, nil
	case a.Role == string(accounts.Staff) && a.UserID != 0:
		return q.Where("owner_id IN (?)", s.accounts.Reach(Area).Customers(ctx, a.OrgID, a.UserID)), nil
	case a.Role == string(accounts.Customer) && a.UserID != 0:
		return q.Where("owner_id = ?", a.UserID), nil
	}
	return nil, errs.NotFoundf("not found")
}

// ListFilter narrows List.
type ListFilter struct {
	OwnerID uint
	Module  string
	Status  string
	// Offset and Limit page the list (Limit 0 or above 1000 means 1000).
	Offset, Limit int
}

// List returns the devices the actor may see, newest first.
func (s *Service) List(ctx context.Context, a Actor, f ListFilter) ([]Device, error) {
	q, err := s.visible(ctx, a)
	if err != nil {
		return nil, err
	}
	if f.OwnerID != 0 {
		q = q.Where("owner_id = ?", f.OwnerID)
	}
	if f.Module != "" {
		q = q.Where("module = ?", f.Module)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	var out []Device
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	return out, q.Order("created_at DESC, id").Offset(max(0, f.Offset)).Limit(limit).Find(&out).Error
}

// Get returns one device the actor may see.
func (s *Service) Get(ctx context.Context, a Actor, id string) (*Device, error) {
	q, err := s.visible(ctx, a)
	if err != nil {
		return nil, err
	}
	var d Device
	if err := q.Where("id = ?", id).Take(&d).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, errs.NotFoundf("device not found")
		}
		return nil, err
	}
	return &d, nil
}

// manage loads a device the actor may change: its owner may disable it;
// everything else is for admins and the staff who reach its owner.
func (s *Service) manage(ctx context.Context, a Actor, id string, ownerMay bool) (*Device, error) {
	d, err := s.Get(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if !a.manager() && !ownerMay {
		return nil, errs.Forbiddenf("only an administrator can do this")
	}
	return d, nil
}

// administer loads a device for rotation or deletion: admins and
// integrator tokens only.
func (s *Service) administer(ctx context.Context, a Actor, id string) (*Device, error) {
	d, err := s.Get(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if !a.admin() {
		return nil, errs.Forbiddenf("only an administrator can do this")
	}
	return d, nil
}

func (s *Service) setStatus(ctx context.Context, a Actor, id, status string) (*Device, error) {
	d, err := s.manage(ctx, a, id, true)
	if err != nil {
		return nil, err
	}
	if status == StatusActive && !a.manager() {
		return nil, errs.Forbiddenf("only an administrator can enable a device")
	}
	// Only the call that changes the status announces it: a repeated or
	// concurrent disable (a double-clicked form) updates no row. Caches
	// are cleared and a disabled device cut off either way, so disabling
	// again also cuts off a device that a CLI process (which runs no
	// broker) disabled.
	if d.Status != status {
		err = s.st.Tx(ctx, func(tx *gorm.DB) error {
			res := store.Org(tx, d.OrgID).Model(&Device{}).Where("id = ? AND status <> ?", d.ID, status).Update("status", status)
			if res.Error != nil || res.RowsAffected == 0 {
				return res.Error
			}
			name := EventDeviceEnabled
			if status == StatusDisabled {
				name = EventDeviceDisabled
			}
			d.Status = status
			return s.publish(ctx, tx, a, name, d)
		})
		if err != nil {
			return nil, err
		}
	}
	d.Status = status
	s.changed(d.ID, status == StatusDisabled)
	return d, nil
}

// changed forgets what is cached about a device and, when cut is set,
// disconnects it from the embedded broker.
func (s *Service) changed(id string, cut bool) {
	s.auth.forget(id)
	s.forgetDevice(id)
	s.exportSoon()
	if b := s.broker.Load(); cut && b != nil {
		b.kickDevice(id)
	}
}

// Disable stops a device: it is refused at connect and disconnected now.
// Its owner may disable it too.
func (s *Service) Disable(ctx context.Context, a Actor, id string) (*Device, error) {
	return s.setStatus(ctx, a, id, StatusDisabled)
}

// Enable lets a disabled device connect again (admins and staff).
func (s *Service) Enable(ctx context.Context, a Actor, id string) (*Device, error) {
	return s.setStatus(ctx, a, id, StatusActive)
}

// Rotate gives the device a new secret (shown once); the old one stops
// working and a connected device is disconnected.
func (s *Service) Rotate(ctx context.Context, a Actor, id string) (*Created, error) {
	d, err := s.administer(ctx, a, id)
	if err != nil {
		return nil, err
	}
	secret := newSecret()
	hash, err := HashSecret(secret)
	if err != nil {
		return nil, err
	}
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		res := store.Org(tx, d.OrgID).Model(&Device{}).Where("id = ?", d.ID).Update("secret_hash", hash)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.NotFoundf("device not found") // deleted meanwhile
		}
		return s.publish(ctx, tx, a, EventDeviceRotated, d)
	})
	if err != nil {
		return nil, err
	}
	d.SecretHash = hash
	s.changed(d.ID, true)
	return &Created{Device: d, ID: d.ID, Username: d.ID, Secret: secret, Topics: d.Topics()}, nil
}

// Delete removes a device with its readings, rejects and commands.
func (s *Service) Delete(ctx context.Context, a Actor, id string) error {
	d, err := s.administer(ctx, a, id)
	if err != nil {
		return err
	}
	err = s.st.Tx(ctx, func(tx *gorm.DB) error {
		q := store.Org(tx, d.OrgID)
		for _, m := range []any{&Reading{}, &Reject{}, &Rollup{}, &Command{}} {
			if err := q.Where("device_id = ?", d.ID).Delete(m).Error; err != nil {
				return err
			}
		}
		res := q.Where("id = ?", d.ID).Delete(&Device{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.NotFoundf("device not found") // deleted meanwhile
		}
		return s.publish(ctx, tx, a, EventDeviceDeleted, d)
	})
	if err != nil {
		return err
	}
	s.changed(d.ID, true)
	return nil
}

// Rejects returns the device's reject log, newest first.
func (s *Service) Rejects(ctx context.Context, a Actor, id string) ([]Reject, error) {
	d, err := s.Get(ctx, a, id)
	if err != nil {
		return nil, err
	}
	var out []Reject
	return out, store.Org(s.st.DB.WithContext(ctx), d.OrgID).Where("device_id = ?", d.ID).Order("id DESC").Find(&out).Error
}

// Readings returns the device's latest readings, newest first (at most
// limit, 1 to 1000).
func (s *Service) Readings(ctx context.Context, a Actor, id string, limit int) ([]Reading, error) {
	d, err := s.Get(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if limit < 1 || limit > 1000 {
		limit = 100
	}
	var out []Reading
	return out, store.Org(s.st.DB.WithContext(ctx), d.OrgID).Where("device_id = ?", d.ID).Order("ts DESC, id DESC").Limit(limit).Find(&out).Error
}

// Rollups returns the device's hourly aggregates, newest first.
func (s *Service) Rollups(ctx context.Context, a Actor, id string) ([]Rollup, error) {
	d, err := s.Get(ctx, a, id)
	if err != nil {
		return nil, err
	}
	var out []Rollup
	return out, store.Org(s.st.DB.WithContext(ctx), d.OrgID).Where("device_id = ?", d.ID).Order("hour DESC").Limit(1000).Find(&out).Error
}

// lookup reads a device by ID across organisations: the gateway knows
// only the MQTT username or the topic.
func (s *Service) lookup(id string) (*Device, error) {
	var d Device
	err := store.AllOrgs(s.st.DB).Where("id = ?", id).Take(&d).Error
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// reject records an invalid message in the device's bounded log and counts
// it.
func (s *Service) reject(ctx context.Context, d *Device, topic, reason string, payload []byte) error {
	s.stats.Rejected.Add(1)
	p := string(payload)
	if len(p) > 500 {
		p = p[:500]
	}
	if !utf8.ValidString(p) {
		p = strings.ToValidUTF8(p, "?")
	}
	if len(topic) > 300 {
		topic = topic[:300]
	}
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		q := store.Org(tx, d.OrgID)
		if err := q.Create(&Reject{DeviceID: d.ID, Topic: topic, Reason: reason, Payload: p, At: s.now().UTC()}).Error; err != nil {
			return err
		}
		if err := q.Model(&Device{}).Where("id = ?", d.ID).UpdateColumn("rejected", gorm.Expr("rejected + 1")).Error; err != nil {
			return err
		}
		// Keep the newest reject_log_size entries.
		var cut Reject
		err := q.Where("device_id = ?", d.ID).Order("id DESC").Offset(s.cfg.Devices.RejectLogSize).Limit(1).Take(&cut).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return q.Where("device_id = ? AND id <= ?", d.ID, cut.ID).Delete(&Reject{}).Error
	})
}

// forgetDevice drops a device from the router's cache.
func (s *Service) forgetDevice(id string) {
	// A lookup already running may have read the old row: it must neither
	// be joined by later messages nor cache what it read.
	s.routeGen.Add(1)
	s.routeFlights.Forget(id)
	s.devCache.Delete(id)
}

// cachedDevice is what the router needs of a device, cached briefly.
type cachedDevice struct {
	dev     *Device
	expires time.Time
}
