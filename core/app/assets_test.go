package app_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/notify"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/web"
)

// assetsModule declares its files with one Assets call, and a
// notification kind without templates of its own.
type assetsModule struct{ tree fstest.MapFS }

func (*assetsModule) Info() module.Info {
	return module.Info{ID: "assets", Name: "Assets", Version: "0", Description: "Assets test."}
}

func (m *assetsModule) Init(h module.Host) error {
	h.Assets(m.tree)
	h.Notification(notify.Kind{ID: "assets.hello", Title: "Hello", DefaultChannels: []string{notify.ChannelInApp}})
	h.Pages(func(r fiber.Router) {
		r.Get("/", func(c *fiber.Ctx) error { return web.Render(c, "assets/page", "Hello", nil) })
	})
	return nil
}

// Assets registers templates, Italian and the default notification texts
// from one tree; a tree with none of its directories, or a kind whose
// texts it lacks, stops start-up naming the module or the kind.
func TestAssetsDeclareAModulesFilesOnce(t *testing.T) {
	good := fstest.MapFS{
		"templates/page.html":          {Data: []byte(`{{define "content"}}{{.T "Hello"}}{{end}}`)},
		"i18n/it.json":                 {Data: []byte(`{"Hello": "Ciao"}`)},
		"mail/assets.hello.en.subject": {Data: []byte("Hello")},
		"mail/assets.hello.en.txt":     {Data: []byte("Hello {{.Recipient.Name}}")},
		"mail/assets.hello.it.subject": {Data: []byte("Ciao")},
		"mail/assets.hello.it.txt":     {Data: []byte("Ciao {{.Recipient.Name}}")},
	}
	ta := portaltest.New(t, []module.Module{&assetsModule{tree: good}})
	if res := ta.Do(t, "GET", "/m/assets/", nil, map[string]string{"Accept-Language": "it"}); res.Status != 200 || !strings.Contains(res.Body, "Ciao") {
		t.Errorf("the page from templates/, in Italian: %d\n%.400s", res.Status, res.Body)
	}
	if got := ta.Web.Catalog().T("it", "Hello"); got != "Ciao" {
		t.Errorf("the Italian from i18n/it.json: T(it, Hello) = %q", got)
	}

	for name, tc := range map[string]struct {
		tree fstest.MapFS
		want string
	}{
		"no known directory": {fstest.MapFS{"templates.html": {Data: []byte("x")}}, "module assets: assets: none of templates/"},
		"no mail for a kind": {fstest.MapFS{"i18n/it.json": {Data: []byte(`{}`)}}, `kind "assets.hello": no templates`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := app.New(context.Background(), app.Options{Config: portaltest.Config(t), Modules: []module.Module{&assetsModule{tree: tc.tree}}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}
