package banking

import (
	"strings"
	"testing"
)

const italianCSV = "Data;Descrizione;Importo;Divisa\n" +
	"01/11/2026;PAGAMENTO POS ESSELUNGA;-45,20;EUR\n" +
	"03/11/2026;Stipendio ACME;2.450,00;EUR\n" +
	"03/11/2026;PAGAMENTO POS ESSELUNGA;-45,20;EUR\n" + // the same purchase twice that day: two rows
	"31/11/2026;Bad date;-1,00;EUR\n" +
	"05/11/2026;;abc;EUR\n" +
	"\n"

func TestReadAndParseStatement(t *testing.T) {
	st, err := ReadStatement([]byte("\xef\xbb\xbf" + italianCSV))
	if err != nil {
		t.Fatal(err)
	}
	if st.Delimiter != ';' || st.Mapping.Date != 0 || st.Mapping.Description != 1 || st.Mapping.Amount != 2 || st.Mapping.Currency != 3 || st.Mapping.Locale != "it" {
		t.Fatalf("sniffed %+v", st.Mapping)
	}
	rows, err := st.Parse(st.Mapping, "EUR", "acct-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 5 {
		t.Fatalf("%d rows", len(rows))
	}
	if rows[0].Amount.Minor != -4520 || rows[1].Amount.Minor != 245000 || rows[0].Date.Day() != 1 {
		t.Fatalf("parsed %+v %+v", rows[0], rows[1])
	}
	if rows[0].ExternalID == rows[2].ExternalID || rows[0].ExternalID == "" {
		t.Fatal("two identical purchases must get distinct, stable IDs")
	}
	again, _ := st.Parse(st.Mapping, "EUR", "acct-1")
	if again[2].ExternalID != rows[2].ExternalID {
		t.Fatal("IDs are not stable across imports of the same file")
	}
	if len(rows[3].Errors) != 1 || !strings.Contains(rows[3].Errors[0], "date \"31/11/2026\"") || rows[3].Line != 5 {
		t.Fatalf("bad date row: %+v", rows[3])
	}
	if len(rows[4].Errors) != 2 {
		t.Fatalf("every error of a row is reported: %+v", rows[4].Errors)
	}
}

func TestDebitCreditColumnsAndBadFiles(t *testing.T) {
	st, err := ReadStatement([]byte("Booking date,Details,Debit,Credit\n2026-11-01,Rent,850.00,\n2026-11-02,Refund,,12.50\n"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := st.Parse(st.Mapping, "EUR", "a")
	if err != nil || rows[0].Amount.Minor != -85000 || rows[1].Amount.Minor != 1250 {
		t.Fatalf("%+v %v", rows, err)
	}
	if _, err := st.Parse(ColumnMap{Date: 0, Description: 1, Amount: -1, Debit: -1, Credit: -1}, "EUR", "a"); err == nil {
		t.Fatal("a mapping without amounts was accepted")
	}
	if _, err := st.Parse(ColumnMap{Date: 0, Description: 1, Amount: 9, Debit: -1, Credit: -1, Currency: -1, Reference: -1}, "EUR", "a"); err == nil || !strings.Contains(err.Error(), "column 10 does not exist") {
		t.Fatalf("out-of-range column: %v", err)
	}
	for _, bad := range []string{"just one line", "a,b\n", "a,b\n\"unterminated,x\n"} {
		if _, err := ReadStatement([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	latin := []byte("Data;Descrizione;Importo\n01/11/2026;Caff\xe8;-1,20\n")
	st, err = ReadStatement(latin)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ = st.Parse(st.Mapping, "EUR", "a")
	if rows[0].Description != "Caffè" {
		t.Fatalf("Latin-1 file read as %q", rows[0].Description)
	}
}
