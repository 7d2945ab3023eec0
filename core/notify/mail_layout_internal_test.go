package notify

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/portalkit/portalkit/core/i18n"
)

// A kind with only subject and text gets an HTML part in the default
// layout (escaped paragraphs, linked addresses, the reader's language and
// the preferences footer); a fragment is wrapped; a whole document is kept.
func TestMailLayout(t *testing.T) {
	files := fstest.MapFS{
		"xx.plain.en.subject": {Data: []byte("Saved")},
		"xx.plain.en.txt":     {Data: []byte("Hello {{.Recipient.Name}},\n\nyour note <b> is saved.\nSee {{.BaseURL}}/m/x/?a=1&b=2.")},
		"xx.plain.it.subject": {Data: []byte("Salvata")},
		"xx.plain.it.txt":     {Data: []byte("Ciao {{.Recipient.Name}},\n\nla nota è salvata.")},
		"xx.frag.en.subject":  {Data: []byte("S")}, "xx.frag.en.txt": {Data: []byte("T")},
		"xx.frag.en.html":    {Data: []byte("<p>Fragment {{.Recipient.Name}}</p>")},
		"xx.frag.it.subject": {Data: []byte("S")}, "xx.frag.it.txt": {Data: []byte("T")},
		"xx.frag.it.html": {Data: []byte("<!DOCTYPE html><html lang=\"it\"><body>Intero</body></html>")},
	}
	cat := i18n.NewCatalog()
	if err := cat.Load(Translations()); err != nil {
		t.Fatal(err)
	}
	render := func(kind, locale string) Message {
		t.Helper()
		e, err := compileKind("xx", Kind{ID: kind, Title: "X", Templates: files})
		if err != nil {
			t.Fatal(err)
		}
		m, err := e.render(TemplateData{Recipient: Recipient{Name: "Ada <Lovelace>", Locale: locale}, BaseURL: "https://portal.example", catalog: cat}, true)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}

	en := render("xx.plain", "en")
	for _, want := range []string{
		`<html lang="en">`,
		"<p>Hello Ada &lt;Lovelace&gt;,</p>",
		"your note &lt;b&gt; is saved.<br>",
		`<a href="https://portal.example/m/x/?a=1&amp;b=2">https://portal.example/m/x/?a=1&amp;b=2</a>.</p>`,
		`<a href="https://portal.example/notifications/preferences">Choose which messages you receive</a>`,
	} {
		if !strings.Contains(en.HTML, want) {
			t.Errorf("English HTML lacks %q:\n%s", want, en.HTML)
		}
	}
	if strings.Contains(en.HTML, "<b>") {
		t.Errorf("the text's markup reached the HTML unescaped:\n%s", en.HTML)
	}
	it := render("xx.plain", "it-IT")
	for _, want := range []string{`<html lang="it">`, "<p>la nota è salvata.</p>", "Scegli quali messaggi ricevere"} {
		if !strings.Contains(it.HTML, want) {
			t.Errorf("Italian HTML lacks %q:\n%s", want, it.HTML)
		}
	}
	if frag := render("xx.frag", "en"); !strings.Contains(frag.HTML, "<p>Fragment Ada &lt;Lovelace&gt;</p>") || !strings.Contains(frag.HTML, "notifications/preferences") {
		t.Errorf("a fragment is not wrapped in the layout:\n%s", frag.HTML)
	}
	if whole := render("xx.frag", "it"); whole.HTML != `<!DOCTYPE html><html lang="it"><body>Intero</body></html>` {
		t.Errorf("a whole document was changed:\n%s", whole.HTML)
	}
	if _, err := compileKind("xx", Kind{ID: "xx.none", Title: "X", Templates: fstest.MapFS{"xx.none.en.subject": {Data: []byte("S")}, "xx.none.it.subject": {Data: []byte("S")}, "xx.none.it.txt": {Data: []byte("T")}}}); err == nil || !strings.Contains(err.Error(), "xx.none.en.txt") {
		t.Errorf("a kind without its text template: err = %v, want one naming xx.none.en.txt", err)
	}
}
