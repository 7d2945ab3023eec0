package app

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/dashboard"
	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/experience/feedback"
	"github.com/portalkit/portalkit/core/experience/messages"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
)

// The work cards of staff and admin dashboards that read several core
// services. They live in the kernel because the dashboard package imports
// none of those services; each returns a dashboard.WorkList whose items
// link to where the work is done. Modules add theirs with Host.Widget.

// Windows of the work cards.
const (
	lowScoreWindow  = 7 * 24 * time.Hour  // "new" low feedback scores
	deviceOfflineAt = 24 * time.Hour      // a device silent this long is offline
	signUpWindow    = 30 * 24 * time.Hour // sign-ups still worth following up
)

// addWorkWidgets declares the core's work cards.
func (a *App) addWorkWidgets() {
	staff := []accounts.Role{accounts.Staff, accounts.Admin}
	admin := []accounts.Role{accounts.Admin}
	for _, w := range []dashboard.Widget{
		{ID: "unanswered", Title: "Messages waiting for an answer", Roles: staff, Size: dashboard.Medium, Order: -70, Data: a.unansweredWork},
		{ID: "low_scores", Title: "New low feedback scores", Roles: staff, Size: dashboard.Medium, Order: -40, Data: a.lowScoresWork},
		{ID: "deliveries", Title: "Failed deliveries", Roles: admin, Size: dashboard.Medium, Order: -75, Data: a.deliveriesWork},
		{ID: "offline_devices", Title: "Offline devices", Roles: admin, Size: dashboard.Medium, Order: -74, Data: a.offlineDevicesWork},
		{ID: "signups", Title: "Sign-ups awaiting action", Roles: admin, Size: dashboard.Medium, Order: -73, Data: a.signUpsWork},
		{ID: "jobs", Title: "Failing or late jobs", Roles: []accounts.Role{accounts.PlatformAdmin}, Size: dashboard.Medium, Order: -80, Data: a.jobsWork},
	} {
		w.Template = dashboard.WorkTemplate
		a.Dashboard.AddCoreWidget(w)
	}
}

// unansweredWork lists the conversations waiting for a staff answer that
// p may read (staff: their customers'; admins: all), the longest waiting
// first.
func (a *App) unansweredWork(ctx context.Context, p *accounts.Principal) (any, error) {
	items, total, err := a.Messages.Inbox(ctx, p, messages.InboxFilter{Unanswered: true, Page: 1, Size: dashboard.WorkItems})
	if err != nil {
		return nil, err
	}
	now := a.Accounts.Now()
	w := dashboard.WorkList{Count: total, Items: []dashboard.WorkItem{}, Link: "/messages?filter=unanswered",
		LinkLabel: "Open the inbox", Empty: "No message is waiting for an answer."}
	for _, it := range items {
		item := dashboard.WorkItem{Title: it.Subject, Detail: it.Customer.Name, Since: it.AwaitingSince,
			Link: fmt.Sprintf("/messages/%d", it.ID)}
		if it.AwaitingSince != nil {
			item.Waiting = a.Dashboard.Waited(p.Locale, now.Sub(*it.AwaitingSince))
		}
		w.Items = append(w.Items, item)
	}
	return w, nil
}

// lowScore is the highest score of each kind that counts as low: CSAT 1–2
// of 5, NPS detractors 0–6, CES 1–3 of 7, a negative reaction.
var lowScore = map[feedback.Kind]int{feedback.CSAT: 2, feedback.NPS: 6, feedback.CES: 3, feedback.Reaction: 1}

// lowScoresWork lists the low feedback answers of the last week from the
// customers p reaches, the newest first; each opens the customer's
// timeline.
func (a *App) lowScoresWork(ctx context.Context, p *accounts.Principal) (any, error) {
	db := store.Org(a.Store.DB.WithContext(ctx), p.OrgID).Model(&feedback.Prompt{}).
		Where("status = ? AND answered_at >= ?", feedback.StatusAnswered, a.Accounts.Now().Add(-lowScoreWindow))
	cond, args := "", []any{}
	for _, k := range []feedback.Kind{feedback.CSAT, feedback.NPS, feedback.CES, feedback.Reaction} {
		if cond != "" {
			cond += " OR "
		}
		cond += "(kind = ? AND score <= ?)"
		args = append(args, k, lowScore[k])
	}
	db = db.Where(cond, args...)
	ids, all, err := a.Accounts.VisibleCustomers(ctx, p)
	if err != nil {
		return nil, err
	}
	w := dashboard.WorkList{Items: []dashboard.WorkItem{}, Link: "/staff/feedback", LinkLabel: "Open the feedback analytics",
		Empty: "No low score in the last 7 days."}
	if !all {
		if len(ids) == 0 {
			return w, nil
		}
		db = db.Where("customer_id IN ?", ids)
	}
	db = db.Session(&gorm.Session{})
	if err := db.Count(&w.Count).Error; err != nil {
		return nil, err
	}
	var rows []feedback.Prompt
	if err := db.Order("answered_at DESC, id DESC").Limit(dashboard.WorkItems).Find(&rows).Error; err != nil {
		return nil, err
	}
	customers := make([]uint, 0, len(rows))
	for _, r := range rows {
		customers = append(customers, r.CustomerID)
	}
	names, err := a.userNames(ctx, p.OrgID, customers)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		_, hi := r.Kind.Scale()
		score := 0
		if r.Score != nil {
			score = *r.Score
		}
		item := dashboard.WorkItem{Title: names[r.CustomerID], Link: fmt.Sprintf("/staff/customers/%d/timeline", r.CustomerID),
			Detail: a.Dashboard.T(p.Locale, "%s %d of %d", kindLabel(r.Kind), score, hi)}
		if r.AnsweredAt != nil {
			item.Since = r.AnsweredAt
		}
		w.Items = append(w.Items, item)
	}
	return w, nil
}

func kindLabel(k feedback.Kind) string {
	switch k {
	case feedback.CSAT:
		return "CSAT"
	case feedback.NPS:
		return "NPS"
	case feedback.CES:
		return "CES"
	}
	return "👎"
}

// deliveriesWork lists the organisation's dead letters (deliveries that
// gave up), the newest first, and counts the deliveries being retried.
func (a *App) deliveriesWork(ctx context.Context, p *accounts.Principal) (any, error) {
	db := store.Org(a.Store.DB.WithContext(ctx), p.OrgID).Model(&notify.OutboxRow{})
	w := dashboard.WorkList{Items: []dashboard.WorkItem{}, Link: notify.AdminPath, LinkLabel: "Open the notifications admin",
		Empty: "Every notification was delivered."}
	if err := db.Where("status = ?", notify.StatusDead).Count(&w.Count).Error; err != nil {
		return nil, err
	}
	var retrying int64
	if err := store.Org(a.Store.DB.WithContext(ctx), p.OrgID).Model(&notify.OutboxRow{}).
		Where("status = ? AND attempts > 0", notify.StatusPending).Count(&retrying).Error; err != nil {
		return nil, err
	}
	dead, _, err := a.Notify.DeadLetters(ctx, p.OrgID, notify.Page{Limit: dashboard.WorkItems})
	if err != nil {
		return nil, err
	}
	for _, d := range dead {
		created := d.CreatedAt
		w.Items = append(w.Items, dashboard.WorkItem{Title: d.Title, Since: &created, Link: notify.AdminPath,
			Detail: a.Dashboard.T(p.Locale, "%s, gave up after %d attempts", a.Dashboard.T(p.Locale, channelLabel(d.Channel)), d.Attempts)})
	}
	if retrying > 0 {
		w.Items = append(w.Items, dashboard.WorkItem{Title: a.Dashboard.T(p.Locale, "Deliveries being retried: %d", retrying),
			Link: notify.AdminPath})
	}
	return w, nil
}

func channelLabel(ch string) string {
	switch ch {
	case notify.ChannelInApp:
		return "in the portal"
	case notify.ChannelEmail:
		return "by e-mail"
	case notify.ChannelWebhook:
		return "by webhook"
	}
	return ch
}

// offlineDevicesWork lists the organisation's active devices not heard
// from for a day (or never), the longest silent first.
func (a *App) offlineDevicesWork(ctx context.Context, p *accounts.Principal) (any, error) {
	now := a.Accounts.Now()
	db := store.Org(a.Store.DB.WithContext(ctx), p.OrgID).Model(&devices.Device{}).
		Where("status = ? AND (last_seen_at IS NULL OR last_seen_at < ?)", devices.StatusActive, now.Add(-deviceOfflineAt))
	w := dashboard.WorkList{Items: []dashboard.WorkItem{}, Link: "/devices", LinkLabel: "Open the devices",
		Empty: "Every device has been heard from in the last 24 hours."}
	db = db.Session(&gorm.Session{})
	if err := db.Count(&w.Count).Error; err != nil {
		return nil, err
	}
	var rows []devices.Device
	// Never seen first (NULL sorts differently by database), then the oldest.
	if err := db.Order("CASE WHEN last_seen_at IS NULL THEN 0 ELSE 1 END, last_seen_at, id").
		Limit(dashboard.WorkItems).Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, d := range rows {
		item := dashboard.WorkItem{Title: d.Name, Link: "/devices/" + d.ID, Detail: a.Dashboard.T(p.Locale, "never connected")}
		if d.LastSeenAt != nil {
			item.Since = d.LastSeenAt
			item.Detail = a.Dashboard.T(p.Locale, "last heard from %s ago", a.Dashboard.Waited(p.Locale, now.Sub(*d.LastSeenAt)))
		}
		w.Items = append(w.Items, item)
	}
	return w, nil
}

// signUpsWork lists the customers who signed up in the last 30 days and
// have not verified their e-mail address, the oldest first.
func (a *App) signUpsWork(ctx context.Context, p *accounts.Principal) (any, error) {
	now := a.Accounts.Now()
	db := store.Org(a.Store.DB.WithContext(ctx), p.OrgID).Model(&accounts.User{}).
		Where("role = ? AND email_verified_at IS NULL AND disabled_at IS NULL AND created_at >= ?", accounts.Customer, now.Add(-signUpWindow))
	w := dashboard.WorkList{Items: []dashboard.WorkItem{}, Link: "/admin/users", LinkLabel: "Open the users",
		Empty: "No sign-up is waiting."}
	db = db.Session(&gorm.Session{})
	if err := db.Count(&w.Count).Error; err != nil {
		return nil, err
	}
	var rows []accounts.User
	if err := db.Order("created_at, id").Limit(dashboard.WorkItems).Find(&rows).Error; err != nil {
		return nil, err
	}
	for _, u := range rows {
		created := u.CreatedAt
		title := u.Name
		if title == "" {
			title = u.Email
		}
		w.Items = append(w.Items, dashboard.WorkItem{Title: title, Since: &created, Link: "/admin/users",
			Detail: a.Dashboard.T(p.Locale, "e-mail address not verified"), Waiting: a.Dashboard.Waited(p.Locale, now.Sub(created))})
	}
	return w, nil
}

// jobsWork lists the deployment's jobs that need a person — the latest run
// failed, a run stalled, a slot overdue — for platform admins (jobs run for
// every organisation, so an organisation's admin does not see them), the
// longest-standing first, each linking to its page under /platform/jobs.
func (a *App) jobsWork(ctx context.Context, p *accounts.Principal) (any, error) {
	now := a.Accounts.Now()
	w := dashboard.WorkList{Items: []dashboard.WorkItem{}, Link: "/platform/jobs", LinkLabel: "Open the jobs",
		Empty: "Every job ran on time."}
	ts, err := a.Schedule.Troubles(ctx)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(ts, func(i, j int) bool { return ts[i].Since.Before(ts[j].Since) })
	w.Count = int64(len(ts))
	for _, t := range ts[:min(len(ts), dashboard.WorkItems)] {
		title := t.Description
		if title == "" {
			title = t.Job
		}
		since := t.Since
		item := dashboard.WorkItem{Title: a.Dashboard.T(p.Locale, title), Since: &since, Link: "/platform/jobs/" + url.PathEscape(t.Job),
			Waiting: a.Dashboard.Waited(p.Locale, now.Sub(t.Since))}
		switch t.Kind {
		case schedule.TroubleFailed:
			item.Detail = a.Dashboard.T(p.Locale, "the last run failed: %s", truncateRunes(t.Error, 120))
		case schedule.TroubleStalled:
			item.Detail = a.Dashboard.T(p.Locale, "a run stopped reporting progress")
		case schedule.TroubleLate:
			item.Detail = a.Dashboard.T(p.Locale, "did not start on time: is the scheduler running on any instance?")
		}
		w.Items = append(w.Items, item)
	}
	return w, nil
}

// truncateRunes cuts s to at most n runes, with an ellipsis when cut.
func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// userNames returns the names (else e-mail addresses) of users, by ID.
func (a *App) userNames(ctx context.Context, orgID uint, list []uint) (map[uint]string, error) {
	out := map[uint]string{}
	if len(list) == 0 {
		return out, nil
	}
	var users []accounts.User
	if err := store.Org(a.Store.DB.WithContext(ctx), orgID).Select("id", "name", "email").Where("id IN ?", list).Find(&users).Error; err != nil {
		return nil, err
	}
	for _, u := range users {
		out[u.ID] = u.Name
		if u.Name == "" {
			out[u.ID] = u.Email
		}
	}
	return out, nil
}
