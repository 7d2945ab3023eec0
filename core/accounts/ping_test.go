package accounts_test

import (
	"context"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/web"
)

type (
	apiRegistrar = huma.API
	pageRouter   = fiber.Router
	pageCtx      = *fiber.Ctx
	navItem      = web.NavItem
)

type pong struct {
	Body struct {
		Pong bool `json:"pong"`
	}
}

func registerPing(api huma.API) {
	// Operation IDs are "<module>-<words>" (core/names): start-up refuses
	// huma's generated "get-hello".
	huma.Get(api, "/hello", func(ctx context.Context, _ *struct{}) (*pong, error) {
		out := &pong{}
		out.Body.Pong = true
		return out, nil
	}, func(o *huma.Operation) { o.OperationID = "ping-hello" })
}
