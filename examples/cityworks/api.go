package cityworks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// PathID is the {id} of an operation's path (exported: huma sets
// embedded fields by reflection).
type PathID struct {
	ID uint `path:"id"`
}

func principal(ctx context.Context) *accounts.Principal {
	p, _ := accounts.PrincipalFrom(ctx)
	return p
}

var (
	adminOnly = accounts.Allow(accounts.Admin)
	staffSide = accounts.Allow(accounts.Staff, accounts.Admin)
	readers   = accounts.Allow(accounts.Staff, accounts.Admin, accounts.Integrator)
)

func (m *Module) registerAPI(api huma.API) {
	type deptInput struct {
		Body struct {
			Code string `json:"code" pattern:"^[a-z0-9][a-z0-9-]{0,39}$" doc:"Short code, e.g. roads"`
			Name string `json:"name" minLength:"1" maxLength:"120"`
		}
	}
	type deptOutput struct{ Body *Department }
	accounts.Register(api, huma.Operation{OperationID: "cityworks-departments-create", Method: http.MethodPost, Path: "/departments",
		Summary: "Create a department", DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *deptInput) (*deptOutput, error) {
			if strings.TrimSpace(in.Body.Name) == "" {
				return nil, errs.InvalidField("body.name", "must not be blank")
			}
			d, err := m.CreateDepartment(ctx, principal(ctx).OrgID, in.Body.Code, strings.TrimSpace(in.Body.Name))
			if err != nil {
				return nil, err
			}
			return &deptOutput{Body: d}, nil
		}, adminOnly)

	type deptsOutput struct{ Body []Department }
	accounts.Register(api, huma.Operation{OperationID: "cityworks-departments-list", Method: http.MethodGet, Path: "/departments",
		Summary: "List the departments"},
		func(ctx context.Context, _ *struct{}) (*deptsOutput, error) {
			out := &deptsOutput{Body: []Department{}}
			return out, store.Org(m.st.DB.WithContext(ctx), principal(ctx).OrgID).Order("name").Find(&out.Body).Error
		}, readers)

	type memberInput struct {
		PathID
		Body struct {
			UserID uint `json:"user_id" minimum:"1" doc:"A staff member or admin"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "cityworks-departments-add-staff", Method: http.MethodPost, Path: "/departments/{id}/staff",
		Summary: "Put a staff member in a department", DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, in *memberInput) (*struct{}, error) {
			return nil, m.AddStaff(ctx, principal(ctx).OrgID, in.ID, in.Body.UserID)
		}, adminOnly, accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			d, err := m.fixtureDept(ctx, tx, owner.OrgID)
			if err != nil {
				return nil, nil, err
			}
			return map[string]string{"id": itoa(d.ID)}, map[string]any{"user_id": owner.UserID}, nil
		}))

	type segInput struct {
		Body struct {
			Code         string `json:"code" pattern:"^[a-z0-9][a-z0-9-]{0,39}$" doc:"The code sensors publish, e.g. via-roma-1"`
			Name         string `json:"name" minLength:"1" maxLength:"120"`
			DepartmentID uint   `json:"department_id" minimum:"1"`
		}
	}
	type segOutput struct{ Body *Segment }
	accounts.Register(api, huma.Operation{OperationID: "cityworks-segments-create", Method: http.MethodPost, Path: "/segments",
		Summary: "Add a street segment", DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *segInput) (*segOutput, error) {
			p := principal(ctx)
			db := store.Org(m.st.DB.WithContext(ctx), p.OrgID)
			if _, err := m.department(db, p.OrgID, in.Body.DepartmentID); err != nil {
				return nil, errs.InvalidField("body.department_id", "no such department")
			}
			var n int64
			if err := db.Model(&Segment{}).Where("code = ?", in.Body.Code).Count(&n).Error; err != nil {
				return nil, err
			}
			if n > 0 {
				return nil, errs.InvalidField("body.code", "another segment has this code")
			}
			s := &Segment{Code: in.Body.Code, Name: strings.TrimSpace(in.Body.Name), DepartmentID: in.Body.DepartmentID}
			s.OrgID = p.OrgID
			if s.Name == "" {
				return nil, errs.InvalidField("body.name", "must not be blank")
			}
			return &segOutput{Body: s}, m.st.DB.WithContext(ctx).Create(s).Error
		}, adminOnly)

	type segsOutput struct{ Body []Segment }
	accounts.Register(api, huma.Operation{OperationID: "cityworks-segments-list", Method: http.MethodGet, Path: "/segments",
		Summary: "List the segments you may read", Description: "Your departments' segments and those shared with them; every segment for admins and integrator tokens."},
		func(ctx context.Context, _ *struct{}) (*segsOutput, error) {
			p := principal(ctx)
			q, err := m.visibleSegments(ctx, p, store.Org(m.st.DB.WithContext(ctx), p.OrgID))
			if err != nil {
				return nil, err
			}
			out := &segsOutput{Body: []Segment{}}
			return out, q.Order("name").Find(&out.Body).Error
		}, readers)

	type countsInput struct {
		PathID
		Day string `query:"day" pattern:"^(\\d{4}-\\d{2}-\\d{2})?$" doc:"The day (UTC), YYYY-MM-DD; today when empty"`
	}
	type countsOutput struct{ Body *DayView }
	accounts.Register(api, huma.Operation{OperationID: "cityworks-segments-day", Method: http.MethodGet, Path: "/segments/{id}/day",
		Summary: "A segment's traffic of a day against the usual level, hour by hour"},
		func(ctx context.Context, in *countsInput) (*countsOutput, error) {
			p := principal(ctx)
			s, err := m.segmentFor(ctx, p, in.ID)
			if err != nil {
				return nil, err
			}
			day := m.now()
			if in.Day != "" {
				if day, err = time.Parse("2006-01-02", in.Day); err != nil {
					return nil, errs.InvalidField("day", "must be a date, YYYY-MM-DD")
				}
			}
			v, err := m.Day(ctx, s, day)
			return &countsOutput{Body: v}, err
		}, readers, accounts.Matrix(m.segmentFixture(false)))

	type shareInput struct {
		PathID
		Body struct {
			DepartmentID uint `json:"department_id" minimum:"1" doc:"The department whose staff may read the segment"`
		}
	}
	type shareOutput struct{ Body *Share }
	accounts.Register(api, huma.Operation{OperationID: "cityworks-segments-share", Method: http.MethodPost, Path: "/segments/{id}/shares",
		Summary: "Share a segment's counts with another department", DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *shareInput) (*shareOutput, error) {
			sh, err := m.ShareSegment(ctx, principal(ctx), in.ID, in.Body.DepartmentID)
			return &shareOutput{Body: sh}, err
		}, staffSide, accounts.Matrix(m.segmentFixture(true)))

	accounts.Register(api, huma.Operation{OperationID: "cityworks-shares-delete", Method: http.MethodDelete, Path: "/shares/{id}",
		Summary: "Withdraw a share", DefaultStatus: http.StatusNoContent},
		func(ctx context.Context, in *PathID) (*struct{}, error) {
			return nil, m.Unshare(ctx, principal(ctx), in.ID)
		}, staffSide, accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			params, body, err := m.segmentFixture(true)(ctx, tx, owner)
			if err != nil {
				return nil, nil, err
			}
			sh := &Share{SegmentID: atou(params["id"]), DepartmentID: body.(map[string]any)["department_id"].(uint), CreatedBy: owner.UserID}
			sh.OrgID = owner.OrgID
			if err := tx.Create(sh).Error; err != nil {
				return nil, nil, err
			}
			return map[string]string{"id": itoa(sh.ID)}, nil, nil
		}))

	type congestionsOutput struct{ Body []CongestionView }
	accounts.Register(api, huma.Operation{OperationID: "cityworks-congestions-list", Method: http.MethodGet, Path: "/congestions",
		Summary: "Congestion episodes of the segments you may read, newest first"},
		func(ctx context.Context, in *struct {
			Open bool `query:"open" doc:"Only the open ones"`
		}) (*congestionsOutput, error) {
			list, err := m.Congestions(ctx, principal(ctx), in.Open, 100)
			return &congestionsOutput{Body: list}, err
		}, readers)

	type reportInput struct{ Body NewReport }
	type reportOutput struct{ Body *Report }
	accounts.Register(api, huma.Operation{OperationID: "cityworks-reports-create", Method: http.MethodPost, Path: "/reports",
		Summary: "Report a problem in the street", DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *reportInput) (*reportOutput, error) {
			r, err := m.CreateReport(ctx, principal(ctx), in.Body)
			return &reportOutput{Body: r}, err
		}, accounts.Allow(accounts.Customer))

	type reportsOutput struct{ Body []ReportView }
	accounts.Register(api, huma.Operation{OperationID: "cityworks-reports-list", Method: http.MethodGet, Path: "/reports",
		Summary: "Reports: a citizen's own; for staff, those of their departments"},
		func(ctx context.Context, in *struct {
			Status string `query:"status" enum:"open,scheduled,done,"`
		}) (*reportsOutput, error) {
			list, err := m.Reports(ctx, principal(ctx), in.Status)
			return &reportsOutput{Body: list}, err
		}, accounts.Allow(accounts.Customer, accounts.Staff, accounts.Admin))

	type reportViewOutput struct{ Body ReportView }
	accounts.Register(api, huma.Operation{OperationID: "cityworks-reports-get", Method: http.MethodGet, Path: "/reports/{id}",
		Summary: "A report and the status of its work"},
		func(ctx context.Context, in *PathID) (*reportViewOutput, error) {
			p := principal(ctx)
			r, err := m.reportFor(ctx, nil, p, in.ID)
			if err != nil {
				return nil, err
			}
			vs, err := m.views(ctx, p.OrgID, []Report{*r})
			if err != nil {
				return nil, err
			}
			return &reportViewOutput{Body: vs[0]}, nil
		}, accounts.Allow(accounts.Customer, accounts.Staff, accounts.Admin), accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			r, err := m.fixtureReport(ctx, tx, owner, 0)
			if err != nil {
				return nil, nil, err
			}
			return map[string]string{"id": itoa(r.ID)}, nil, nil
		}))

	type jobInput struct {
		PathID
		Body NewJob
	}
	type jobOutput struct{ Body *Job }
	accounts.Register(api, huma.Operation{OperationID: "cityworks-reports-schedule", Method: http.MethodPost, Path: "/reports/{id}/job",
		Summary: "Schedule the work for a report", DefaultStatus: http.StatusCreated},
		func(ctx context.Context, in *jobInput) (*jobOutput, error) {
			j, err := m.Schedule(ctx, principal(ctx), in.ID, in.Body)
			return &jobOutput{Body: j}, err
		}, staffSide, accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			d, err := m.fixtureDept(ctx, tx, owner.OrgID, owner.UserID)
			if err != nil {
				return nil, nil, err
			}
			r, err := m.fixtureReport(ctx, tx, owner, d.ID)
			if err != nil {
				return nil, nil, err
			}
			return map[string]string{"id": itoa(r.ID)}, map[string]any{"crew_id": owner.UserID, "on": "2026-12-10"}, nil
		}))

	type jobsOutput struct{ Body []Job }
	accounts.Register(api, huma.Operation{OperationID: "cityworks-jobs-list", Method: http.MethodGet, Path: "/jobs",
		Summary: "Jobs: a crew member's own, with those of their departments; every job for admins"},
		func(ctx context.Context, _ *struct{}) (*jobsOutput, error) {
			list, err := m.Jobs(ctx, principal(ctx), false)
			return &jobsOutput{Body: list}, err
		}, staffSide)

	type jobUpdateInput struct {
		PathID
		Body JobUpdate
	}
	accounts.Register(api, huma.Operation{OperationID: "cityworks-jobs-update", Method: http.MethodPatch, Path: "/jobs/{id}",
		Summary: "Move a job on and report the crew's position (the crew member's phone)"},
		func(ctx context.Context, in *jobUpdateInput) (*jobOutput, error) {
			j, err := m.UpdateJob(ctx, principal(ctx), in.ID, in.Body)
			return &jobOutput{Body: j}, err
		}, staffSide, accounts.Matrix(func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
			d, err := m.fixtureDept(ctx, tx, owner.OrgID, owner.UserID)
			if err != nil {
				return nil, nil, err
			}
			r, err := m.fixtureReport(ctx, tx, owner, d.ID)
			if err != nil {
				return nil, nil, err
			}
			j := &Job{ReportID: r.ID, CrewID: owner.UserID, PlannerID: owner.UserID, On: m.now(), Status: JobScheduled, CreatedAt: m.now()}
			j.OrgID = owner.OrgID
			if err := tx.Create(j).Error; err != nil {
				return nil, nil, err
			}
			return map[string]string{"id": itoa(j.ID)}, map[string]any{"status": JobOnTheWay}, nil
		}))

	type publicInput struct {
		Org   string `query:"org" required:"true" minLength:"1" maxLength:"100" doc:"The council's organisation slug"`
		Limit int    `query:"limit" minimum:"0" maximum:"100" default:"50"`
	}
	type publicOutput struct {
		Body struct {
			Works []PublicWork `json:"works"`
		}
	}
	accounts.Register(api, huma.Operation{OperationID: "cityworks-public-works", Method: http.MethodGet, Path: "/public/works",
		Summary: "Finished public works", Description: "No sign-in: what was fixed, where and when; never who reported it or who did it."},
		func(ctx context.Context, in *publicInput) (*publicOutput, error) {
			org, err := m.acc.OrgBySlug(ctx, in.Org)
			if err != nil || !enabledFor(org) {
				return nil, errs.NotFoundf("no such council")
			}
			out := &publicOutput{}
			out.Body.Works, err = m.PublicWorks(ctx, org.ID, max(1, in.Limit))
			return out, err
		}, accounts.Public())
}

func itoa(n uint) string { return strconv.FormatUint(uint64(n), 10) }

func atou(s string) uint { n, _ := strconv.ParseUint(s, 10, 64); return uint(n) }

func randomCode(prefix string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// fixtureDept creates a department with the given staff (authorization
// matrix fixtures).
func (m *Module) fixtureDept(ctx context.Context, tx *gorm.DB, orgID uint, staff ...uint) (*Department, error) {
	code := randomCode("dept")
	g, err := m.acc.SaveGroup(ctx, tx, orgID, KindDepartment, code, code)
	if err != nil {
		return nil, err
	}
	d := &Department{Code: code, Name: code, GroupID: g.ID}
	d.OrgID = orgID
	if err := tx.Create(d).Error; err != nil {
		return nil, err
	}
	for _, u := range staff {
		if err := m.acc.AddGroupMember(ctx, tx, orgID, g.ID, u, accounts.StaffSide, "staff"); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (m *Module) fixtureReport(_ context.Context, tx *gorm.DB, owner *accounts.Principal, dept uint) (*Report, error) {
	r := &Report{ReporterID: owner.UserID, Problem: "street_light", Place: "Via Roma 1", Status: ReportOpen, DepartmentID: dept, CreatedAt: m.now()}
	r.OrgID = owner.OrgID
	return r, tx.Create(r).Error
}

// segmentFixture: a segment of a department the owner works in (and, for
// a share, another department to share it with).
func (m *Module) segmentFixture(share bool) accounts.Fixture {
	return func(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
		var staff []uint
		if owner.Is(accounts.Staff) {
			staff = append(staff, owner.UserID)
		}
		d, err := m.fixtureDept(ctx, tx, owner.OrgID, staff...)
		if err != nil {
			return nil, nil, err
		}
		s := &Segment{Code: randomCode("seg"), Name: "Via Roma", DepartmentID: d.ID}
		s.OrgID = owner.OrgID
		if err := tx.Create(s).Error; err != nil {
			return nil, nil, err
		}
		params := map[string]string{"id": itoa(s.ID)}
		if !share {
			return params, nil, nil
		}
		other, err := m.fixtureDept(ctx, tx, owner.OrgID)
		if err != nil {
			return nil, nil, err
		}
		return params, map[string]any{"department_id": other.ID}, nil
	}
}

func enabledFor(o *accounts.Org) bool {
	if o == nil {
		return false
	}
	return o.ModuleEnabled(ID)
}

// ShareSegment lets another department's staff read a segment.
func (m *Module) ShareSegment(ctx context.Context, p *accounts.Principal, segID, deptID uint) (*Share, error) {
	s, err := m.segmentFor(ctx, p, segID)
	if err != nil {
		return nil, err
	}
	if ok, err := m.ownsSegment(ctx, p, s); err != nil {
		return nil, err
	} else if !ok {
		return nil, errs.Forbiddenf("only the segment's own department shares it")
	}
	db := store.Org(m.st.DB.WithContext(ctx), p.OrgID)
	if _, err := m.department(db, p.OrgID, deptID); err != nil {
		return nil, errs.InvalidField("body.department_id", "no such department")
	}
	if deptID == s.DepartmentID {
		return nil, errs.InvalidField("body.department_id", "is the segment's own department")
	}
	sh := &Share{SegmentID: s.ID, DepartmentID: deptID, CreatedBy: p.UserID, CreatedAt: m.now()}
	sh.OrgID = p.OrgID
	var existing Share
	if err := db.Where("segment_id = ? AND department_id = ?", s.ID, deptID).Take(&existing).Error; err == nil {
		return &existing, nil
	} else if !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, err
	}
	return sh, m.st.DB.WithContext(ctx).Create(sh).Error
}

// Unshare withdraws a share; only the segment's department or an admin.
func (m *Module) Unshare(ctx context.Context, p *accounts.Principal, id uint) error {
	db := store.Org(m.st.DB.WithContext(ctx), p.OrgID)
	var sh Share
	if err := db.Where("id = ?", id).Take(&sh).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return errs.NotFoundf("share %d not found", id)
	} else if err != nil {
		return err
	}
	s, err := m.segmentFor(ctx, p, sh.SegmentID)
	if err != nil {
		return errs.NotFoundf("share %d not found", id)
	}
	if ok, err := m.ownsSegment(ctx, p, s); err != nil {
		return err
	} else if !ok {
		return errs.NotFoundf("share %d not found", id)
	}
	return db.Where("id = ?", id).Delete(&Share{}).Error
}
