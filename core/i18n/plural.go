package i18n

import (
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

// PluralOne reports whether n takes the "one" form of locale by the CLDR
// cardinal plural rules (golang.org/x/text/feature/plural): true for 1 in
// English and Italian, false for 0, 2, 21, ... A locale unknown to CLDR
// falls back to English.
func PluralOne(locale string, n int64) bool {
	tag, err := language.Parse(locale)
	if err != nil {
		tag = language.English
	}
	i := n
	if i < 0 {
		i = -i
	}
	// MatchPlural takes the integer digits i, and v, w, f, t (visible
	// fraction digits) that are all 0 for a whole number.
	return plural.Cardinal.MatchPlural(tag, int(i), 0, 0, 0, 0) == plural.One
}

// N translates a counted message: one is the English singular key ("%d
// new message"), other the plural key ("%d new messages"); the form is
// chosen by the CLDR rules of locale for n, translated like T and
// formatted with n followed by args. Both keys go into the catalog
// ("%d new message": "%d nuovo messaggio", "%d new messages": "%d nuovi
// messaggi"), so a language with the same two forms needs nothing else.
func (c *Catalog) N(locale string, n int64, one, other string, args ...any) string {
	key := other
	if PluralOne(locale, n) {
		key = one
	}
	return c.T(locale, key, append([]any{n}, args...)...)
}

// NIn is N for a page of owner (see TIn).
func (c *Catalog) NIn(owner, locale string, n int64, one, other string, args ...any) string {
	key := other
	if PluralOne(locale, n) {
		key = one
	}
	return c.TIn(owner, locale, key, append([]any{n}, args...)...)
}
