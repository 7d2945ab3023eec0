package notify

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/web"
)

// InboxRoles are the roles that have an inbox and preferences: the people
// of an organisation. API tokens (integrators) have none.
var InboxRoles = []accounts.Role{accounts.Customer, accounts.Staff, accounts.Admin}

// person returns the signed-in person calling, who has an inbox.
func person(ctx context.Context) (*accounts.Principal, error) {
	p, ok := accounts.PrincipalFrom(ctx)
	if !ok {
		return nil, errs.Unauthenticatedf("sign in to see your notifications")
	}
	if p.UserID == 0 || p.OrgID == 0 || !p.Is(InboxRoles...) {
		return nil, errs.Forbiddenf("only people of an organisation have notifications")
	}
	return p, nil
}

// orgAdmin returns the calling organisation admin. The API guard and the
// page guard check the role before the handler runs; this keeps the
// handlers safe on a router without them.
func orgAdmin(ctx context.Context) (*accounts.Principal, error) {
	p, ok := accounts.PrincipalFrom(ctx)
	if !ok {
		return nil, errs.Unauthenticatedf("sign in to see your notifications")
	}
	if !p.Is(accounts.Admin) || p.OrgID == 0 {
		return nil, errs.Forbiddenf("only organisation admins may do that")
	}
	return p, nil
}

type listInput struct {
	Before uint `query:"before" doc:"Cursor: the next_before of the previous page"`
	Limit  int  `query:"limit" minimum:"1" maximum:"100" default:"20"`
	Unread bool `query:"unread" doc:"Only unread notifications"`
}

type listOutput struct {
	Body struct {
		Items      []Record `json:"items"`
		NextBefore uint     `json:"next_before,omitempty" doc:"Pass as before for the next page; absent on the last page"`
		Unread     int64    `json:"unread"`
	}
}

type unreadOutput struct {
	Body struct {
		Unread int64 `json:"unread"`
	}
}

type idInput struct {
	ID uint `path:"id"`
}

type mutedOutput struct {
	Body struct {
		Kind  string `json:"kind" doc:"The kind switched off"`
		Title string `json:"title" doc:"Its title, in English"`
	}
}

type markedOutput struct {
	Body struct {
		Marked int64 `json:"marked"`
	}
}

type prefsOutput struct{ Body *Preferences }

type prefsInput struct{ Body PreferencesUpdate }

type testInput struct {
	Body struct {
		Message string `json:"message,omitempty" maxLength:"200"`
	}
}

type sentOutput struct {
	Body struct {
		ID uint `json:"id"`
	}
}

type deadInput struct {
	Before uint `query:"before"`
	Limit  int  `query:"limit" minimum:"1" maximum:"100" default:"50"`
}

type deadOutput struct {
	Body struct {
		Items      []DeadLetter `json:"items"`
		NextBefore uint         `json:"next_before,omitempty"`
	}
}

type statsOutput struct {
	Body struct {
		Counts []OutboxCount `json:"counts"`
	}
}

type webhooksOutput struct {
	Body struct {
		Items []Webhook `json:"items"`
	}
}

type webhookCreateInput struct{ Body WebhookInput }

type webhookCreated struct {
	Body struct {
		Webhook
		Secret string `json:"secret" doc:"Signing secret; shown only in this response"`
	}
}

// RegisterAPI declares the notification API under /api/v1/notifications on
// api: the caller's inbox and preferences (customers, staff and admins,
// each their own), and, for organisation admins, dead letters, outbox
// counts and webhook endpoints of their organisation. The caller is
// accounts.PrincipalFrom; the accounts guard enforces each operation's
// roles, and every operation that takes an ID joins the authorization
// matrix with a fixture.
func (s *Service) RegisterAPI(api huma.API) {
	const p = "/api/v1/notifications"
	tags := []string{"Notifications"}
	inbox := accounts.Allow(InboxRoles...)
	accounts.Register(api, huma.Operation{OperationID: "notifications-list", Method: http.MethodGet, Path: p,
		Summary: "List your notifications", Description: "Newest first, paged with a cursor.", Tags: tags},
		func(ctx context.Context, in *listInput) (*listOutput, error) {
			who, err := person(ctx)
			if err != nil {
				return nil, err
			}
			items, next, err := s.List(ctx, who.OrgID, who.UserID, Page{Before: in.Before, Limit: in.Limit, Unread: in.Unread})
			if err != nil {
				return nil, err
			}
			items = s.Localized(ctx, who.OrgID, who.UserID, who.Locale, items)
			out := &listOutput{}
			out.Body.Items, out.Body.NextBefore = items, next
			if out.Body.Items == nil {
				out.Body.Items = []Record{}
			}
			out.Body.Unread, err = s.UnreadCount(ctx, who.OrgID, who.UserID)
			return out, err
		}, inbox)
	accounts.Register(api, huma.Operation{OperationID: "notifications-unread-count", Method: http.MethodGet, Path: p + "/unread-count",
		Summary: "Count your unread notifications", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*unreadOutput, error) {
			who, err := person(ctx)
			if err != nil {
				return nil, err
			}
			out := &unreadOutput{}
			out.Body.Unread, err = s.UnreadCount(ctx, who.OrgID, who.UserID)
			return out, err
		}, inbox)
	accounts.Register(api, huma.Operation{OperationID: "notifications-mark-read", Method: http.MethodPost, Path: p + "/{id}/read",
		Summary: "Mark one notification read", Description: "Only your own notifications; any other ID is 404.",
		DefaultStatus: http.StatusNoContent, Tags: tags},
		func(ctx context.Context, in *idInput) (*struct{}, error) {
			who, err := person(ctx)
			if err != nil {
				return nil, err
			}
			return nil, s.MarkRead(ctx, who.OrgID, who.UserID, in.ID)
		}, inbox, accounts.Matrix(s.notificationFixture))
	accounts.Register(api, huma.Operation{OperationID: "notifications-mute", Method: http.MethodPost, Path: p + "/{id}/mute",
		Summary: "Stop notifications like this one",
		Description: "Switches off, on every channel, the kind of one of your notifications (the preferences switch it back on). " +
			"Only your own notifications; any other ID is 404. A kind that cannot be switched off (a security notice) is 409.",
		Tags: tags},
		func(ctx context.Context, in *idInput) (*mutedOutput, error) {
			who, err := person(ctx)
			if err != nil {
				return nil, err
			}
			k, err := s.Mute(ctx, who.OrgID, who.UserID, in.ID)
			if err != nil {
				return nil, err
			}
			out := &mutedOutput{}
			out.Body.Kind, out.Body.Title = k.ID, k.Title
			return out, nil
		}, inbox, accounts.Matrix(s.muteFixture), web.Problems(http.StatusConflict))
	accounts.Register(api, huma.Operation{OperationID: "notifications-mark-all-read", Method: http.MethodPost, Path: p + "/read-all",
		Summary: "Mark all your notifications read", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*markedOutput, error) {
			who, err := person(ctx)
			if err != nil {
				return nil, err
			}
			out := &markedOutput{}
			out.Body.Marked, err = s.MarkAllRead(ctx, who.OrgID, who.UserID)
			return out, err
		}, inbox)
	accounts.Register(api, huma.Operation{OperationID: "notifications-preferences", Method: http.MethodGet, Path: p + "/preferences",
		Summary: "Your notification preferences", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*prefsOutput, error) {
			who, err := person(ctx)
			if err != nil {
				return nil, err
			}
			prefs, err := s.Preferences(ctx, who.OrgID, who.UserID)
			return &prefsOutput{Body: prefs}, err
		}, inbox)
	accounts.Register(api, huma.Operation{OperationID: "notifications-update-preferences", Method: http.MethodPatch, Path: p + "/preferences",
		Summary: "Change your notification preferences", Tags: tags,
		Description: "Switch channels per kind, set or clear quiet hours, choose the daily digest. All or nothing; switching off a kind that cannot be muted is a 422."},
		func(ctx context.Context, in *prefsInput) (*prefsOutput, error) {
			who, err := person(ctx)
			if err != nil {
				return nil, err
			}
			if err := s.UpdatePreferences(ctx, who.OrgID, who.UserID, in.Body); err != nil {
				return nil, err
			}
			prefs, err := s.Preferences(ctx, who.OrgID, who.UserID)
			return &prefsOutput{Body: prefs}, err
		}, inbox)
	accounts.Register(api, huma.Operation{OperationID: "notifications-send-test", Method: http.MethodPost, Path: p + "/test",
		Summary: "Send yourself a test notification", DefaultStatus: http.StatusAccepted, Tags: tags},
		func(ctx context.Context, in *testInput) (*sentOutput, error) {
			who, err := person(ctx)
			if err != nil {
				return nil, err
			}
			out := &sentOutput{}
			out.Body.ID, err = s.sendTest(ctx, who.OrgID, who.UserID, in.Body.Message)
			return out, err
		}, inbox)

	adminTags := []string{"Notifications (admin)"}
	admin := accounts.Allow(accounts.Admin)
	accounts.Register(api, huma.Operation{OperationID: "notifications-dead-letters", Method: http.MethodGet, Path: p + "/admin/dead-letters",
		Summary: "List dead letters", Description: "Deliveries of your organisation that failed for good or ran out of attempts.", Tags: adminTags},
		func(ctx context.Context, in *deadInput) (*deadOutput, error) {
			who, err := orgAdmin(ctx)
			if err != nil {
				return nil, err
			}
			items, next, err := s.DeadLetters(ctx, who.OrgID, Page{Before: in.Before, Limit: in.Limit})
			out := &deadOutput{}
			out.Body.Items, out.Body.NextBefore = items, next
			if out.Body.Items == nil {
				out.Body.Items = []DeadLetter{}
			}
			return out, err
		}, admin)
	accounts.Register(api, huma.Operation{OperationID: "notifications-retry-dead-letter", Method: http.MethodPost, Path: p + "/admin/dead-letters/{id}/retry",
		Summary: "Retry a dead letter", Description: "Queues it again with fresh attempts and the same idempotency key.",
		DefaultStatus: http.StatusNoContent, Tags: adminTags},
		func(ctx context.Context, in *idInput) (*struct{}, error) {
			who, err := orgAdmin(ctx)
			if err != nil {
				return nil, err
			}
			return nil, s.RetryDeadLetter(ctx, who.OrgID, in.ID)
		}, admin, accounts.Matrix(s.deadLetterFixture))
	accounts.Register(api, huma.Operation{OperationID: "notifications-outbox-stats", Method: http.MethodGet, Path: p + "/admin/outbox",
		Summary: "Count outbox rows by channel and status", Tags: adminTags},
		func(ctx context.Context, _ *struct{}) (*statsOutput, error) {
			who, err := orgAdmin(ctx)
			if err != nil {
				return nil, err
			}
			out := &statsOutput{}
			out.Body.Counts, err = s.OutboxStats(ctx, who.OrgID)
			return out, err
		}, admin)
	accounts.Register(api, huma.Operation{OperationID: "notifications-webhooks", Method: http.MethodGet, Path: p + "/admin/webhooks",
		Summary: "List webhook endpoints", Tags: adminTags},
		func(ctx context.Context, _ *struct{}) (*webhooksOutput, error) {
			who, err := orgAdmin(ctx)
			if err != nil {
				return nil, err
			}
			out := &webhooksOutput{}
			out.Body.Items, err = s.Webhooks(ctx, who.OrgID)
			if out.Body.Items == nil {
				out.Body.Items = []Webhook{}
			}
			return out, err
		}, admin)
	accounts.Register(api, huma.Operation{OperationID: "notifications-create-webhook", Method: http.MethodPost, Path: p + "/admin/webhooks",
		Summary: "Add a webhook endpoint", DefaultStatus: http.StatusCreated, Tags: adminTags,
		Description: "Every request is signed: header Portal-Signature: t=<unix>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">; the secret is returned once, here."},
		func(ctx context.Context, in *webhookCreateInput) (*webhookCreated, error) {
			who, err := orgAdmin(ctx)
			if err != nil {
				return nil, err
			}
			h, secret, err := s.CreateWebhook(ctx, who.OrgID, in.Body)
			if err != nil {
				return nil, err
			}
			out := &webhookCreated{}
			out.Body.Webhook, out.Body.Secret = *h, secret
			return out, nil
		}, admin, web.Idempotent())
	accounts.Register(api, huma.Operation{OperationID: "notifications-delete-webhook", Method: http.MethodDelete, Path: p + "/admin/webhooks/{id}",
		Summary: "Delete a webhook endpoint", DefaultStatus: http.StatusNoContent, Tags: adminTags},
		func(ctx context.Context, in *idInput) (*struct{}, error) {
			who, err := orgAdmin(ctx)
			if err != nil {
				return nil, err
			}
			return nil, s.DeleteWebhook(ctx, who.OrgID, in.ID)
		}, admin, accounts.Matrix(s.webhookFixture))
}

// sendTest sends the caller a test notification on their channels.
func (s *Service) sendTest(ctx context.Context, org, user uint, message string) (uint, error) {
	var id uint
	err := s.st.Tx(ctx, func(tx *gorm.DB) error {
		res, err := s.SendMany(ctx, tx, []Notification{{OrgID: org, UserID: user, Kind: KindTest,
			Data: map[string]any{"message": message}}})
		if err != nil {
			return err
		}
		id = res[0].ID
		return nil
	})
	if err == nil {
		s.Kick()
	}
	return id, err
}
