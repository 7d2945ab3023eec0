package notify

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"path"
	"strings"
	"text/template"
	"time"

	"github.com/portalkit/portalkit/core/i18n"
	"github.com/portalkit/portalkit/core/names"
)

// RequiredLocales must exist for every kind.
var requiredLocales = []string{"en", "it"}

// kindEntry is a declared kind with its parsed templates.
type kindEntry struct {
	Kind
	locales map[string]*localeTemplates
}

type localeTemplates struct {
	locale  string // the tag the templates are written for ("en", "it")
	subject *template.Template
	text    *template.Template
	html    *htmltemplate.Template
}

// Message is a notification rendered for one recipient.
type Message struct {
	// Locale is the language the message is written in: the recipient's,
	// or the one the templates fell back to.
	Locale  string
	Subject string
	Text    string
	HTML    string
}

// TemplateData is what a kind's templates see.
type TemplateData struct {
	Data      map[string]any
	Recipient Recipient
	BaseURL   string
	// Notification is the stored record (ID, Kind, CreatedAt).
	Notification *Record

	catalog *i18n.Catalog
}

// asTime reads a time from Data, which went through JSON: a time.Time, or
// an RFC 3339 string.
func asTime(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t
	case *time.Time:
		if t != nil {
			return *t
		}
	case string:
		if p, err := time.Parse(time.RFC3339Nano, t); err == nil {
			return p
		}
	}
	return time.Time{}
}

func asInt(v any) int64 {
	switch n := v.(type) {
	case int:
		return int64(n)
	case int64:
		return n
	case uint:
		return int64(n)
	case float64:
		return int64(n)
	}
	return 0
}

// Date formats a time (or an RFC 3339 string from Data) as a date in the
// recipient's language and time zone, as pages do ("10 Mar 2025",
// "10 mar 2025"): {{.Date .Notification.CreatedAt}}, {{.Date .Data.due}}.
func (d TemplateData) Date(t any) string {
	return i18n.FormatDate(d.language(), asTime(t), d.location())
}

// DateTime formats a time with the time of day in the recipient's language
// and time zone ("10 Mar 2025 23:30").
func (d TemplateData) DateTime(t any) string {
	return i18n.FormatDateTime(d.language(), asTime(t), d.location())
}

// Money formats minor units of an ISO 4217 currency for the recipient:
// {{.Money .Data.amount_minor .Data.currency}}.
func (d TemplateData) Money(minor any, currency string) string {
	return i18n.FormatMoney(d.language(), asInt(minor), currency)
}

// Int formats a whole number with the recipient's digit grouping.
func (d TemplateData) Int(n any) string { return i18n.FormatInt(d.language(), asInt(n)) }

// T translates English text into the recipient's language with the
// portal's catalogs (keys as pages use them): {{.T .Data.title}}.
func (d TemplateData) T(key string, args ...any) string {
	return d.catalog.T(d.language(), key, args...)
}

// language is the recipient's language ("it" for "it-IT").
func (d TemplateData) language() string {
	lang, _, _ := strings.Cut(strings.ToLower(strings.ReplaceAll(d.Recipient.Locale, "_", "-")), "-")
	return lang
}

// location is the recipient's time zone, UTC when unknown.
func (d TemplateData) location() *time.Location {
	if loc, err := time.LoadLocation(d.Recipient.TimeZone); err == nil && d.Recipient.TimeZone != "" {
		return loc
	}
	return time.UTC
}

// templateFuncs are the functions every kind template may use. date formats
// in English and the server's zone; templates use .Date and .DateTime, which
// follow the recipient.
func templateFuncs() template.FuncMap {
	return template.FuncMap{
		"date":  func(t time.Time) string { return t.Format("2 Jan 2006") },
		"upper": strings.ToUpper,
	}
}

// compileKind validates k and parses its templates: every locale present in
// k.Templates, with "en" and "it" required, each with subject and txt; html
// is optional (without it the e-mail's HTML is the text, in the default
// layout: mail_layout.go).
func compileKind(owner string, k Kind) (*kindEntry, error) {
	if err := names.Qualified("notification kind", k.ID, owner); err != nil {
		return nil, fmt.Errorf("notify: %w", err)
	}
	if strings.TrimSpace(k.Title) == "" {
		return nil, fmt.Errorf("notify: kind %q: no title", k.ID)
	}
	if k.Templates == nil {
		return nil, fmt.Errorf("notify: kind %q: no templates", k.ID)
	}
	e := &kindEntry{Kind: k, locales: map[string]*localeTemplates{}}
	files, err := fs.Glob(k.Templates, k.ID+".*")
	if err != nil {
		return nil, err
	}
	found := map[string]map[string]string{} // locale -> ext -> source
	for _, f := range files {
		rest := strings.TrimPrefix(path.Base(f), k.ID+".")
		loc, ext, ok := strings.Cut(rest, ".")
		if !ok || strings.Contains(ext, ".") {
			continue
		}
		b, err := fs.ReadFile(k.Templates, f)
		if err != nil {
			return nil, fmt.Errorf("notify: kind %q: %w", k.ID, err)
		}
		if found[loc] == nil {
			found[loc] = map[string]string{}
		}
		found[loc][ext] = string(b)
	}
	for _, loc := range requiredLocales {
		if found[loc] == nil {
			return nil, fmt.Errorf("notify: kind %q: no templates for locale %q (want %s.%s.subject and .txt, and optionally .html)", k.ID, loc, k.ID, loc)
		}
	}
	for loc, srcs := range found {
		lt := &localeTemplates{locale: loc}
		name := k.ID + "." + loc
		for _, ext := range []string{"subject", "txt"} {
			if _, ok := srcs[ext]; !ok {
				return nil, fmt.Errorf("notify: kind %q: missing %s.%s", k.ID, name, ext)
			}
		}
		if lt.subject, err = template.New(name + ".subject").Funcs(templateFuncs()).Option("missingkey=zero").Parse(strings.TrimSpace(srcs["subject"])); err != nil {
			return nil, fmt.Errorf("notify: %w", err)
		}
		if lt.text, err = template.New(name + ".txt").Funcs(templateFuncs()).Option("missingkey=zero").Parse(srcs["txt"]); err != nil {
			return nil, fmt.Errorf("notify: %w", err)
		}
		if src, ok := srcs["html"]; ok {
			if lt.html, err = htmltemplate.New(name + ".html").Funcs(htmltemplate.FuncMap(templateFuncs())).Option("missingkey=zero").Parse(src); err != nil {
				return nil, fmt.Errorf("notify: %w", err)
			}
		}
		e.locales[loc] = lt
	}
	return e, nil
}

// pick returns the templates for locale: exact tag, then its language, then
// English.
func (e *kindEntry) pick(locale string) *localeTemplates {
	locale = strings.ToLower(strings.ReplaceAll(locale, "_", "-"))
	if lt, ok := e.locales[locale]; ok {
		return lt
	}
	if lang, _, ok := strings.Cut(locale, "-"); ok {
		if lt, ok := e.locales[lang]; ok {
			return lt
		}
	}
	return e.locales["en"]
}

// render renders the subject and text body, and the HTML body when html.
func (e *kindEntry) render(d TemplateData, html bool) (Message, error) {
	lt := e.pick(d.Recipient.Locale)
	m := Message{Locale: lt.locale}
	var b bytes.Buffer
	if err := lt.subject.Execute(&b, d); err != nil {
		return m, fmt.Errorf("notify: render %s subject: %w", e.ID, err)
	}
	// A subject is one line: header injection and wrapped titles are refused.
	m.Subject = strings.Join(strings.Fields(b.String()), " ")
	b.Reset()
	if err := lt.text.Execute(&b, d); err != nil {
		return m, fmt.Errorf("notify: render %s text: %w", e.ID, err)
	}
	m.Text = strings.TrimSpace(b.String())
	if html {
		body := textToHTML(m.Text)
		if lt.html != nil {
			b.Reset()
			if err := lt.html.Execute(&b, d); err != nil {
				return m, fmt.Errorf("notify: render %s html: %w", e.ID, err)
			}
			body = htmltemplate.HTML(b.String())
		}
		html, err := mailLayout(d, lt.locale, body)
		if err != nil {
			return m, fmt.Errorf("notify: render %s html: %w", e.ID, err)
		}
		m.HTML = html
	}
	return m, nil
}

//go:embed kinds
var coreKindFS embed.FS

func coreKinds() []Kind {
	sub, _ := fs.Sub(coreKindFS, "kinds")
	return []Kind{
		{ID: KindTest, Title: "Test notification", DefaultChannels: []string{ChannelInApp, ChannelEmail},
			Mutable: true, Templates: sub},
		{ID: KindDigest, Title: "Daily digest", DefaultChannels: []string{ChannelEmail},
			Mutable: true, Templates: sub},
	}
}

//go:embed i18n/*.json
var translationFS embed.FS

// Translations returns notify's "<locale>.json" translation files.
func Translations() fs.FS {
	sub, _ := fs.Sub(translationFS, "i18n")
	return sub
}

// TemplateDataFor builds template data as the dispatcher does (tests and
// previews).
func TemplateDataFor(data map[string]any, r Recipient, cat *i18n.Catalog) TemplateData {
	return TemplateData{Data: data, Recipient: r, catalog: cat}
}
