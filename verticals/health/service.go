package health

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/events"
	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/store"
)

// Service is the health vertical's logic; pages and the API call it with
// the caller's principal.
type Service struct {
	st     *store.Store
	acc    *accounts.Service
	bus    *events.Bus
	notify *notify.Service
	live   live.Publisher
	now    func() time.Time
	log    *slog.Logger
}

func (s *Service) db(ctx context.Context, orgID uint) *gorm.DB {
	return store.Org(s.st.DB.WithContext(ctx), orgID)
}

func itoa(n uint) string { return strconv.FormatUint(uint64(n), 10) }

func errorsAs(err error) (*errs.Error, bool) { return errs.As(err) }
