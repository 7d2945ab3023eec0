package app

import (
	"io/fs"
)

// HelpArticles registers the module's default help articles (Markdown
// files with front matter in fsys). A malformed file stops start-up with
// its name.
func (h *host) HelpArticles(fsys fs.FS) {
	if err := h.app.Help.AddDefaults(h.info.ID, fsys); err != nil {
		h.app.helpErrs = append(h.app.helpErrs, err)
	}
}

// HelpSynonyms registers the module's synonym groups for help search in
// locale. A group that cannot match stops start-up with its text.
func (h *host) HelpSynonyms(locale string, groups ...string) {
	if err := h.app.Help.AddSynonyms(h.info.ID, locale, groups...); err != nil {
		h.app.helpErrs = append(h.app.helpErrs, err)
	}
}
