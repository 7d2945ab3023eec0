package app

import "github.com/portalkit/portalkit/core/dashboard"

// Widget implements module.Host: the widget joins the dashboard registry
// under the module's ID. Mistakes are reported, naming the widget, when the
// kernel seals the registry after wiring.
func (h *host) Widget(w dashboard.Widget) { h.app.Dashboard.AddModuleWidget(h.info.ID, w) }
