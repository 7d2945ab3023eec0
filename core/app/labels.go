package app

import (
	"fmt"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/experience/feedback"
	"github.com/portalkit/portalkit/core/web"
)

// coreModuleNames name the core's own areas where a module ID is shown
// (the timeline's and the help centre's module filter, device lists).
var coreModuleNames = web.Texts(map[string]string{
	"accounts":  "Account",
	"notify":    "Notifications",
	"messages":  "Messages",
	"help":      "Help",
	"feedback":  "Feedback",
	"devices":   "Devices",
	"schedule":  "Jobs",
	"dashboard": "Dashboard",
	"drafts":    "Drafts",
	"timeline":  "Activity",
	"portal":    "Portal",
})

// coreLabels registers the label sets of the core: roles; the module kind,
// which names every loaded module by its Info.Name and the core's areas by
// coreModuleNames; the journey steps by their question; the audit log's
// events. Modules add their own with Host.Labels.
func (a *App) coreLabels() error {
	if err := a.Web.AddLabels("role", accounts.RoleLabels()); err != nil {
		return err
	}
	if err := a.Web.AddLabels("module", coreModuleNames); err != nil {
		return err
	}
	for _, h := range a.modules {
		if h.info.Name == "" {
			return fmt.Errorf("module %s: Info.Name is empty; people see it where the module is named", h.info.ID)
		}
		if err := a.Web.AddLabels("module", web.Labels{h.info.ID: {Text: h.info.Name, Owner: h.info.ID}}); err != nil {
			return fmt.Errorf("module %s: %w", h.info.ID, err)
		}
	}
	steps := web.Labels{feedback.CoreStep.ID: {Text: feedback.CoreStep.Question}, feedback.HelpStep.ID: {Text: feedback.HelpStep.Question}}
	for _, h := range a.modules {
		for _, s := range h.steps {
			steps[s.ID] = web.Label{Text: s.Question}
		}
	}
	if err := a.Web.AddLabels("feedback.step", steps); err != nil {
		return err
	}
	if err := a.Web.AddLabels("accounts.audit", accounts.AuditLabels()); err != nil {
		return err
	}
	for kind, set := range coreLabelSets {
		if err := a.Web.AddLabels(kind, set); err != nil {
			return err
		}
	}
	return nil
}

// coreLabelSets are the shared kinds the core fills: file types shown in
// attachment hints and lists.
var coreLabelSets = map[string]web.Labels{
	"mime": web.Texts(map[string]string{
		"application/pdf": "PDF document",
		"image/jpeg":      "JPEG image",
		"image/png":       "PNG image",
		"image/webp":      "WebP image",
		"image/gif":       "GIF image",
		"image/heic":      "HEIC photo",
		"text/plain":      "Text file",
		"text/csv":        "CSV spreadsheet",
		"application/zip": "ZIP archive",
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word document",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":       "Excel spreadsheet",
		"application/msword":       "Word document",
		"application/vnd.ms-excel": "Excel spreadsheet",
		"application/json":         "JSON file",
	}),
	// language names a locale where one is shown as data (a help
	// article's language); the language pickers name each in its own.
	"language": web.Texts(map[string]string{"en": "English", "it": "Italian"}),
}
