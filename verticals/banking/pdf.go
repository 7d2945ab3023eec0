package banking

import (
	"bytes"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"codeberg.org/go-pdf/fpdf"

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
// merchants, unusual spending, goals and next month's plan. Compression is
// off and only one font is used: loading a font's metrics and compressing
// were most of the cost of drawing a report for the monthly run.
func ReportPDF(r Report, name, locale string) ([]byte, error) {
	T := func(key string, args ...any) string { return cp1252(tr(locale, key, args...)) }
	M := func(a money.Amount) string { return cp1252(a.Format(lang(locale))) }
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(false)
	pdf.SetCreationDate(r.Month)
	pdf.SetModificationDate(r.Month)
	pdf.SetTitle(tr(locale, "Monthly report")+" "+MonthName(locale, r.Month), true)
	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 18)
	pdf.Cell(0, 10, T("Monthly report")+" - "+cp1252(MonthName(locale, r.Month)))
	pdf.Ln(10)
	pdf.SetFontSize(11)
	pdf.Cell(0, 6, cp1252(name))
	pdf.Ln(10)
	if r.Short {
		pdf.MultiCell(0, 6, T("There was no activity on your accounts this month."), "", "L", false)
		pdf.Ln(4)
	} else {
		pdf.Cell(60, 6, T("Money in"))
		pdf.Cell(0, 6, M(r.Income))
		pdf.Ln(6)
		pdf.Cell(60, 6, T("Money out"))
		pdf.Cell(0, 6, M(r.Spending))
		pdf.Ln(6)
		pdf.Cell(60, 6, T("Money out last month"))
		pdf.Cell(0, 6, M(r.SpendingLast))
		pdf.Ln(10)
		pdf.SetFontSize(13)
		pdf.Cell(0, 8, T("Spending by category"))
		pdf.Ln(8)
		pdf.SetFontSize(10)
		var top int64 = 1
		for _, c := range r.ByCategory {
			top = max(top, c.ThisMonth.Minor, c.Avg3.Minor)
		}
		for _, c := range r.ByCategory {
			y := pdf.GetY()
			pdf.Cell(40, 6, T(string(c.Category)))
			pdf.SetFillColor(40, 90, 160)
			pdf.Rect(52, y+1, 80*float64(c.ThisMonth.Minor)/float64(top), 2.2, "F")
			pdf.SetFillColor(170, 170, 170)
			pdf.Rect(52, y+3.4, 80*float64(c.Avg3.Minor)/float64(top), 1.4, "F")
			pdf.SetX(136)
			pdf.Cell(30, 6, M(c.ThisMonth))
			pdf.Cell(0, 6, T("avg.")+" "+M(c.Avg3))
			pdf.Ln(6)
		}
		if len(r.TopMerchants) > 0 {
			pdf.Ln(4)
			pdf.SetFontSize(13)
			pdf.Cell(0, 8, T("Top merchants"))
			pdf.Ln(8)
			pdf.SetFontSize(10)
			for _, m := range r.TopMerchants {
				pdf.Cell(90, 6, cp1252(m.Merchant))
				pdf.Cell(0, 6, M(m.Amount))
				pdf.Ln(6)
			}
		}
		if len(r.Unusual) > 0 {
			pdf.Ln(4)
			pdf.SetFontSize(13)
			pdf.Cell(0, 8, T("Unusual spending"))
			pdf.Ln(8)
			pdf.SetFontSize(10)
			for _, u := range r.Unusual {
				pdf.Cell(0, 6, T("%s: %s, %d%% above your usual", tr(locale, string(u.Category)), u.ThisMonth.Format(lang(locale)), u.PercentAbove))
				pdf.Ln(6)
			}
		}
	}
	if len(r.Goals) > 0 {
		pdf.Ln(4)
		pdf.SetFontSize(13)
		pdf.Cell(0, 8, T("Your goals"))
		pdf.Ln(8)
		pdf.SetFontSize(10)
		for _, g := range r.Goals {
			pdf.Cell(60, 6, cp1252(g.Name))
			pdf.Cell(45, 6, T("still to save")+" "+M(g.Remaining))
			pdf.Cell(0, 6, T(strings.ReplaceAll(g.Status, "_", " ")))
			pdf.Ln(6)
		}
	}
	if r.SavingsPlan != nil && r.SavingsPlan.ToSave.Minor > 0 {
		pdf.Ln(4)
		pdf.SetFontSize(13)
		pdf.Cell(0, 8, T("Plan for %s", MonthName(locale, r.SavingsPlan.Month)))
		pdf.Ln(8)
		pdf.SetFontSize(10)
		pdf.Cell(0, 6, T("Put aside %s", r.SavingsPlan.ToSave.Format(lang(locale))))
		pdf.Ln(6)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
