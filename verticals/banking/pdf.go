package banking

import (
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/portalkit/portalkit/core/i18n"
	"github.com/portalkit/portalkit/core/money"
)

// catalog is the module's own translations, for text outside pages (the
// PDF report).
var catalog = sync.OnceValue(func() *i18n.Catalog {
	c := i18n.NewCatalog()
	tr, _ := fs.Sub(translationFS, "i18n")
	_ = c.Load(tr)
	return c
})

func tr(locale, key string, args ...any) string { return catalog().T(lang(locale), key, args...) }

// lang is a locale's language, "en" when unknown ("it-IT" → "it").
func lang(locale string) string {
	l := strings.ToLower(strings.SplitN(strings.SplitN(locale, "-", 2)[0], "_", 2)[0])
	if l == "" {
		return "en"
	}
	return l
}

var monthNames = [...]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"}

// MonthName is "May 2026" in the locale's language.
func MonthName(locale string, m time.Time) string {
	return tr(locale, monthNames[m.Month()-1]) + " " + fmt.Sprint(m.Year())
}

// cp1252 turns UTF-8 into the core PDF fonts' encoding: Latin-1 letters
// map to themselves, the euro sign and typographic quotes to their
// Windows-1252 codes, anything else to "?".
func cp1252(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x80 || r >= 0xA0 && r <= 0xFF:
			b.WriteByte(byte(r))
		case r == '€':
			b.WriteByte(0x80)
		case r == '’':
			b.WriteByte(0x92)
		case r == '–':
			b.WriteByte(0x96)
		case r == '\u202f' || r == '\u00a0':
			b.WriteByte(' ')
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// ReportPDF draws a report as a one-page PDF in the recipient's language:
// totals, spending by category with bars against the 3-month average, top
// merchants, unusual spending, goals and next month's plan (see pdfDoc).
func ReportPDF(r Report, name, locale string) ([]byte, error) {
	lg := lang(locale)
	T := func(key string, args ...any) string { return cp1252(catalog().T(lg, key, args...)) }
	M := func(a money.Amount) string { return cp1252(a.Format(lg)) }
	const left, full = pdfMargin, pdfPageW - 2*pdfMargin
	d := &pdfDoc{y: pdfMargin, content: make([]byte, 0, 4096)}
	heading := func(s string) {
		d.ln(4)
		d.size = 13
		d.text(left, 8, fit(s, 13, full))
		d.ln(8)
		d.size = 10
	}
	d.size = 18
	d.text(left, 10, fit(T("Monthly report")+" - "+cp1252(MonthName(locale, r.Month)), 18, full))
	d.ln(10)
	d.size = 11
	d.text(left, 6, fit(cp1252(name), 11, full))
	d.ln(10)
	if r.Short {
		for _, line := range wrap(T("There was no activity on your accounts this month."), 11, full-2*pdfPad) {
			d.text(left, 6, line)
			d.ln(6)
		}
	} else {
		for _, row := range [...]struct {
			label string
			a     money.Amount
		}{{"Money in", r.Income}, {"Money out", r.Spending}, {"Money out last month", r.SpendingLast}} {
			d.text(left, 6, fit(T(row.label), 11, 58))
			d.text(left+60, 6, M(row.a))
			d.ln(6)
		}
		heading(T("Spending by category"))
		var top int64 = 1
		for _, c := range r.ByCategory {
			top = max(top, c.ThisMonth.Minor, c.Avg3.Minor)
		}
		for _, c := range r.ByCategory {
			d.text(left, 6, fit(T(string(c.Category)), 10, 40))
			d.rect(52, d.y+1, 80*float64(c.ThisMonth.Minor)/float64(top), 2.2, 40, 90, 160)
			d.rect(52, d.y+3.4, 80*float64(c.Avg3.Minor)/float64(top), 1.4, 170, 170, 170)
			d.text(136, 6, M(c.ThisMonth))
			d.text(166, 6, fit(T("avg.")+" "+M(c.Avg3), 10, pdfPageW-pdfMargin-166-2*pdfPad))
			d.ln(6)
		}
		if len(r.TopMerchants) > 0 {
			heading(T("Top merchants"))
			for _, m := range r.TopMerchants {
				d.text(left, 6, fit(cp1252(m.Merchant), 10, 88))
				d.text(left+90, 6, M(m.Amount))
				d.ln(6)
			}
		}
		if len(r.Unusual) > 0 {
			heading(T("Unusual spending"))
			for _, u := range r.Unusual {
				d.text(left, 6, fit(T("%s: %s, %d%% above your usual", catalog().T(lg, string(u.Category)), u.ThisMonth.Format(lg), u.PercentAbove), 10, full))
				d.ln(6)
			}
		}
	}
	if len(r.Goals) > 0 {
		heading(T("Your goals"))
		for _, g := range r.Goals {
			d.text(left, 6, fit(cp1252(g.Name), 10, 58))
			d.text(left+60, 6, fit(T("still to save")+" "+M(g.Remaining), 10, 78))
			d.text(left+140, 6, fit(T(strings.ReplaceAll(g.Status, "_", " ")), 10, full-140-2*pdfPad))
			d.ln(6)
		}
	}
	if r.SavingsPlan != nil && r.SavingsPlan.ToSave.Minor > 0 {
		heading(T("Plan for %s", MonthName(locale, r.SavingsPlan.Month)))
		d.text(left, 6, fit(T("Put aside %s", r.SavingsPlan.ToSave.Format(lg)), 10, full))
		d.ln(6)
	}
	return d.bytes(tr(locale, "Monthly report")+" "+MonthName(locale, r.Month), r.Month), nil
}
