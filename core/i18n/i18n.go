// Package i18n translates portal text and formats dates, numbers and money
// for a locale. Text is keyed by its English source ("Sign in"), so a
// missing translation falls back to readable English and templates read
// naturally: {{.T "Sign in"}}. Translations are JSON files named
// "<locale>.json" ({"Sign in": "Accedi"}) that each package or module ships
// beside its templates; a test checks that every key used in a template
// has an Italian translation.
//
// i18n imports nothing from PortalKit.
package i18n

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// Locales are the locales the portal ships translations for. The first is
// the fallback.
var Locales = []string{"en", "it"}

// Supported reports whether locale is one of Locales.
func Supported(locale string) bool {
	for _, l := range Locales {
		if l == locale {
			return true
		}
	}
	return false
}

// Catalog holds translations by locale. The zero value is not usable; use
// NewCatalog.
type Catalog struct {
	mu   sync.RWMutex
	msgs map[string]map[string]string
	// owned holds, per owner (a module or core service), the translations
	// of keys another owner translated first and differently: "Open" may be
	// "Aperto" in one module and "Apri" in another. Pages of that owner see
	// its own choice (TIn); everything else sees the first.
	owned map[string]map[string]map[string]string
	// loaded records which owner's files set each global translation.
	loaded map[string]map[string]string
	// patterns are the format keys ("must be at least %d characters") of
	// each locale, built on first use after a Load.
	patterns map[string][]pattern
	missing  func(locale, key string)
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog { return &Catalog{msgs: map[string]map[string]string{}} }

// Load reads every "<locale>.json" file at the top of fsys. A key defined
// twice with different texts is an error naming both.
func (c *Catalog) Load(fsys fs.FS) error { return c.LoadFor("", fsys) }

// LoadFor reads owner's translation files. A key that an earlier owner
// translated differently keeps its first translation globally, and owner's
// own translation for owner's pages (TIn); only two different translations
// of one key from the same owner are an error.
func (c *Catalog) LoadFor(owner string, fsys fs.FS) error {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".json" {
			continue
		}
		locale := strings.TrimSuffix(e.Name(), ".json")
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return err
		}
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			return fmt.Errorf("translations %s: %w", e.Name(), err)
		}
		if c.msgs[locale] == nil {
			c.msgs[locale] = map[string]string{}
		}
		if c.loaded == nil {
			c.loaded = map[string]map[string]string{}
		}
		if c.loaded[locale] == nil {
			c.loaded[locale] = map[string]string{}
		}
		for k, v := range m {
			old, dup := c.msgs[locale][k]
			switch {
			case !dup:
				c.msgs[locale][k] = v
				c.loaded[locale][k] = owner
			case old == v:
			case c.loaded[locale][k] == owner:
				return fmt.Errorf("translations %s of %s: %q is translated twice (%q and %q)", e.Name(), ownerName(owner), k, old, v)
			default:
				if c.owned == nil {
					c.owned = map[string]map[string]map[string]string{}
				}
				if c.owned[owner] == nil {
					c.owned[owner] = map[string]map[string]string{}
				}
				if c.owned[owner][locale] == nil {
					c.owned[owner][locale] = map[string]string{}
				}
				c.owned[owner][locale][k] = v
			}
		}
	}
	c.patterns = nil
	return nil
}

func ownerName(o string) string {
	if o == "" {
		return "the core"
	}
	return o
}

// TIn is T for a page of owner: owner's own translation of key wins.
func (c *Catalog) TIn(owner, locale, key string, args ...any) string {
	if c != nil && owner != "" {
		c.mu.RLock()
		tr, ok := c.owned[owner][locale][key]
		c.mu.RUnlock()
		if ok {
			return format(tr, args)
		}
	}
	return c.T(locale, key, args...)
}

// T translates key into locale and, with args, formats it like fmt.Sprintf.
//
// Without args, a key that has no translation of its own may be a message
// Go code already formatted ("must be at least 10 characters"): T then
// matches it against the catalog's format keys ("must be at least %d
// characters") and formats the translation with the same values. A %s or
// %v value is itself translated when the catalog knows it ("15 minutes",
// "admin"), item by item for a comma-separated list. This is how messages
// produced in English for the API are shown translated on pages.
func (c *Catalog) T(locale, key string, args ...any) string {
	if c == nil {
		return format(key, args)
	}
	if locale == "en" {
		// English is the keys themselves, except for the few keys that are
		// not the text shown (e.g. "service due" → "due soon"), which an
		// en.json names.
		if tr, ok := c.lookup("en", key); ok {
			return format(tr, args)
		}
		return format(key, args)
	}
	if len(args) > 0 {
		tr, ok := c.lookup(locale, key)
		if !ok {
			c.reportMissing(locale, key)
		}
		return format(tr, args)
	}
	tr, ok := c.translate(locale, key, 0)
	if !ok {
		c.reportMissing(locale, key)
	}
	return tr
}

func format(text string, args []any) string {
	if len(args) > 0 {
		return fmt.Sprintf(text, args...)
	}
	return text
}

func (c *Catalog) lookup(locale, key string) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if tr, ok := c.msgs[locale][key]; ok && tr != "" {
		return tr, true
	}
	return key, false
}

// OnMissing calls fn whenever T finds no translation for a text in a
// locale the catalog has translations for. Tests use it to prove that a
// walk through the pages meets no untranslated text; nil turns it off.
func (c *Catalog) OnMissing(fn func(locale, key string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.missing = fn
}

func (c *Catalog) reportMissing(locale, key string) {
	c.mu.RLock()
	fn, known := c.missing, c.msgs[locale] != nil
	c.mu.RUnlock()
	if fn != nil && known && strings.TrimSpace(key) != "" {
		fn(locale, key)
	}
}

func hasLetter(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// maxDepth bounds the translation of values inside values.
const maxDepth = 2

// translate looks text up exactly, then as an instance of a format key.
func (c *Catalog) translate(locale, text string, depth int) (string, bool) {
	if tr, ok := c.lookup(locale, text); ok {
		return tr, true
	}
	if depth >= maxDepth {
		return text, false
	}
	for _, p := range c.patternsOf(locale) {
		m := p.re.FindStringSubmatch(text)
		if m == nil {
			continue
		}
		vals := make([]any, len(p.verbs))
		for i, v := range m[1:] {
			if p.verbs[i] == 's' || p.verbs[i] == 'v' {
				v = c.translateValue(locale, v, depth+1)
			}
			vals[i] = v
		}
		return fmt.Sprintf(p.out, vals...), true
	}
	return text, false
}

// translateValue translates a value formatted into a message, or each item
// of a comma-separated list, keeping what the catalog does not know.
func (c *Catalog) translateValue(locale, v string, depth int) string {
	if tr, ok := c.translate(locale, v, depth); ok {
		return tr
	}
	if !strings.Contains(v, ", ") {
		return v
	}
	items := strings.Split(v, ", ")
	for i, it := range items {
		items[i], _ = c.translate(locale, it, depth)
	}
	return strings.Join(items, ", ")
}

// pattern is a format key compiled to match the texts it formats.
type pattern struct {
	re      *regexp.Regexp
	verbs   []byte // the verb of each capture: 'd', 's', 'q' or 'v'
	out     string // the translation with every verb as %s
	literal int    // length of the key's literal text, to prefer the most specific key
}

var verbRE = regexp.MustCompile(`%(\[\d+\])?([dsqv%])`)

func (c *Catalog) patternsOf(locale string) []pattern {
	c.mu.RLock()
	ps, built := c.patterns[locale]
	c.mu.RUnlock()
	if built {
		return ps
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.patterns == nil {
		c.patterns = map[string][]pattern{}
	}
	ps = nil
	for key, tr := range c.msgs[locale] {
		if p, ok := compilePattern(key, tr); ok {
			ps = append(ps, p)
		}
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].literal != ps[j].literal {
			return ps[i].literal > ps[j].literal
		}
		return ps[i].re.String() < ps[j].re.String()
	})
	c.patterns[locale] = ps
	return ps
}

// compilePattern turns a format key with verbs in order (%d, %s, %q, %v)
// into a pattern; keys without verbs, with indexed verbs or with no
// literal word are not patterns.
func compilePattern(key, tr string) (pattern, bool) {
	var p pattern
	var re strings.Builder
	re.WriteString("^")
	last := 0
	for _, m := range verbRE.FindAllStringSubmatchIndex(key, -1) {
		lit := key[last:m[0]]
		re.WriteString(regexp.QuoteMeta(lit))
		p.literal += len(lit)
		last = m[1]
		if m[2] >= 0 {
			return pattern{}, false
		}
		switch verb := key[m[4]]; verb {
		case '%':
			re.WriteString("%")
			p.literal++
		case 'd':
			re.WriteString(`(-?\d+)`)
			p.verbs = append(p.verbs, verb)
		case 'q':
			re.WriteString(`("(?:[^"\\]|\\.)*")`)
			p.verbs = append(p.verbs, verb)
		default:
			re.WriteString(`(.+?)`)
			p.verbs = append(p.verbs, verb)
		}
	}
	lit := key[last:]
	re.WriteString(regexp.QuoteMeta(lit))
	p.literal += len(lit)
	re.WriteString("$")
	if len(p.verbs) == 0 || !hasLetter(verbRE.ReplaceAllString(key, "")) {
		return pattern{}, false
	}
	// The translation may reorder the values with %[n]d; every value is
	// passed to it as the text it was in the English message.
	p.out = verbRE.ReplaceAllStringFunc(tr, func(v string) string {
		if strings.HasSuffix(v, "%") {
			return v
		}
		return v[:len(v)-1] + "s"
	})
	p.re = regexp.MustCompile(re.String())
	return p, true
}

// Has reports whether key has a translation in locale.
func (c *Catalog) Has(locale, key string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.msgs[locale][key]
	return ok
}

var itMonths = [...]string{"gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"}

// FormatDate formats t's date in loc for locale: "22 Nov 2026" in English,
// "22 nov 2026" in Italian.
func FormatDate(locale string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	if loc != nil {
		t = t.In(loc)
	}
	if locale == "it" {
		return fmt.Sprintf("%d %s %d", t.Day(), itMonths[t.Month()-1], t.Year())
	}
	return t.Format("2 Jan 2006")
}

var (
	itWeekdays   = [...]string{"dom", "lun", "mar", "mer", "gio", "ven", "sab"}
	itMonthsLong = [...]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"}
)

// FormatDay formats t's day in loc for locale as a person picks it from a
// list of days: "Tue 8 Dec" in English, "mar 8 dic" in Italian.
func FormatDay(locale string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	if loc != nil {
		t = t.In(loc)
	}
	if locale == "it" {
		return fmt.Sprintf("%s %d %s", itWeekdays[t.Weekday()], t.Day(), itMonths[t.Month()-1])
	}
	return t.Format("Mon 2 Jan")
}

// FormatLongDay formats t's day with its weekday and month in full:
// "Tuesday 8 December" in English, "martedì 8 dicembre" in Italian.
func FormatLongDay(locale string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	if loc != nil {
		t = t.In(loc)
	}
	if locale == "it" {
		days := [...]string{"domenica", "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato"}
		return fmt.Sprintf("%s %d %s", days[t.Weekday()], t.Day(), itMonthsLong[t.Month()-1])
	}
	return t.Format("Monday 2 January")
}

// FormatClock formats t's time of day in loc (24-hour clock in both
// locales): "09:30".
func FormatClock(t time.Time, loc *time.Location) string {
	if loc != nil {
		t = t.In(loc)
	}
	return t.Format("15:04")
}

// FormatDateTime formats t with the time of day (24-hour clock in both
// locales) in loc.
func FormatDateTime(locale string, t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	if loc != nil {
		t = t.In(loc)
	}
	return FormatDate(locale, t, nil) + " " + t.Format("15:04")
}

// separators returns the decimal and grouping separators of locale.
func separators(locale string) (dec, group string) {
	if locale == "it" {
		return ",", "."
	}
	return ".", ","
}

// FormatInt formats n with the locale's digit grouping: 1,234,567 or 1.234.567.
func FormatInt(locale string, n int64) string {
	_, group := separators(locale)
	neg := n < 0
	u := uint64(n)
	if neg {
		u = uint64(-n)
	}
	s := strconv.FormatUint(u, 10)
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// FormatDecimal formats the fixed-point value units/10^scale exactly (no
// floats), e.g. FormatDecimal("it", 123456, 2) = "1.234,56".
func FormatDecimal(locale string, units int64, scale int) string {
	dec, _ := separators(locale)
	if scale <= 0 {
		return FormatInt(locale, units)
	}
	neg := units < 0
	u := units
	if neg {
		u = -u
	}
	pow := int64(1)
	for i := 0; i < scale; i++ {
		pow *= 10
	}
	whole, frac := u/pow, u%pow
	s := FormatInt(locale, whole) + dec + fmt.Sprintf("%0*d", scale, frac)
	if neg {
		return "-" + s
	}
	return s
}

// FormatFloat formats a measurement (not money) with decimals digits.
func FormatFloat(locale string, v float64, decimals int) string {
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	dec, _ := separators(locale)
	whole, frac, _ := strings.Cut(s, ".")
	n, _ := strconv.ParseInt(whole, 10, 64)
	out := FormatInt(locale, n)
	if whole == "-0" {
		out = "-0"
	}
	if frac != "" {
		out += dec + frac
	}
	return out
}

// currencyScale is ISO 4217's minor units for currencies whose minor unit
// is not 2.
var currencyScale = map[string]int{"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "HUF": 2, "BHD": 3, "KWD": 3, "JOD": 3, "OMR": 3, "TND": 3}

// CurrencyScale returns the number of minor-unit digits of an ISO 4217
// currency (2 unless listed otherwise).
func CurrencyScale(code string) int {
	if s, ok := currencyScale[code]; ok {
		return s
	}
	return 2
}

var currencySymbols = map[string]string{"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥", "CHF": "CHF"}

// FormatMoney formats an amount in minor units of currency for locale:
// "€1,234.56" in English, "1.234,56 €" in Italian.
func FormatMoney(locale string, minor int64, currency string) string {
	sym, ok := currencySymbols[currency]
	if !ok {
		sym = currency
	}
	num := FormatDecimal(locale, minor, CurrencyScale(currency))
	neg := strings.HasPrefix(num, "-")
	num = strings.TrimPrefix(num, "-")
	sign := ""
	if neg {
		sign = "-"
	}
	if locale == "it" {
		return sign + num + "\u00a0" + sym
	}
	if len(sym) > 1 && sym != "€" && sym != "£" && sym != "¥" {
		return sign + sym + "\u00a0" + num
	}
	return sign + sym + num
}
