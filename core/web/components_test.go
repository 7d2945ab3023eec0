package web

import (
	"bytes"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/portalkit/portalkit/core/i18n"
)

// renderWith renders a test page "t/page" whose content block is src with
// the core layout and components, in lang.
func renderWith(t *testing.T, lang, src string, data any, reg *labelRegistry, nav []NavItem) (string, []string) {
	t.Helper()
	cat := i18n.NewCatalog()
	if err := cat.Load(coreTranslations()); err != nil {
		t.Fatal(err)
	}
	if err := cat.Load(fstest.MapFS{"it.json": {Data: []byte(`{"Booked": "Prenotato", "Plate": "Targa", "As on the registration": "Come sul libretto", "is required": "è obbligatorio", "Choose a day": "Scegli un giorno", "Morning": "Mattina", "Afternoon": "Pomeriggio", "Nothing booked yet.": "Ancora nessuna prenotazione.", "Book a service": "Prenota un tagliando", "%d new message": "%d nuovo messaggio", "%d new messages": "%d nuovi messaggi"}`)}}); err != nil {
		t.Fatal(err)
	}
	var missing []string
	cat.OnMissing(func(locale, key string) { missing = append(missing, key) })
	v := newViews()
	if err := v.Add("", coreTemplates()); err != nil {
		t.Fatal(err)
	}
	if err := v.Add("t", fstest.MapFS{"page.html": {Data: []byte(`{{define "content"}}` + src + `{{end}}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := v.Build(); err != nil {
		t.Fatal(err)
	}
	if reg == nil {
		reg = &labelRegistry{}
	}
	p := &Page{Lang: lang, Data: data, Path: "/admin/users", catalog: cat, views: v, labels: reg, Nav: nav, TimeZone: time.UTC, Brand: Branding{Name: "Demo"}}
	var buf bytes.Buffer
	if err := v.Execute(&buf, "t/page", p); err != nil {
		t.Fatal(err)
	}
	return buf.String(), missing
}

func TestComponentsRenderTranslatedAndLinked(t *testing.T) {
	src := `{{template "ui.errorSummary" (dict "Page" $ "Errors" .Data.Errors)}}
{{template "ui.field" (dict "Page" $ "Name" "plate" "Label" "Plate" "Hint" "As on the registration" "Value" "AB123" "Error" (index .Data.Errors "plate"))}}
{{template "ui.radios" (dict "Page" $ "Name" "slot" "Legend" "Choose a day" "Options" .Data.Options "Value" "pm")}}
{{template "ui.empty" (dict "Page" $ "Text" "Nothing booked yet." "Action" "Book a service" "Href" "/m/automotive/book")}}`
	data := map[string]any{
		"Errors":  map[string]string{"plate": "is required"},
		"Options": []Option{{Value: "am", Label: "Morning"}, {Value: "pm", Label: "Afternoon"}},
	}
	out, missing := renderWith(t, "it", src, data, nil, nil)
	for _, want := range []string{
		`<a href="#f-plate">è obbligatorio</a>`, `C&#39;è un problema`,
		`<label for="f-plate">Targa</label>`, `id="f-plate-hint">Come sul libretto`,
		`aria-describedby="f-plate-hint f-plate-error"`, `aria-invalid="true"`, `value="AB123"`,
		`<legend>Scegli un giorno</legend>`, `value="pm" checked`, `<label for="f-slot-0">Mattina</label>`,
		`Ancora nessuna prenotazione.`, `<a class="button" href="/m/automotive/book">Prenota un tagliando</a>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
	if strings.Contains(out, `value="am" checked`) {
		t.Error("an unchosen radio is checked")
	}
	if len(missing) > 0 {
		t.Errorf("untranslated in Italian: %q", missing)
	}
	// Without errors the summary renders nothing.
	out, _ = renderWith(t, "en", `{{template "ui.errorSummary" (dict "Page" $ "Errors" .Data)}}`, map[string]string{}, nil, nil)
	if strings.Contains(out, "error-summary") {
		t.Error("an error summary without errors was rendered")
	}
}

func TestLabelsTagsAndPlurals(t *testing.T) {
	reg := &labelRegistry{}
	if err := reg.add("automotive.booking_status", Labels{"booked": {Text: "Booked", Tone: "info"}}); err != nil {
		t.Fatal(err)
	}
	if err := reg.add("automotive.booking_status", Labels{"booked": {Text: "Reserved"}}); err == nil {
		t.Error("a value labelled twice differently was accepted")
	}
	var unknown []string
	reg.missing = func(kind, value string) { unknown = append(unknown, kind+":"+value) }
	src := `[{{$.Tag "automotive.booking_status" "booked"}}] [{{$.Label "automotive.booking_status" "login_ok"}}] [{{$.N 1 "%d new message" "%d new messages"}}] [{{$.N 0 "%d new message" "%d new messages"}}] [{{$.Week "2026-W49"}}] [{{$.FileType "application/pdf; charset=x"}}]`
	out, _ := renderWith(t, "it", src, nil, reg, nil)
	for _, want := range []string{
		`[<strong class="tag tag-info">Prenotato</strong>]`, `[Login ok]`, `[1 nuovo messaggio]`, `[0 nuovi messaggi]`,
		`[Settimana del 30 nov 2026]`, `[File PDF]`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered %q lacks %q", out[strings.Index(out, "<main"):], want)
		}
	}
	if len(unknown) != 1 || unknown[0] != "automotive.booking_status:login_ok" {
		t.Errorf("unknown values reported: %q", unknown)
	}
	for in, want := range map[string]string{"login_ok": "Login ok", "automotive.service_done": "Service done", "": "", "x": "X"} {
		if got := Humanise(in); got != want {
			t.Errorf("Humanise(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNavigationIsGroupedIntoMenus(t *testing.T) {
	var nav []NavItem
	for i, l := range []string{"Dashboard", "My car", "My money", "Messages", "My activity", "Help", "Devices", "Notifications"} {
		nav = append(nav, NavItem{Label: l, Path: "/p" + string(rune('a'+i)), Order: i})
	}
	nav = append(nav, NavItem{Label: "Users", Path: "/admin/users", Group: "Administration", Order: 900},
		NavItem{Label: "Audit log", Path: "/admin/audit", Group: "Administration", Order: 920})
	p := &Page{Nav: nav, Path: "/admin/users/7"}
	m := p.NavMenu()
	if len(m.Primary) != MaxPrimaryNav || m.Primary[0].Label != "Dashboard" {
		t.Fatalf("primary row: %+v", m.Primary)
	}
	if len(m.Groups) != 2 || m.Groups[0].Label != "More" || len(m.Groups[0].Items) != 3 || m.Groups[1].Label != "Administration" {
		t.Fatalf("groups: %+v", m.Groups)
	}
	if m.Groups[0].Current || !m.Groups[1].Current {
		t.Errorf("the Administration menu should be current for /admin/users/7: %+v", m.Groups)
	}
	out, _ := renderWith(t, "it", ``, nil, nil, nav)
	for _, want := range []string{`<summary>Altro</summary>`, `<summary class="current">Amministrazione</summary>`, `<a href="/admin/users" aria-current="page">`} {
		if !strings.Contains(out, want) {
			t.Errorf("layout lacks %q", want)
		}
	}
	if p.IsCurrent("/") || !(&Page{Path: "/"}).IsCurrent("/") || (&Page{Path: "/helpful"}).IsCurrent("/help") {
		t.Error("IsCurrent matches the wrong paths")
	}
}

func TestDeviceNamesAUserAgent(t *testing.T) {
	out, _ := renderWith(t, "it", `[{{$.Device "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"}}] [{{$.Device "portaltest"}}]`, nil, nil, nil)
	for _, want := range []string{"[Chrome su Linux]", "[Dispositivo sconosciuto]"} {
		if !strings.Contains(out, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

// A label with an Owner is translated in its owner's words: two modules
// may translate one English word differently ("Health": automotive's car
// status, health's module name), and the module label set names the
// health module on every page, automotive's included.
func TestLabelIsTranslatedInItsOwnersWords(t *testing.T) {
	cat := i18n.NewCatalog()
	if err := cat.LoadFor("automotive", fstest.MapFS{"it.json": {Data: []byte(`{"Health": "Stato"}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := cat.LoadFor("health", fstest.MapFS{"it.json": {Data: []byte(`{"Health": "Salute"}`)}}); err != nil {
		t.Fatal(err)
	}
	reg := &labelRegistry{}
	if err := reg.add("module", Labels{"health": {Text: "Health", Owner: "health"}}); err != nil {
		t.Fatal(err)
	}
	for _, owner := range []string{"", "automotive", "help"} {
		p := &Page{Lang: "it", catalog: cat, labels: reg, owner: owner}
		if got := p.Label("module", "health"); got != "Salute" {
			t.Errorf("on a page of %q the health module is named %q, want Salute", owner, got)
		}
	}
	if got := (&Page{Lang: "it", catalog: cat, labels: reg, owner: "automotive"}).T("Health"); got != "Stato" {
		t.Errorf("automotive's own Health = %q, want Stato", got)
	}
}
