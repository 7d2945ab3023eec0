package app

import (
	"context"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/accounts"

	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/web"
)

// newLive builds the live stream service (core/live): its tables, its
// runner (the listener or the SQLite tail), its metrics and the stream
// route. Notifications, messages and modules append to it.
func (a *App) newLive() error {
	a.Live = live.New(live.Options{Config: a.Config, Store: a.Store, Log: a.Log.With("service", "live"), Accounts: a.Accounts})
	if err := a.Live.RegisterMetrics(a.Web.Metrics().Registry); err != nil {
		return fmt.Errorf("live: metrics: %w", err)
	}
	a.coreMigrations = append(a.coreMigrations, live.Migrations())
	a.eraseOnDeletion(a.Live.EraseUser)
	a.AddRunner(a.Live)
	a.Live.Mount(a.Web.App)
	// Every page of a signed-in person carries their position, where the
	// page's live stream starts (live.js): nothing falls between the page's
	// data and the stream.
	a.Web.Decorate(func(c *fiber.Ctx, p *web.Page) {
		who, ok := accounts.PrincipalOf(c)
		if !ok || who.UserID == 0 || who.OrgID == 0 || !who.Is(accounts.PersonRoles...) {
			return
		}
		pos, err := a.Live.Position(c.UserContext(), who.OrgID, who.UserID)
		if err != nil {
			return
		}
		if p.Extra == nil {
			p.Extra = map[string]any{}
		}
		p.Extra["LivePosition"] = strconv.FormatUint(pos, 10)
	})
	return nil
}

// liveReady adds the unread count to every stream's ready event (one query
// for the streams starting together).
func (a *App) liveReady(ctx context.Context, orgID uint, userIDs []uint) (map[uint]map[string]any, error) {
	ns, err := a.Notify.UnreadCounts(ctx, orgID, userIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[uint]map[string]any, len(ns))
	for u, n := range ns {
		out[u] = map[string]any{"unread": n}
	}
	return out, nil
}
