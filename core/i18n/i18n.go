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
	"strconv"
	"strings"
	"sync"
	"time"
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
}

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog { return &Catalog{msgs: map[string]map[string]string{}} }

// Load reads every "<locale>.json" file at the top of fsys. A key defined
// twice with different texts is an error naming both.
func (c *Catalog) Load(fsys fs.FS) error {
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
		for k, v := range m {
			if old, dup := c.msgs[locale][k]; dup && old != v {
				return fmt.Errorf("translations %s: %q is translated twice (%q and %q)", e.Name(), k, old, v)
			}
			c.msgs[locale][k] = v
		}
	}
	return nil
}

// T translates key into locale and, with args, formats it like fmt.Sprintf.
func (c *Catalog) T(locale, key string, args ...any) string {
	text := key
	if c != nil && locale != "en" {
		c.mu.RLock()
		if tr, ok := c.msgs[locale][key]; ok && tr != "" {
			text = tr
		}
		c.mu.RUnlock()
	}
	if len(args) > 0 {
		return fmt.Sprintf(text, args...)
	}
	return text
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
