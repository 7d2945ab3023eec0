package app

import (
	"fmt"
	"io/fs"

	"github.com/portalkit/portalkit/core/notify"
)

// assetDirs are the directories Assets looks for, in a module's tree.
var assetDirs = []string{"templates", "i18n", "help", "mail"}

// Assets implements module.Host: one declaration for a module's files laid
// out by convention (templates/, i18n/, help/, mail/), instead of an embed,
// an fs.Sub and a call per directory. A tree with none of them is a
// mistake (a wrong embed pattern) and stops start-up naming the module.
func (h *host) Assets(fsys fs.FS) {
	found := 0
	for _, dir := range assetDirs {
		st, err := fs.Stat(fsys, dir)
		if err != nil || !st.IsDir() {
			continue
		}
		found++
		sub, err := fs.Sub(fsys, dir)
		if err != nil {
			h.declErrs = append(h.declErrs, fmt.Errorf("module %s: assets: %w", h.info.ID, err))
			return
		}
		switch dir {
		case "templates":
			h.Templates(sub)
		case "i18n":
			h.Translations(sub)
		case "help":
			h.HelpArticles(sub)
		case "mail":
			h.mail = sub
		}
	}
	if found == 0 {
		h.declErrs = append(h.declErrs, fmt.Errorf("module %s: assets: none of templates/, i18n/, help/ or mail/ in the tree given to Assets (embed the directories, e.g. //go:embed templates i18n mail)", h.info.ID))
	}
}

// withDefaultMail gives a notification kind declared without templates the
// module's mail/ directory from Assets.
func (h *host) withDefaultMail(k notify.Kind) notify.Kind {
	if k.Templates == nil && h.mail != nil {
		k.Templates = h.mail
	}
	return k
}
