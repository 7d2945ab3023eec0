package web

import (
	"fmt"
	"html/template"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/medama-io/go-useragent"
)

// Label is how a person reads one internal value (a status, a role, a
// category, an event type, a module ID, a unit...): Text is the English
// text, which is also the translation key (put its Italian in the owner's
// it.json); Tone colours a status tag: "ok", "info", "warn", "error" or ""
// (neutral). Owner, when set, is whose translation of Text wins (the
// module's ID for the module's own name: "Health" is "Salute" for the
// health module and "Stato" on automotive's pages); empty, the page's.
type Label struct {
	Text  string
	Tone  string
	Owner string
}

// Labels maps the internal values of one kind to their labels.
type Labels map[string]Label

// Texts is a shorthand for a label set without tones.
func Texts(m map[string]string) Labels {
	out := make(Labels, len(m))
	for k, v := range m {
		out[k] = Label{Text: v}
	}
	return out
}

// labelRegistry holds every label set by kind. Kinds are named
// "<owner>.<what>" ("automotive.booking_status") or, for the core's shared
// kinds, one word: "role", "module", "event", "channel", "mime", "unit".
type labelRegistry struct {
	mu      sync.RWMutex
	kinds   map[string]Labels
	missing func(kind, value string)
}

func (r *labelRegistry) add(kind string, set Labels) error {
	if kind == "" {
		return fmt.Errorf("labels: empty kind")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.kinds == nil {
		r.kinds = map[string]Labels{}
	}
	cur := r.kinds[kind]
	if cur == nil {
		cur = Labels{}
		r.kinds[kind] = cur
	}
	for v, l := range set {
		if l.Text == "" {
			return fmt.Errorf("labels %s: value %q has no text", kind, v)
		}
		if old, dup := cur[v]; dup && old != l {
			return fmt.Errorf("labels %s: value %q is labelled twice (%q and %q)", kind, v, old.Text, l.Text)
		}
		cur[v] = l
	}
	return nil
}

func (r *labelRegistry) get(kind, value string) (Label, bool) {
	r.mu.RLock()
	l, ok := r.kinds[kind][value]
	fn := r.missing
	r.mu.RUnlock()
	if !ok && fn != nil && value != "" {
		fn(kind, value)
	}
	return l, ok
}

// all returns a copy of every set (for tests and docs).
func (r *labelRegistry) all() map[string]Labels {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make(map[string]Labels, len(r.kinds))
	for k, set := range r.kinds {
		cp := make(Labels, len(set))
		for v, l := range set {
			cp[v] = l
		}
		out[k] = cp
	}
	return out
}

// AddLabels registers the labels of kind's values. A value labelled twice
// with different texts is an error naming it. Modules declare theirs with
// Host.Labels.
func (s *Server) AddLabels(kind string, set Labels) error { return s.labels.add(kind, set) }

// LabelSets returns every registered label set by kind.
func (s *Server) LabelSets() map[string]Labels { return s.labels.all() }

// LabelKinds returns the registered kinds, sorted.
func (s *Server) LabelKinds() []string {
	sets := s.labels.all()
	out := make([]string, 0, len(sets))
	for k := range sets {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// OnMissingLabel calls fn whenever a page shows a value that no label set
// of its kind knows (the page shows it humanised). Tests use it to prove a
// walk through the pages meets no unlabelled value; nil turns it off.
func (s *Server) OnMissingLabel(fn func(kind, value string)) {
	s.labels.mu.Lock()
	defer s.labels.mu.Unlock()
	s.labels.missing = fn
}

// Label is the translated label of value (any string-like value) of kind:
// {{$.Label "role" .Role}}. A value no set knows is shown humanised
// ("service_done" → "Service done") and reported to OnMissingLabel, so a
// person never reads an internal key.
func (p *Page) Label(kind string, value any) string {
	v := fmt.Sprint(value)
	if v == "" {
		return ""
	}
	if p.labels != nil {
		if l, ok := p.labels.get(kind, v); ok {
			if l.Owner != "" {
				return p.catalog.TIn(l.Owner, p.Lang, l.Text)
			}
			return p.T(l.Text)
		}
	}
	return p.T(Humanise(v))
}

// Tag is a status tag: the translated label of value of kind in a pill
// coloured by its tone, {{$.Tag "automotive.booking_status" .Status}}.
func (p *Page) Tag(kind string, value any) template.HTML {
	v := fmt.Sprint(value)
	tone := ""
	if p.labels != nil {
		if l, ok := p.labels.get(kind, v); ok {
			tone = l.Tone
		}
	}
	cls := "tag"
	if tone != "" {
		cls += " tag-" + tone
	}
	text := template.HTMLEscapeString(p.Label(kind, v))
	return template.HTML(`<strong class="` + cls + `">` + text + `</strong>`)
}

// N is a counted text in the page's language with the plural form the
// CLDR rules give for n: {{$.N .Count "%d new message" "%d new messages"}}.
// Extra args follow n in the format.
func (p *Page) N(n any, one, other string, args ...any) string {
	return p.catalog.NIn(p.owner, p.Lang, toInt64(n), one, other, args...)
}

// Week names an ISO week for people: "2026-W49" (or the Monday of the
// week as a time) reads "Week of 30 Nov 2026" in the page's language.
// Anything else is returned as it is.
func (p *Page) Week(week any) string {
	var monday time.Time
	switch w := week.(type) {
	case time.Time:
		monday = w
	case string:
		var y, n int
		if _, err := fmt.Sscanf(w, "%d-W%d", &y, &n); err != nil || n < 1 || n > 53 {
			return w
		}
		monday = isoWeekMonday(y, n)
	default:
		return fmt.Sprint(week)
	}
	return p.T("Week of %s", i18nDate(p, monday))
}

func i18nDate(p *Page, t time.Time) string {
	saved := p.TimeZone
	p.TimeZone = time.UTC // a week is a calendar date, not an instant
	defer func() { p.TimeZone = saved }()
	return p.Date(t)
}

// isoWeekMonday is the Monday of ISO week n of year y.
func isoWeekMonday(y, n int) time.Time {
	jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, time.UTC) // always in week 1
	offset := (int(jan4.Weekday()) + 6) % 7          // days since Monday
	return jan4.AddDate(0, 0, -offset+(n-1)*7)
}

// FileType names a MIME type for people ("PDF document"): the "mime"
// label set, else the type's subtype in capitals ("image/webp" → "WEBP
// file").
func (p *Page) FileType(mime string) string {
	base, _, _ := strings.Cut(mime, ";")
	base = strings.ToLower(strings.TrimSpace(base))
	if p.labels != nil {
		p.labels.mu.RLock()
		l, ok := p.labels.kinds["mime"][base]
		p.labels.mu.RUnlock()
		if ok {
			return p.T(l.Text)
		}
	}
	_, sub, ok := strings.Cut(base, "/")
	if !ok || sub == "" {
		return p.T("File")
	}
	return p.T("%s file", strings.ToUpper(sub))
}

// Humanise turns an internal key into words: "login_ok" → "Login ok",
// "automotive.service_done" → "Service done" (the part after the last
// dot). It is the fallback for values no label set knows.
func Humanise(key string) string {
	if i := strings.LastIndexByte(key, '.'); i >= 0 && i < len(key)-1 {
		key = key[i+1:]
	}
	key = strings.Map(func(r rune) rune {
		if r == '_' || r == '-' {
			return ' '
		}
		return r
	}, key)
	key = strings.TrimSpace(key)
	for i, r := range key {
		return string(unicode.ToUpper(r)) + key[i+len(string(r)):]
	}
	return key
}

func toInt64(n any) int64 {
	switch x := n.(type) {
	case int:
		return int64(x)
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int64:
		return x
	case uint:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		return int64(x)
	case float64:
		return int64(x)
	case float32:
		return int64(x)
	}
	return 0
}

// Option is one choice of a ui.radios component: Value is sent, Label
// (an English key) is shown translated, Hint optionally explains it.
type Option struct {
	Value string
	Label string
	Hint  string
}

var uaParser = sync.OnceValue(useragent.NewParser)

// Device names the browser and system of a user agent for people ("Chrome
// on Linux", "Safari on iOS"), parsed by medama-io/go-useragent; an agent
// it does not know is "Unknown device".
func (p *Page) Device(userAgent string) string {
	ua := uaParser().Parse(userAgent)
	browser, os := string(ua.Browser()), string(ua.OS())
	switch {
	case browser != "" && os != "":
		return p.T("%s on %s", browser, os)
	case browser != "":
		return browser
	case os != "":
		return os
	}
	return p.T("Unknown device")
}
