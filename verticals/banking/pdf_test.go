package banking

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/money"
	"github.com/portalkit/portalkit/core/portaltest"
)

// fixtureReport is a full month: six categories, five merchants, two
// unusual lines, two goals and a plan.
func fixtureReport() Report {
	m := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	r := BuildReport(ReportInput{
		Month: m, Currency: "EUR", Income: 250000,
		ByMonth: [4]map[Category]int64{
			{CatGroceries: 45000, CatRestaurants: 30000, CatTravel: 25000, CatFuel: 9000, CatUtilities: 12000, CatShopping: 8000},
			{CatGroceries: 40000, CatRestaurants: 10000, CatFuel: 6000, CatUtilities: 11000},
			{CatGroceries: 38000, CatRestaurants: 12000, CatUtilities: 11500},
			{CatGroceries: 42000, CatRestaurants: 8000, CatUtilities: 12500},
		},
		Merchants: []MerchantLine{{"ESSELUNGA", money.New(30000, "EUR"), 6}, {"RYANAIR", money.New(25000, "EUR"), 1},
			{"RISTORANTE DA MARIO", money.New(18000, "EUR"), 2}, {"CONAD", money.New(15000, "EUR"), 3}, {"BAR SPORT", money.New(12000, "EUR"), 9}},
	})
	r.Goals = []GoalPlan{{Name: "Holiday in Sicily", Remaining: money.New(120000, "EUR"), Status: "on_track"},
		{Name: "New bike", Remaining: money.New(45000, "EUR"), Status: "behind"}}
	return r
}

func TestReportPDFIsAOnePagePDFInTheCustomersLanguage(t *testing.T) {
	r := fixtureReport()
	for _, tc := range []struct{ locale, want string }{{"en", "Spending by category"}, {"it-IT", "Spese per categoria"}} {
		b, err := ReportPDF(r, "Giulia Rossi", tc.locale)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("%PDF-1.")) || !bytes.HasSuffix(b, []byte("%%EOF\n")) {
			t.Fatalf("%s: not a PDF: %.40q", tc.locale, b)
		}
		if n := bytes.Count(b, []byte("/Type /Page ")); n != 1 {
			t.Fatalf("%s: %d pages, want 1", tc.locale, n)
		}
		for _, s := range []string{tc.want, "Giulia Rossi", "ESSELUNGA", "Holiday in Sicily"} {
			if !bytes.Contains(b, []byte(s)) {
				t.Errorf("%s: the PDF does not contain %q", tc.locale, s)
			}
		}
	}
}

// TestReportPDFReadsInRealPDFTools checks the file with qpdf (structure,
// cross-reference offsets) and pdftotext (what a reader shows: accents,
// the euro sign, a name cut to its column), from Debian's qpdf and
// poppler-utils, which .ci/run installs.
func TestReportPDFReadsInRealPDFTools(t *testing.T) {
	qpdf, err1 := exec.LookPath("qpdf")
	pdftotext, err2 := exec.LookPath("pdftotext")
	portaltest.RequireService(t, "qpdf and pdftotext", err1 == nil && err2 == nil, "apt-get install qpdf poppler-utils")
	r := fixtureReport()
	r.Goals[0].Name = "Una casa più grande al mare, con giardino e vista sul golfo di Napoli"
	b, err := ReportPDF(r, "Niccolò Ferrè", "it")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "report.pdf")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(qpdf, "--check", p).CombinedOutput(); err != nil || !bytes.Contains(out, []byte("No syntax or stream encoding errors")) {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
	out, err := exec.Command(pdftotext, "-layout", p, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{"Resoconto mensile - ottobre 2026", "Niccolò Ferrè", "Entrate", "2.500,00 €", "Spese per categoria",
		"media 400,00 €", "ESSELUNGA", "Ristoranti: 300,00 €, 200% sopra il solito", "I tuoi obiettivi", "Una casa più grande al mare", "…",
		"ancora da risparmiare 1.200,00 €", "in linea"} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext does not show %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Napoli") {
		t.Errorf("the long goal name ran past its column:\n%s", text)
	}
	info, err := exec.Command("pdfinfo", p).Output()
	if err == nil && !strings.Contains(string(info), "Resoconto mensile ottobre 2026") {
		t.Errorf("pdfinfo: the title is missing:\n%s", info)
	}
	r.Short = true
	b, _ = ReportPDF(r, "Niccolò Ferrè", "it")
	_ = os.WriteFile(p, b, 0o600)
	out, _ = exec.Command(pdftotext, p, "-").Output()
	if !strings.Contains(strings.Join(strings.Fields(string(out)), " "), "Questo mese non ci sono stati movimenti sui tuoi conti.") {
		t.Errorf("short report:\n%s", out)
	}
}

// BenchmarkReportPDF: drawing one report, the monthly job's largest CPU
// cost per customer.
//
//	go test ./verticals/banking -run '^$' -bench ReportPDF -benchmem
func BenchmarkReportPDF(b *testing.B) {
	r := fixtureReport()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReportPDF(r, "Giulia Rossi", "it"); err != nil {
			b.Fatal(err)
		}
	}
}
