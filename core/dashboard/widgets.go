package dashboard

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/chart"
	"github.com/portalkit/portalkit/core/i18n"
	"github.com/portalkit/portalkit/core/store"
)

// The core's own widgets. They use only the accounts tables, so every
// deployment has a useful dashboard before any vertical is added.

// ServiceLink is one enabled module as the "Your services" widget lists it.
type ServiceLink struct {
	Module      string `json:"module"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Path is the module's entry page ("" when it has no pages).
	Path string `json:"path,omitempty"`
}

// SetServices tells the dashboard which modules are loaded (the kernel
// calls it); "Your services" lists those enabled for the viewer's
// organisation.
func (s *Service) SetServices(fn func() []ServiceLink) { s.services = fn }

// activityDays is the window of the sign-in charts.
const activityDays = 30

// AccountData is the "Your account" widget's data.
type AccountData struct {
	// SignIns is a bar chart of the viewer's sign-ins per day over the
	// last 30 days, days in the viewer's time zone.
	SignIns chart.Chart `json:"sign_ins"`
	// Count is the number of sign-ins in that window.
	Count int64 `json:"count"`
	// PreviousSignIn is the sign-in before the latest one, if any, so the
	// person can spot one that was not theirs.
	PreviousSignIn *time.Time `json:"previous_sign_in,omitempty"`
}

// ServicesData is the "Your services" widget's data.
type ServicesData struct {
	Services []ServiceLink `json:"services"`
}

// OrgData is the admins' "Organisation" widget's data.
type OrgData struct {
	// Users is a donut of the organisation's active users by role.
	Users chart.Chart `json:"users"`
	// SignIns is a line chart of sign-ins per day across the organisation.
	SignIns chart.Chart `json:"sign_ins"`
	// ActiveUsers counts the users who may sign in.
	ActiveUsers int64 `json:"active_users"`
}

// AddCoreWidgets declares the core's widgets: "Your account" and "Your
// services" for everyone, "Organisation" for admins.
func (s *Service) AddCoreWidgets() {
	s.AddCoreWidget(Widget{ID: "account", Title: "Your account", Size: Medium, Order: -100,
		Template: "dashboard/widget_account", Data: s.accountData})
	s.AddCoreWidget(Widget{ID: "services", Title: "Your services", Size: Small, Order: -90,
		Template: "dashboard/widget_services", Data: s.servicesData})
	s.AddCoreWidget(Widget{ID: "organisation", Title: "Organisation", Size: Large, Order: -80,
		Roles: []accounts.Role{accounts.Admin}, Template: "dashboard/widget_organisation", Data: s.orgData})
}

// days returns the start of the first of the last n days in loc, and a
// function giving a time's day index (-1 when outside).
func (s *Service) days(loc *time.Location, n int) (time.Time, func(time.Time) int) {
	now := s.now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	first := today.AddDate(0, 0, -(n - 1))
	return first, func(t time.Time) int {
		t = t.In(loc)
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
		// Count calendar days, not 24-hour spans, across DST changes.
		i := int(d.Sub(first).Hours()/24 + 0.5)
		if i < 0 || i >= n {
			return -1
		}
		return i
	}
}

// dayLabels are the short dates ("22 Nov", "22 nov") of n days from first.
// They change once a day per language and time zone, so they are formatted
// once and shared: callers must not modify the slice.
func dayLabels(lang string, first time.Time, n int) []string {
	key := dayLabelsKey{lang, first.Format("2006-01-02"), n}
	labelCache.mu.Lock()
	out, ok := labelCache.m[key]
	labelCache.mu.Unlock()
	if ok {
		return out
	}
	out = make([]string, n)
	for i := range out {
		d := first.AddDate(0, 0, i)
		out[i] = strings.TrimSuffix(i18n.FormatDate(lang, d, nil), " "+strconv.Itoa(d.Year()))
	}
	labelCache.mu.Lock()
	if len(labelCache.m) >= maxLabelSets { // yesterday's sets: start afresh
		clear(labelCache.m)
	}
	labelCache.m[key] = out
	labelCache.mu.Unlock()
	return out
}

type dayLabelsKey struct {
	lang, first string
	n           int
}

// maxLabelSets bounds the label cache (languages × first days in use).
const maxLabelSets = 256

var labelCache = struct {
	mu sync.Mutex
	m  map[dayLabelsKey][]string
}{m: map[dayLabelsKey][]string{}}

// locations caches time zones by name: time.LoadLocation reads the zone
// database on every call, which showed in the dashboard's profile.
var locations sync.Map // string -> *time.Location

func location(p *accounts.Principal) *time.Location {
	if p.TimeZone == "" {
		return time.UTC
	}
	if loc, ok := locations.Load(p.TimeZone); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		return time.UTC
	}
	locations.Store(p.TimeZone, loc)
	return loc
}

func (s *Service) accountData(ctx context.Context, p *accounts.Principal) (any, error) {
	loc := location(p)
	first, dayOf := s.days(loc, activityDays)
	var times []time.Time
	// One indexed read of the viewer's own sign-ins in the window.
	err := store.Org(s.st.DB.WithContext(ctx), p.OrgID).Model(&accounts.AuditEntry{}).
		Where("actor_id = ? AND action = ? AND created_at >= ?", p.UserID, accounts.AuditLoginOK, first.UTC()).
		Order("created_at DESC").Pluck("created_at", &times).Error
	if err != nil {
		return nil, fmt.Errorf("sign-ins: %w", err)
	}
	counts := make([]float64, activityDays)
	for _, t := range times {
		if i := dayOf(t); i >= 0 {
			counts[i]++
		}
	}
	d := AccountData{Count: int64(len(times)), SignIns: chart.Chart{
		Kind: chart.Bar, Title: "Sign-ins, last 30 days", LabelHeader: "Day", ValueName: "Sign-ins",
		Labels: dayLabels(p.Locale, first, activityDays),
		Series: []chart.Series{{Name: "Sign-ins", Values: counts}},
	}}
	if len(times) > 1 {
		prev := times[1].UTC()
		d.PreviousSignIn = &prev
	}
	return d, nil
}

func (s *Service) servicesData(_ context.Context, p *accounts.Principal) (any, error) {
	d := ServicesData{Services: []ServiceLink{}}
	if s.services == nil {
		return d, nil
	}
	for _, l := range s.services() {
		if p.ModuleEnabled(l.Module) {
			d.Services = append(d.Services, l)
		}
	}
	return d, nil
}

func (s *Service) orgData(ctx context.Context, p *accounts.Principal) (any, error) {
	db := s.st.DB.WithContext(ctx)
	var roles []struct {
		Role accounts.Role
		N    int
	}
	if err := store.Org(db, p.OrgID).Model(&accounts.User{}).Where("disabled_at IS NULL").
		Select("role, count(*) AS n").Group("role").Order("role").Scan(&roles).Error; err != nil {
		return nil, fmt.Errorf("users by role: %w", err)
	}
	d := OrgData{Users: chart.Chart{Kind: chart.Donut, Title: "Active users by role", LabelHeader: "Role",
		Series: []chart.Series{{Name: "Users", Values: []float64{}}}}}
	names := map[accounts.Role]string{accounts.Customer: "Customers", accounts.Staff: "Staff", accounts.Admin: "Admins"}
	for _, r := range []accounts.Role{accounts.Customer, accounts.Staff, accounts.Admin} {
		n := 0
		for _, x := range roles {
			if x.Role == r {
				n = x.N
			}
		}
		d.ActiveUsers += int64(n)
		d.Users.Labels = append(d.Users.Labels, s.t(p.Locale, names[r]))
		d.Users.Series[0].Values = append(d.Users.Series[0].Values, float64(n))
	}

	// Sign-ins per hour in SQL (an organisation may have many), then per
	// day in the viewer's time zone here.
	loc := location(p)
	first, dayOf := s.days(loc, activityDays)
	hour := "strftime('%Y-%m-%d %H', created_at)"
	if s.st.Dialect == store.Postgres {
		hour = "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"
	}
	var hours []struct {
		Hour string
		N    int
	}
	if err := store.Org(db, p.OrgID).Model(&accounts.AuditEntry{}).
		Where("action = ? AND created_at >= ?", accounts.AuditLoginOK, first.UTC()).
		Select(hour + " AS hour, count(*) AS n").Group("hour").Scan(&hours).Error; err != nil {
		return nil, fmt.Errorf("sign-ins per hour: %w", err)
	}
	counts := make([]float64, activityDays)
	for _, h := range hours {
		t, err := time.ParseInLocation("2006-01-02 15", h.Hour, time.UTC)
		if err != nil {
			return nil, fmt.Errorf("sign-ins per hour: bucket %q: %w", h.Hour, err)
		}
		if i := dayOf(t); i >= 0 {
			counts[i] += float64(h.N)
		}
	}
	d.SignIns = chart.Chart{Kind: chart.Line, Title: "Sign-ins across the organisation", LabelHeader: "Day", ValueName: "Sign-ins",
		Labels: dayLabels(p.Locale, first, activityDays), Series: []chart.Series{{Name: "Sign-ins", Values: counts}}}
	return d, nil
}
