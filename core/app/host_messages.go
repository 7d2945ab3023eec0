package app

import "github.com/portalkit/portalkit/core/experience/messages"

// Messages returns secure messaging, for modules that open conversations
// about their objects (messages.Service.Open).
func (h *host) Messages() *messages.Service { return h.app.Messages }
