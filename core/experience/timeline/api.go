package timeline

import (
	"context"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/i18n"
	"github.com/portalkit/portalkit/core/store"
)

// TimelineQuery are the filters of the timeline operations.
type TimelineQuery struct {
	Module string `query:"module" maxLength:"50" doc:"Only events of this module (the event name's first part)"`
	Event  string `query:"event" maxLength:"100" doc:"Only this event, e.g. accounts.user_signed_in"`
	From   string `query:"from" doc:"From this date (YYYY-MM-DD, in the viewer's time zone) or instant (RFC 3339), inclusive"`
	To     string `query:"to" doc:"Until this date (YYYY-MM-DD, inclusive) or instant (RFC 3339, exclusive)"`
	Cursor string `query:"cursor" maxLength:"100" doc:"next_cursor of the previous page"`
	Limit  int    `query:"limit" minimum:"0" maximum:"200" default:"50"`
	Lang   string `query:"lang" enum:",en,it" doc:"Language of the summaries (default: the caller's)"`
}

type timelineCustomerInput struct {
	ID uint `path:"id" doc:"The customer's user ID"`
	TimelineQuery
}

type timelinePageOutput struct{ Body *Page }

// parseWhen reads a from/to bound: a date in loc (to: the end of that day)
// or an RFC 3339 instant.
func parseWhen(field, v string, loc *time.Location, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation("2006-01-02", v, loc)
	if err != nil {
		return time.Time{}, errs.InvalidField(field, "must be a date (YYYY-MM-DD) or an RFC 3339 time")
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

func (q TimelineQuery) filter(p *accounts.Principal) (Filter, error) {
	loc := time.UTC
	if p != nil && p.TimeZone != "" {
		if l, err := time.LoadLocation(p.TimeZone); err == nil {
			loc = l
		}
	}
	from, err := parseWhen("from", q.From, loc, false)
	if err != nil {
		return Filter{}, err
	}
	to, err := parseWhen("to", q.To, loc, true)
	if err != nil {
		return Filter{}, err
	}
	return Filter{Module: q.Module, Event: q.Event, From: from, To: to, Cursor: q.Cursor, Limit: q.Limit}, nil
}

func langFor(p *accounts.Principal, want string) string {
	if i18n.Supported(want) {
		return want
	}
	if p != nil && i18n.Supported(p.Locale) {
		return p.Locale
	}
	return "en"
}

// RegisterAPI declares GET /api/v1/me/activity (a customer's own timeline)
// and GET /api/v1/customers/{id}/timeline (assigned staff, admins, API
// tokens with customers:read).
func (s *Service) RegisterAPI(api huma.API) {
	tag := func(o *huma.Operation) { o.Tags = []string{"Timeline"} }
	accounts.Register(api, huma.Operation{OperationID: "timeline-me", Method: http.MethodGet, Path: "/api/v1/me/activity",
		Summary: "My activity", Description: "The caller's own timeline (customers): sign-ins, notifications and their channel, messages, feedback and every module's events, newest first, paged by cursor."},
		func(ctx context.Context, in *TimelineQuery) (*timelinePageOutput, error) {
			p, _ := accounts.PrincipalFrom(ctx)
			f, err := in.filter(p)
			if err != nil {
				return nil, err
			}
			page, err := s.List(ctx, p, p.UserID, f, langFor(p, in.Lang))
			if err != nil {
				return nil, err
			}
			return &timelinePageOutput{Body: page}, nil
		}, accounts.Allow(accounts.Customer), tag)

	accounts.Register(api, huma.Operation{OperationID: "timeline-customer", Method: http.MethodGet, Path: "/api/v1/customers/{id}/timeline",
		Summary: "A customer's timeline", Description: "Every event about one customer, newest first, paged by cursor (next_cursor). Staff see only the customers assigned to them; admins and API tokens (customers:read) every customer of the organisation; anyone else gets 404."},
		func(ctx context.Context, in *timelineCustomerInput) (*timelinePageOutput, error) {
			p, _ := accounts.PrincipalFrom(ctx)
			f, err := in.filter(p)
			if err != nil {
				return nil, err
			}
			page, err := s.List(ctx, p, in.ID, f, langFor(p, in.Lang))
			if err != nil {
				return nil, err
			}
			return &timelinePageOutput{Body: page}, nil
		}, accounts.Allow(accounts.Staff, accounts.Admin, accounts.Integrator), tag, accounts.Matrix(s.fixture))
}

var fixtureSeq atomic.Int64

// fixture gives the matrix a customer assigned to the owner (staff), with
// one timeline entry.
func (s *Service) fixture(ctx context.Context, tx *gorm.DB, owner *accounts.Principal) (map[string]string, any, error) {
	n := fixtureSeq.Add(1)
	db := store.Org(tx.WithContext(ctx), owner.OrgID)
	u := &accounts.User{Email: "timeline-matrix-" + strconv.FormatInt(n, 10) + "@example.test", Name: "Matrix customer", Role: accounts.Customer}
	if err := db.Create(u).Error; err != nil {
		return nil, nil, err
	}
	if err := db.Create(&accounts.Assignment{StaffID: owner.UserID, CustomerID: u.ID, Relation: "advisor"}).Error; err != nil {
		return nil, nil, err
	}
	e := &Entry{CustomerID: u.ID, Event: "matrix.seen", Module: "matrix", Summary: "Matrix", Args: "[]", At: time.Now().UTC()}
	if err := db.Create(e).Error; err != nil {
		return nil, nil, err
	}
	return map[string]string{"id": strconv.FormatUint(uint64(u.ID), 10)}, nil, nil
}

// Area is the policy area of timeline (accounts.Reach): staff reach a
// customer's timeline by assignment, or through a policy group whose kind opens
// "timeline" (docs/security.md).
const Area = "timeline"
