package app

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/experience/messages"
	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/schedule"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// newNotify builds the notification service before the modules' Init (they
// declare kinds on it), adds its page templates and registers its
// dispatcher as a background runner.
func (a *App) newNotify() error {
	svc, err := notify.New(notify.Options{Config: a.Config, Store: a.Store, Log: a.Log, Events: a.Events})
	if err != nil {
		return err
	}
	if err := a.Web.AddTemplates("notify", notify.PageTemplates()); err != nil {
		return fmt.Errorf("notify: templates: %w", err)
	}
	if err := a.Web.AddTranslationsFor("notify", notify.Translations()); err != nil {
		return fmt.Errorf("notify: translations: %w", err)
	}
	a.Notify = svc
	// The dev mailbox keeps e-mails by address: the event's user still has
	// theirs (the purge anonymises it after its handlers ran).
	a.eraseOnDeletion(func(ctx context.Context, tx *gorm.DB, orgID, userID uint) error {
		var emails []string
		if err := store.Org(tx.WithContext(ctx), orgID).Model(&accounts.User{}).Where("id = ?", userID).Pluck("email", &emails).Error; err != nil {
			return err
		}
		email := ""
		if len(emails) == 1 {
			email = emails[0]
		}
		return svc.EraseUser(ctx, tx, orgID, userID, email)
	})
	a.coreMigrations = append(a.coreMigrations, notify.Migrations())
	a.AddRunner(svc)
	a.Web.Metrics().Registry.MustRegister(svc.Collectors()...)
	// A failing channel is reported, not a reason to stop serving: the
	// outbox keeps what it cannot deliver yet.
	a.Web.AddReadyDetail("notifications", svc.ReadyDetail)
	a.wireNotify()
	// One e-mail a day folding the non-urgent notifications of users who
	// chose the digest; 07:00 UTC, before most people start their day.
	return a.Schedule.Add(schedule.Job{
		Name: "notify.digest", Cron: "0 7 * * *",
		Description: "Send the daily digest e-mail to users who chose it",
		Run: func(ctx context.Context, r *schedule.Run) error {
			n, err := svc.SendDigests(ctx, r.Slot)
			r.Log.Info("digests sent", "count", n)
			return err
		},
	})
}

// wireNotify connects notifications and accounts: accounts is the
// recipient directory, its e-mails (verification, reset, invitation,
// password changed) go through the outbox, and the inbox, live stream,
// preferences and admin pages are served for signed-in people.
func (a *App) wireNotify() {
	a.Notify.SetDirectory(accountsDirectory{a.Accounts})
	a.Notify.SetCatalog(a.Web.Catalog())
	a.Notify.SetLive(a.Live)
	a.Live.OnReady(a.liveReady)
	for _, k := range accounts.MessageKinds {
		a.Notify.Declare("accounts", notify.Kind{ID: k.ID, Title: k.Title, DefaultChannels: []string{"email"},
			Mutable: false, Urgent: true, Templates: accounts.MailTemplates()})
	}
	a.Accounts.SetMessenger(accountMessenger{a.Notify})
	a.Notify.RegisterAPI(a.Web.API)
	a.Notify.MountPages(a.Web.App, a.Accounts)
	a.Notify.MountAdmin(a.Web.App, a.Accounts)
	inbox := make([]string, len(notify.InboxRoles))
	for i, r := range notify.InboxRoles {
		inbox[i] = string(r)
	}
	a.Web.AddNav(
		web.NavItem{Label: "Notifications", Path: notify.InboxPath, Roles: inbox, Order: 800},
		web.NavItem{Label: "Outbox", Path: notify.AdminPath, Roles: []string{string(accounts.Admin)}, Order: 940, Group: "Administration"},
	)
	a.Web.Decorate(func(c *fiber.Ctx, p *web.Page) {
		who, ok := accounts.PrincipalOf(c)
		if !ok || who.UserID == 0 || !who.Is(notify.InboxRoles...) {
			return
		}
		n, err := a.Notify.UnreadCount(c.UserContext(), who.OrgID, who.UserID)
		if err != nil {
			return
		}
		if p.Extra == nil {
			p.Extra = map[string]any{}
		}
		// Always there (hidden at 0) so that live.js can show it when a
		// notification arrives; data-label is the translated label.
		hidden := ""
		if n == 0 {
			hidden = " hidden"
		}
		p.Extra["Unread"] = template.HTML(`<a class="unread badge" href="/notifications" aria-label="` +
			template.HTMLEscapeString(p.T("%d unread", n)) + `" data-label="` + template.HTMLEscapeString(p.T("%d unread")) + `"` +
			hidden + `>` + strconv.FormatInt(n, 10) + `</a>`)
	})
}

// accountsDirectory resolves users for notifications from accounts: the
// user's address, name, and locale and time zone (the organisation's when
// the user has none).
type accountsDirectory struct{ acc *accounts.Service }

func (d accountsDirectory) Recipient(ctx context.Context, db *gorm.DB, orgID, userID uint) (notify.Recipient, error) {
	rs, err := d.Recipients(ctx, db, orgID, []uint{userID})
	if err != nil {
		return notify.Recipient{}, err
	}
	r, ok := rs[userID]
	if !ok {
		return notify.Recipient{}, fmt.Errorf("user %d of org %d: %w", userID, orgID, notify.ErrNoRecipient)
	}
	return r, nil
}

// Recipients implements notify.BulkDirectory: two queries for any number
// of users of one organisation.
func (d accountsDirectory) Recipients(ctx context.Context, db *gorm.DB, orgID uint, userIDs []uint) (map[uint]notify.Recipient, error) {
	var o accounts.Org
	if err := db.WithContext(ctx).First(&o, orgID).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, fmt.Errorf("org %d: %w", orgID, notify.ErrNoRecipient)
		}
		return nil, err
	}
	var us []accounts.User
	if err := store.Org(db.WithContext(ctx), orgID).Select("id", "email", "name", "locale", "time_zone", "disabled_at").
		Where("id IN ?", userIDs).Find(&us).Error; err != nil {
		return nil, err
	}
	out := make(map[uint]notify.Recipient, len(us))
	for i := range us {
		u := &us[i]
		r := notify.Recipient{Email: u.Email, Name: u.Name, Locale: u.Locale, TimeZone: u.TimeZone}
		if !u.Active() {
			// A closed or disabled account gets no e-mail (an anonymised one
			// has a placeholder address): its e-mails become dead letters an
			// admin sees, and its inbox stays as it was.
			r.Email = ""
		}
		if r.Locale == "" {
			r.Locale = o.Locale
		}
		if r.TimeZone == "" {
			r.TimeZone = o.TimeZone
		}
		out[u.ID] = r
	}
	return out, nil
}

var _ notify.BulkDirectory = accountsDirectory{}

// accountMessenger sends account e-mails as notifications, in the caller's
// transaction (the outbox), so a link is e-mailed if and only if its token
// was stored.
type accountMessenger struct{ n *notify.Service }

func (m accountMessenger) Send(ctx context.Context, tx *gorm.DB, msg accounts.Message) error {
	_, err := m.n.Send(ctx, tx, notify.Notification{OrgID: msg.OrgID, UserID: msg.UserID, Kind: msg.Kind, Data: msg.Data})
	return err
}

// messageNotifier tells the recipient of a secure message through the
// notification service (in-app and e-mail; only a preview leaves the portal).
type messageNotifier struct {
	n    *notify.Service
	acc  *accounts.Service
	live *live.Service
}

func (m messageNotifier) MessageReceived(ctx context.Context, tx *gorm.DB, orgID, recipientID, conversationID uint, preview string) error {
	from := ""
	if p, ok := accounts.PrincipalFrom(ctx); ok {
		from = p.Name
	}
	if from == "" {
		// Not a signed-in request (demo data, a module's job): name the
		// sender of the conversation's newest message.
		var sender []string
		if err := store.Org(tx, orgID).Table("messages_messages m").Joins("JOIN accounts_users u ON u.id = m.sender_id AND u.org_id = m.org_id").
			Where("m.conversation_id = ?", conversationID).Order("m.id DESC").Limit(1).Pluck("u.name", &sender).Error; err != nil {
			return err
		}
		if len(sender) == 1 {
			from = sender[0]
		}
	}
	_, err := m.n.Send(ctx, tx, notify.Notification{OrgID: orgID, UserID: recipientID, Kind: "messages.received",
		Data: map[string]any{"from": from, "preview": preview, "link": fmt.Sprintf("/messages/%d", conversationID)}})
	if err != nil {
		return err
	}
	// The open conversation and inbox pages of both sides (the sender's
	// other tabs too) show the message at once.
	to := []uint{recipientID}
	if p, ok := accounts.PrincipalFrom(ctx); ok && p.UserID != 0 && p.OrgID == orgID && p.UserID != recipientID {
		to = append(to, p.UserID)
	}
	items := make([]live.Item, len(to))
	for i, u := range to {
		items[i] = live.Item{OrgID: orgID, UserID: u, Type: live.TypeMessage, Data: map[string]uint{"conversation_id": conversationID}}
	}
	return m.live.Append(ctx, tx, items)
}

// wireMessages declares the new-message notification and connects it.
func (a *App) wireMessages() {
	a.Notify.Declare("messages", notify.Kind{ID: "messages.received", Title: "New secure message",
		DefaultChannels: []string{notify.ChannelInApp, notify.ChannelEmail}, Mutable: true, Templates: messages.MailTemplates()})
	a.Messages.SetNotifier(messageNotifier{a.Notify, a.Accounts, a.Live})
}
