package app

import (
	"fmt"
	"strings"

	"github.com/portalkit/portalkit/core/accounts"
)

// GroupKind implements module.Host: the kind joins the accounts policy
// under the module's ID. A kind named for another module, malformed or
// declared twice stops start-up naming the module and the kind.
func (h *host) GroupKind(k accounts.GroupKind) {
	if !strings.Contains(k.ID, ".") {
		k.ID = h.info.ID + "." + k.ID
	}
	if m, _, _ := strings.Cut(k.ID, "."); m != h.info.ID {
		h.declErrs = append(h.declErrs, fmt.Errorf("module %s: group kind %s must be named %s.<name>", h.info.ID, k.ID, h.info.ID))
		return
	}
	if err := h.app.Accounts.DeclareGroupKind(k); err != nil {
		h.declErrs = append(h.declErrs, fmt.Errorf("module %s: %w", h.info.ID, err))
	}
}
