package app

import (
	"github.com/portalkit/portalkit/core/live"
	"github.com/portalkit/portalkit/core/notify"
)

// Live is the module's publisher of live events (core/live): names are
// prefixed with the module's ID.
func (h *host) Live() live.Publisher { return h.app.Live.Publisher(h.info.ID) }

// Notify is the notification service, for modules that send.
func (h *host) Notify() *notify.Service { return h.app.Notify }

// Notification declares a notification kind of the module. Problems (a
// kind ID outside the module's namespace, missing templates) stop start-up
// with a message naming the kind. A kind without Templates uses the mail/
// directory of the module's Assets.
func (h *host) Notification(k notify.Kind) { h.app.Notify.Declare(h.info.ID, h.withDefaultMail(k)) }

// NotificationChannel adds a delivery channel (SMS, push) to the service.
func (h *host) NotificationChannel(ch notify.Channel) { h.app.Notify.AddChannel(ch) }
