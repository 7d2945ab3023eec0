package automotive

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// NewRecall is a campaign staff publish.
type NewRecall struct {
	Code, Title, Description, Remedy string
	Make, Model                      string
	YearFrom, YearTo                 int
	VINs                             []string
}

// PublishRecall records a campaign; the fan-out job then finds the affected
// vehicles and notifies each owner exactly once (staff and admins).
func (s *Service) PublishRecall(ctx context.Context, p *accounts.Principal, in NewRecall) (*Recall, error) {
	if !p.Is(accounts.Staff, accounts.Admin) {
		return nil, errs.Forbiddenf("only staff publish recalls")
	}
	var fields []errs.FieldError
	trim := func(s *string) { *s = strings.TrimSpace(*s) }
	for _, f := range []*string{&in.Code, &in.Title, &in.Description, &in.Remedy, &in.Make, &in.Model} {
		trim(f)
	}
	req := map[string]string{"code": in.Code, "title": in.Title, "description": in.Description, "remedy": in.Remedy}
	for _, k := range []string{"code", "title", "description", "remedy"} {
		if req[k] == "" {
			fields = append(fields, errs.Field(k, "is required"))
		}
	}
	var vins []string
	for i, v := range in.VINs {
		n := NormalizeVIN(v)
		if n == "" {
			continue
		}
		if msg := ValidateVIN(n); msg != "" {
			fields = append(fields, errs.Field(fmt.Sprintf("vins[%d]", i), msg))
		}
		vins = append(vins, n)
	}
	if len(vins) == 0 && in.Make == "" {
		fields = append(fields, errs.Field("make", "name the affected make (and model and years) or list the VINs"))
	}
	for name, y := range map[string]int{"year_from": in.YearFrom, "year_to": in.YearTo} {
		if y != 0 && (y < MinYear || y > MaxYear) {
			fields = append(fields, errs.Field(name, fmt.Sprintf("must be a year from %d to %d", MinYear, MaxYear)))
		}
	}
	if in.YearFrom != 0 && in.YearTo != 0 && in.YearFrom > in.YearTo {
		fields = append(fields, errs.Field("year_to", "must not be before year_from"))
	}
	if len(vins) > 100000 {
		fields = append(fields, errs.Field("vins", "at most 100,000 VINs per campaign"))
	}
	if len(fields) > 0 {
		return nil, errs.Validation("the recall is not valid", fields...)
	}
	r := &Recall{Code: in.Code, Title: in.Title, Description: in.Description, Remedy: in.Remedy, Make: in.Make, Model: in.Model,
		YearFrom: in.YearFrom, YearTo: in.YearTo, VINs: strings.Join(vins, ","), PublishedBy: p.UserID}
	if err := s.db(ctx, p.OrgID).Create(r).Error; err != nil {
		if store.IsUniqueViolation(err) {
			return nil, errs.InvalidField("code", "a campaign with this code exists already")
		}
		return nil, err
	}
	return r, nil
}

// matchQuery selects the vehicles a recall affects.
func matchQuery(tx *gorm.DB, r *Recall) *gorm.DB {
	q := store.Org(tx, r.OrgID).Model(&Vehicle{})
	if r.VINs != "" {
		return q.Where("vin IN ?", strings.Split(r.VINs, ","))
	}
	q = q.Where("LOWER(make) = LOWER(?)", r.Make)
	if r.Model != "" {
		q = q.Where("LOWER(model) = LOWER(?)", r.Model)
	}
	if r.YearFrom != 0 {
		q = q.Where("year >= ?", r.YearFrom)
	}
	if r.YearTo != 0 {
		q = q.Where("year <= ?", r.YearTo)
	}
	return q
}

// RecallNotice is one owner to tell about a recall.
type RecallNotice struct {
	OrgID, OwnerID, VehicleID uint
	Recall                    *Recall
	VIN                       string
	// Vehicle is the vehicle's name as its owner knows it.
	Vehicle string
}

// FanOutChunk records the next chunk of affected vehicles of a recall
// (those with ID above after) and returns them with the cursor to continue
// from (0 when done). Each vehicle is recorded once (unique key), so a
// retried chunk notifies nobody twice: notify only the notices returned.
func (s *Service) FanOutChunk(ctx context.Context, tx *gorm.DB, r *Recall, after uint, size int) ([]RecallNotice, uint, error) {
	var vs []Vehicle
	if err := matchQuery(tx.WithContext(ctx), r).Select("id", "owner_id", "vin", "make", "model", "nickname").Where("id > ?", after).Order("id").Limit(size).Find(&vs).Error; err != nil {
		return nil, 0, err
	}
	if len(vs) == 0 {
		return nil, 0, nil
	}
	// One statement records the chunk: a vehicle recorded by an earlier
	// attempt conflicts on (recall_id, vehicle_id) and is not returned, so
	// only the fresh ones are notified.
	now := s.now()
	byID := make(map[uint]*Vehicle, len(vs))
	args := make([]any, 0, len(vs)*6)
	for i := range vs {
		args = append(args, r.OrgID, r.ID, vs[i].ID, vs[i].OwnerID, RecallOpen, now)
		byID[vs[i].ID] = &vs[i]
	}
	var fresh []uint
	if err := tx.WithContext(ctx).Raw(store.MultiRow("INSERT INTO automotive_recall_vehicles (org_id, recall_id, vehicle_id, owner_id, status, notified_at) VALUES ",
		len(vs), 6, " ON CONFLICT (recall_id, vehicle_id) DO NOTHING RETURNING vehicle_id"), args...).Scan(&fresh).Error; err != nil {
		return nil, 0, err
	}
	notices := make([]RecallNotice, 0, len(fresh))
	for _, id := range fresh {
		v := byID[id]
		notices = append(notices, RecallNotice{OrgID: r.OrgID, OwnerID: v.OwnerID, VehicleID: v.ID, Recall: r, VIN: v.VIN, Vehicle: vehicleName(v)})
	}
	if len(fresh) > 0 {
		if err := store.Org(tx, r.OrgID).Model(&Recall{}).Where("id = ?", r.ID).
			Updates(map[string]any{"matched": gorm.Expr("matched + ?", len(fresh)), "notified": gorm.Expr("notified + ?", len(fresh))}).Error; err != nil {
			return nil, 0, err
		}
	}
	return notices, vs[len(vs)-1].ID, nil
}

// RecallStats is a campaign's progress and remedy rate.
type RecallStats struct {
	Recall   *Recall `json:"recall"`
	Affected int64   `json:"affected"`
	Open     int64   `json:"open"`
	Booked   int64   `json:"booked"`
	Remedied int64   `json:"remedied"`
	// RemedyRate is remedied / affected, in percent (one decimal).
	RemedyRate float64 `json:"remedy_rate_pct"`
}

// Recalls lists campaigns with their stats (staff and admins).
func (s *Service) Recalls(ctx context.Context, p *accounts.Principal) ([]RecallStats, error) {
	if !p.Is(accounts.Staff, accounts.Admin) {
		return nil, errs.Forbiddenf("only staff see campaigns")
	}
	var rs []Recall
	if err := s.db(ctx, p.OrgID).Order("id DESC").Limit(200).Find(&rs).Error; err != nil {
		return nil, err
	}
	type row struct {
		RecallID uint
		Status   string
		N        int64
	}
	var rows []row
	if err := s.db(ctx, p.OrgID).Model(&RecallVehicle{}).Select("recall_id, status, COUNT(*) AS n").Group("recall_id, status").Scan(&rows).Error; err != nil {
		return nil, err
	}
	by := map[uint]*RecallStats{}
	out := make([]RecallStats, len(rs))
	for i := range rs {
		out[i] = RecallStats{Recall: &rs[i]}
		by[rs[i].ID] = &out[i]
	}
	for _, r := range rows {
		st := by[r.RecallID]
		if st == nil {
			continue
		}
		st.Affected += r.N
		switch r.Status {
		case RecallOpen:
			st.Open = r.N
		case RecallBooked:
			st.Booked = r.N
		case RecallRemedied:
			st.Remedied = r.N
		}
	}
	for i := range out {
		if out[i].Affected > 0 {
			out[i].RemedyRate = float64(out[i].Remedied*1000/out[i].Affected) / 10
		}
	}
	return out, nil
}

// RecallByID returns one campaign's stats (staff and admins).
func (s *Service) RecallByID(ctx context.Context, p *accounts.Principal, id uint) (*RecallStats, error) {
	all, err := s.Recalls(ctx, p)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].Recall.ID == id {
			return &all[i], nil
		}
	}
	return nil, errs.NotFoundf("no recall %d", id)
}

func (s *Service) registerRecallAPI(api huma.API, tag func(*huma.Operation)) {
	type recallIn struct {
		Body struct {
			Code        string   `json:"code" minLength:"1" maxLength:"40"`
			Title       string   `json:"title" minLength:"1" maxLength:"200"`
			Description string   `json:"description" minLength:"1" maxLength:"4000"`
			Remedy      string   `json:"remedy" minLength:"1" maxLength:"2000"`
			Make        string   `json:"make,omitempty" maxLength:"60"`
			Model       string   `json:"model,omitempty" maxLength:"60"`
			YearFrom    int      `json:"year_from,omitempty" minimum:"1980" maximum:"2100"`
			YearTo      int      `json:"year_to,omitempty" minimum:"1980" maximum:"2100"`
			VINs        []string `json:"vins,omitempty" maxItems:"100000"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "automotive-recall-publish", Method: http.MethodPost, Path: "/recalls",
		Summary: "Publish a recall campaign (staff)", Description: "Every affected owner is notified exactly once by a job that walks the vehicles in chunks; follow its progress in matched/notified.", DefaultStatus: 201},
		func(ctx context.Context, in *recallIn) (*struct{ Body *Recall }, error) {
			b := in.Body
			r, err := s.PublishRecall(ctx, principal(ctx), NewRecall{Code: b.Code, Title: b.Title, Description: b.Description, Remedy: b.Remedy,
				Make: b.Make, Model: b.Model, YearFrom: b.YearFrom, YearTo: b.YearTo, VINs: b.VINs})
			if err != nil {
				return nil, err
			}
			return &struct{ Body *Recall }{Body: r}, nil
		}, accounts.Allow(workshop...), tag, web.Idempotent())
	type recallsOut struct {
		Body struct {
			Recalls []RecallStats `json:"recalls"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "automotive-recalls", Method: http.MethodGet, Path: "/recalls", Summary: "Recall campaigns with remedy rates (staff)"},
		func(ctx context.Context, _ *struct{}) (*recallsOut, error) {
			list, err := s.Recalls(ctx, principal(ctx))
			if err != nil {
				return nil, err
			}
			out := &recallsOut{}
			out.Body.Recalls = nonNil(list)
			return out, nil
		}, accounts.Allow(workshop...), tag)
	accounts.Register(api, huma.Operation{OperationID: "automotive-recall", Method: http.MethodGet, Path: "/recalls/{id}", Summary: "One campaign's progress (staff)"},
		func(ctx context.Context, in *idInput) (*struct{ Body *RecallStats }, error) {
			st, err := s.RecallByID(ctx, principal(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &struct{ Body *RecallStats }{Body: st}, nil
		}, accounts.Allow(workshop...), tag, accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			r := Recall{Code: fmt.Sprintf("FX-%d", time.Now().UnixNano()), Title: "Fixture", Description: "d", Remedy: "r", Make: "Fixture"}
			if err := store.Org(tx, owner.OrgID).Create(&r).Error; err != nil {
				return nil, nil, err
			}
			return id(r.ID), nil, nil
		}))
}
