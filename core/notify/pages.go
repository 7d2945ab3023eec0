package notify

import (
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/web"
)

//go:embed all:pages
var pageFS embed.FS

// PageTemplates returns the page templates, to be added to the web server
// under the prefix "notify" (web.Server.AddTemplates("notify", ...)).
func PageTemplates() fs.FS {
	sub, _ := fs.Sub(pageFS, "pages")
	return sub
}

// Page paths.
const (
	InboxPath = "/notifications"
	AdminPath = "/admin/notifications"
)

// MountPages serves the caller's notification pages on r, for customers,
// staff and admins (acc.RequirePage sends anonymous visitors to sign in):
// the inbox at /notifications (its list and count are live regions that
// the layout's live.js refreshes on "notification" and "unread" events) and the preferences at /notifications/preferences. Forms post
// back to the same paths and carry the page's CSRF token, which the
// accounts middleware checks.
func (s *Service) MountPages(r fiber.Router, acc *accounts.Service) {
	guard := acc.RequirePage(InboxRoles...)
	r.Get(InboxPath, guard, func(c *fiber.Ctx) error {
		who, err := person(c.UserContext())
		if err != nil {
			return err
		}
		before := web.QueryID(c, "before")
		items, next, err := s.List(c.UserContext(), who.OrgID, who.UserID, Page{Before: before, Limit: 20})
		if err != nil {
			return err
		}
		items = s.Localized(c.UserContext(), who.OrgID, who.UserID, who.Locale, items)
		unread, err := s.UnreadCount(c.UserContext(), who.OrgID, who.UserID)
		if err != nil {
			return err
		}
		muted := ""
		if k, ok := s.kind(c.Query("muted")); ok {
			muted = k.Title
		}
		return web.Render(c, "notify/inbox", "Notifications", map[string]any{
			"Items": items, "Next": next, "Unread": unread, "Sent": c.Query("sent") != "",
			"Mutable": s.mutableKinds(), "Muted": muted,
		})
	})
	r.Post(InboxPath+"/read-all", guard, func(c *fiber.Ctx) error {
		who, err := person(c.UserContext())
		if err != nil {
			return err
		}
		if _, err := s.MarkAllRead(c.UserContext(), who.OrgID, who.UserID); err != nil {
			return err
		}
		return c.Redirect(InboxPath, fiber.StatusSeeOther)
	})
	r.Post(InboxPath+"/test", guard, func(c *fiber.Ctx) error {
		who, err := person(c.UserContext())
		if err != nil {
			return err
		}
		if _, err := s.sendTest(c.UserContext(), who.OrgID, who.UserID, ""); err != nil {
			return err
		}
		return c.Redirect(InboxPath+"?sent=1", fiber.StatusSeeOther)
	})
	r.Post(InboxPath+"/:id<int>/read", guard, func(c *fiber.Ctx) error {
		who, err := person(c.UserContext())
		if err != nil {
			return err
		}
		id, err := web.PathID(c, "id")
		if err != nil {
			return err
		}
		if err := s.MarkRead(c.UserContext(), who.OrgID, who.UserID, id); err != nil {
			return err
		}
		return c.Redirect(InboxPath, fiber.StatusSeeOther)
	})
	r.Post(InboxPath+"/:id<int>/mute", guard, func(c *fiber.Ctx) error {
		who, err := person(c.UserContext())
		if err != nil {
			return err
		}
		id, err := web.PathID(c, "id")
		if err != nil {
			return err
		}
		k, err := s.Mute(c.UserContext(), who.OrgID, who.UserID, id)
		if err != nil {
			return err
		}
		return c.Redirect(InboxPath+"?muted="+url.QueryEscape(k.ID), fiber.StatusSeeOther)
	})
	r.Get(InboxPath+"/preferences", guard, func(c *fiber.Ctx) error {
		who, err := person(c.UserContext())
		if err != nil {
			return err
		}
		return s.renderPrefs(c, who, "", c.Query("saved") != "")
	})
	r.Post(InboxPath+"/preferences", guard, func(c *fiber.Ctx) error {
		who, err := person(c.UserContext())
		if err != nil {
			return err
		}
		upd := PreferencesUpdate{QuietHours: &QuietHours{Start: c.FormValue("quiet_start"), End: c.FormValue("quiet_end")}}
		digest := c.FormValue("digest") == "on"
		upd.Digest = &digest
		for _, k := range s.Kinds() {
			if !k.Mutable {
				continue
			}
			for _, ch := range s.userChannels() {
				upd.Channels = append(upd.Channels, PrefChange{Kind: k.ID, Channel: ch,
					Enabled: c.FormValue("pref:"+k.ID+":"+ch) == "on"})
			}
		}
		if err := s.UpdatePreferences(c.UserContext(), who.OrgID, who.UserID, upd); err != nil {
			if problem, ok := formProblem(err); ok {
				c.Status(fiber.StatusUnprocessableEntity)
				return s.renderPrefs(c, who, problem, false)
			}
			return err
		}
		return c.Redirect(InboxPath+"/preferences?saved=1", fiber.StatusSeeOther)
	})
}

// formProblem returns what a form page shows for a validation error: the
// message of its (first) field, which the page translates, or false for any
// other error.
func formProblem(err error) (string, bool) {
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid {
		return "", false
	}
	if len(e.Fields) > 0 {
		return e.Fields[0].Message, true
	}
	return e.Message, true
}

func (s *Service) renderPrefs(c *fiber.Ctx, who *accounts.Principal, problem string, saved bool) error {
	prefs, err := s.Preferences(c.UserContext(), who.OrgID, who.UserID)
	if err != nil {
		return err
	}
	qs, qe := "", ""
	if prefs.QuietHours != nil {
		qs, qe = prefs.QuietHours.Start, prefs.QuietHours.End
	}
	return web.Render(c, "notify/preferences", "Notification preferences", map[string]any{
		"Prefs": prefs, "Channels": s.userChannels(), "QuietStart": qs, "QuietEnd": qe,
		"Problem": problem, "Saved": saved,
	})
}

// MountAdmin serves the admin pages on r, for the admins of an
// organisation (acc.RequirePage), each seeing their own organisation: the
// outbox and its dead letters (with retry) at /admin/notifications, the
// webhook endpoints, and the development mailbox (every email the portal
// would have sent while no SMTP server is configured).
func (s *Service) MountAdmin(r fiber.Router, acc *accounts.Service) {
	guard := acc.RequirePage(accounts.Admin)
	admin := func(c *fiber.Ctx) (uint, error) {
		who, err := orgAdmin(c.UserContext())
		if err != nil {
			return 0, err
		}
		return who.OrgID, nil
	}
	r.Get(AdminPath, guard, func(c *fiber.Ctx) error {
		org, err := admin(c)
		if err != nil {
			return err
		}
		before := web.QueryID(c, "before")
		dead, next, err := s.DeadLetters(c.UserContext(), org, Page{Before: before})
		if err != nil {
			return err
		}
		stats, err := s.OutboxStats(c.UserContext(), org)
		if err != nil {
			return err
		}
		problems, err := s.ChannelProblems(c.UserContext(), org)
		if err != nil {
			return err
		}
		retried := web.QueryID(c, "retried")
		return web.Render(c, "notify/admin", "Outbox", map[string]any{
			"Dead": dead, "Next": next, "Stats": stats, "DevMailbox": s.devMail, "Retried": retried, "Problems": problems,
		})
	})
	r.Post(AdminPath+"/dead-letters/:id<int>/retry", guard, func(c *fiber.Ctx) error {
		org, err := admin(c)
		if err != nil {
			return err
		}
		id, err := web.PathID(c, "id")
		if err != nil {
			return err
		}
		if err := s.RetryDeadLetter(c.UserContext(), org, id); err != nil {
			return err
		}
		return c.Redirect(fmt.Sprintf("%s?retried=%d", AdminPath, id), fiber.StatusSeeOther)
	})
	r.Get(AdminPath+"/webhooks", guard, func(c *fiber.Ctx) error {
		org, err := admin(c)
		if err != nil {
			return err
		}
		return s.renderWebhooks(c, org, "", "")
	})
	r.Post(AdminPath+"/webhooks", guard, func(c *fiber.Ctx) error {
		org, err := admin(c)
		if err != nil {
			return err
		}
		var kinds []string
		for _, k := range strings.Split(c.FormValue("kinds"), ",") {
			if k = strings.TrimSpace(k); k != "" {
				kinds = append(kinds, k)
			}
		}
		_, secret, err := s.CreateWebhook(c.UserContext(), org, WebhookInput{URL: c.FormValue("url"), Kinds: kinds, Description: c.FormValue("description")})
		if err != nil {
			if problem, ok := formProblem(err); ok {
				c.Status(fiber.StatusUnprocessableEntity)
				return s.renderWebhooks(c, org, problem, "")
			}
			return err
		}
		c.Status(fiber.StatusCreated)
		return s.renderWebhooks(c, org, "", secret)
	})
	r.Post(AdminPath+"/webhooks/:id<int>/delete", guard, func(c *fiber.Ctx) error {
		org, err := admin(c)
		if err != nil {
			return err
		}
		id, err := web.PathID(c, "id")
		if err != nil {
			return err
		}
		if err := s.DeleteWebhook(c.UserContext(), org, id); err != nil {
			return err
		}
		return c.Redirect(AdminPath+"/webhooks", fiber.StatusSeeOther)
	})
	r.Get(AdminPath+"/mailbox", guard, func(c *fiber.Ctx) error {
		org, err := admin(c)
		if err != nil {
			return err
		}
		before := web.QueryID(c, "before")
		msgs, next, err := s.Mailbox(c.UserContext(), org, Page{Before: before})
		if err != nil {
			return err
		}
		return web.Render(c, "notify/mailbox", "Development mailbox", map[string]any{
			"Messages": msgs, "Next": next, "DevMailbox": s.devMail,
		})
	})
	r.Get(AdminPath+"/mailbox/:id<int>", guard, func(c *fiber.Ctx) error {
		org, err := admin(c)
		if err != nil {
			return err
		}
		id, err := web.PathID(c, "id")
		if err != nil {
			return err
		}
		m, err := s.MailboxMessage(c.UserContext(), org, id)
		if err != nil {
			return err
		}
		return web.RenderPage(c, "notify/mailbox_message", &web.Page{Title: m.Subject, TitleIsContent: true, Data: m})
	})
	// The email's HTML, framed by the message page. It is served with a CSP
	// sandbox (no scripts, no same-origin access, nothing fetched but inline
	// styles and data: images), so a hostile email can do nothing here.
	r.Get(AdminPath+"/mailbox/:id<int>/html", guard, func(c *fiber.Ctx) error {
		org, err := admin(c)
		if err != nil {
			return err
		}
		id, err := web.PathID(c, "id")
		if err != nil {
			return err
		}
		m, err := s.MailboxMessage(c.UserContext(), org, id)
		if err != nil {
			return err
		}
		c.Set("Content-Security-Policy", "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'")
		c.Set("X-Frame-Options", "SAMEORIGIN")
		c.Type("html", "utf-8")
		return c.SendString(m.HTML)
	})
}

func (s *Service) renderWebhooks(c *fiber.Ctx, org uint, problem, secret string) error {
	hooks, err := s.Webhooks(c.UserContext(), org)
	if err != nil {
		return err
	}
	return web.Render(c, "notify/webhooks", "Webhooks", map[string]any{
		"Webhooks": hooks, "Problem": problem, "Secret": secret, "Kinds": s.Kinds(),
	})
}
