package banking

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/portalkit/portalkit/core/money"
)

// Limits of a statement import: bigger files are refused before parsing.
const (
	MaxStatementBytes = 5 << 20
	MaxStatementRows  = 20000
)

// ColumnMap says which CSV column holds what (0-based; -1 = absent). Either
// Amount, or Debit and/or Credit, must be set.
type ColumnMap struct {
	Date        int    `json:"date"`
	Description int    `json:"description"`
	Amount      int    `json:"amount"`
	Debit       int    `json:"debit"`
	Credit      int    `json:"credit"`
	Currency    int    `json:"currency"`
	Reference   int    `json:"reference"`
	DateFormat  string `json:"date_format" doc:"Go layout, e.g. 02/01/2006; empty: detect"`
	Locale      string `json:"locale" doc:"Number format of the file: en (1,234.56) or it (1.234,56)"`
}

// Statement is a sniffed CSV file.
type Statement struct {
	Delimiter rune
	Header    []string
	Rows      [][]string // data rows, without the header
	Mapping   ColumnMap  // a guess from the header names
}

// StatementRow is one parsed row, or its errors.
type StatementRow struct {
	Line        int          `json:"line" doc:"Line number in the file (the header is line 1)"`
	Date        time.Time    `json:"date"`
	Description string       `json:"description"`
	Amount      money.Amount `json:"amount"`
	Reference   string       `json:"reference,omitempty"`
	ExternalID  string       `json:"external_id" doc:"Stable ID: the same file imported twice adds nothing"`
	Errors      []string     `json:"errors,omitempty"`
}

// ReadStatement sniffs the delimiter (comma, semicolon or tab), reads the
// header and rows, and guesses the column mapping.
func ReadStatement(data []byte) (*Statement, error) {
	if len(data) > MaxStatementBytes {
		return nil, fmt.Errorf("the file is larger than %d MB", MaxStatementBytes>>20)
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		data = latin1ToUTF8(data) // Italian bank exports are often Windows-1252/Latin-1
	}
	first, _, _ := bytes.Cut(data, []byte("\n"))
	delim := ','
	best := bytes.Count(first, []byte(","))
	for _, d := range []rune{';', '\t'} {
		if n := bytes.Count(first, []byte(string(d))); n > best {
			delim, best = d, n
		}
	}
	if best == 0 {
		return nil, errors.New("the file does not look like CSV: no comma, semicolon or tab in the first line")
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = delim
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	var rows [][]string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("the file is not valid CSV: %v", err)
		}
		if len(rows) > MaxStatementRows {
			return nil, fmt.Errorf("the file has more than %d rows; split it", MaxStatementRows)
		}
		rows = append(rows, rec)
	}
	if len(rows) < 2 {
		return nil, errors.New("the file has no rows under the header")
	}
	st := &Statement{Delimiter: delim, Header: rows[0], Rows: rows[1:]}
	st.Mapping = GuessMapping(st.Header)
	if delim == ';' {
		st.Mapping.Locale = "it"
	}
	return st, nil
}

func latin1ToUTF8(b []byte) []byte {
	var out bytes.Buffer
	for _, c := range b {
		out.WriteRune(rune(c))
	}
	return out.Bytes()
}

var headerNames = map[string][]string{
	"date":        {"date", "data", "data operazione", "data contabile", "booking date", "transaction date", "data valuta"},
	"description": {"description", "descrizione", "causale", "details", "descrizione operazione", "merchant", "payee"},
	"amount":      {"amount", "importo", "importo eur", "value"},
	"debit":       {"debit", "dare", "uscite", "addebiti", "withdrawal"},
	"credit":      {"credit", "avere", "entrate", "accrediti", "deposit"},
	"currency":    {"currency", "divisa", "valuta"},
	"reference":   {"reference", "riferimento", "id", "transaction id"},
}

// GuessMapping maps header names (English or Italian) to columns.
func GuessMapping(header []string) ColumnMap {
	m := ColumnMap{Date: -1, Description: -1, Amount: -1, Debit: -1, Credit: -1, Currency: -1, Reference: -1, Locale: "en"}
	set := map[string]*int{"date": &m.Date, "description": &m.Description, "amount": &m.Amount, "debit": &m.Debit,
		"credit": &m.Credit, "currency": &m.Currency, "reference": &m.Reference}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		for field, names := range headerNames {
			for _, n := range names {
				if h == n && *set[field] == -1 {
					*set[field] = i
				}
			}
		}
	}
	return m
}

var dateLayouts = []string{"2006-01-02", "02/01/2006", "2/1/2006", "02-01-2006", "02.01.2006", "2006/01/02", "02/01/06"}

// Parse turns rows into transactions in currency (unless the file has a
// currency column), collecting every row's errors; it never stops at the
// first. Validate the mapping first.
func (st *Statement) Parse(m ColumnMap, currency, accountKey string) ([]StatementRow, error) {
	if m.Date < 0 || m.Description < 0 || (m.Amount < 0 && m.Debit < 0 && m.Credit < 0) {
		return nil, errors.New("choose the date, description and amount (or debit/credit) columns")
	}
	width := len(st.Header)
	for _, c := range []int{m.Date, m.Description, m.Amount, m.Debit, m.Credit, m.Currency, m.Reference} {
		if c >= width {
			return nil, fmt.Errorf("column %d does not exist (the file has %d)", c+1, width)
		}
	}
	seen := map[string]int{}
	out := make([]StatementRow, 0, len(st.Rows))
	for i, rec := range st.Rows {
		row := StatementRow{Line: i + 2}
		cell := func(c int) string {
			if c < 0 || c >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[c])
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		cur := currency
		if m.Currency >= 0 && cell(m.Currency) != "" {
			cur = strings.ToUpper(cell(m.Currency))
		}
		if d, err := parseDate(cell(m.Date), m.DateFormat); err != nil {
			row.Errors = append(row.Errors, fmt.Sprintf("date %q: %v", cell(m.Date), err))
		} else {
			row.Date = d
		}
		row.Description = cell(m.Description)
		if row.Description == "" {
			row.Errors = append(row.Errors, "description is empty")
		}
		amt, err := rowAmount(cell, m, cur)
		if err != nil {
			row.Errors = append(row.Errors, err.Error())
		} else if amt.Minor == 0 {
			row.Errors = append(row.Errors, "amount is zero")
		}
		row.Amount = amt
		row.Reference = cell(m.Reference)
		if len(row.Errors) == 0 {
			key := accountKey + "|" + row.Date.Format("2006-01-02") + "|" + row.Amount.String() + "|" + NormalizeMerchant(row.Description) + "|" + row.Reference
			seen[key]++
			sum := sha256.Sum256([]byte(fmt.Sprintf("%s|%d", key, seen[key])))
			row.ExternalID = "csv-" + hex.EncodeToString(sum[:12])
		}
		out = append(out, row)
	}
	return out, nil
}

func rowAmount(cell func(int) string, m ColumnMap, cur string) (money.Amount, error) {
	if m.Amount >= 0 {
		a, err := money.Parse(cell(m.Amount), cur, m.Locale)
		if err != nil {
			return money.Amount{}, fmt.Errorf("amount %q is not a number in the file's format", cell(m.Amount))
		}
		return a, nil
	}
	total := money.New(0, cur)
	for _, side := range []struct {
		col  int
		sign int64
	}{{m.Debit, -1}, {m.Credit, 1}} {
		if side.col < 0 || cell(side.col) == "" {
			continue
		}
		a, err := money.Parse(cell(side.col), cur, m.Locale)
		if err != nil {
			return money.Amount{}, fmt.Errorf("amount %q is not a number in the file's format", cell(side.col))
		}
		if a.Minor < 0 {
			a = a.Neg()
		}
		total.Minor += side.sign * a.Minor
	}
	return total, nil
}

func parseDate(s, layout string) (time.Time, error) {
	if layout != "" {
		t, err := time.Parse(layout, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("not in the format %s", layout)
		}
		return t, nil
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("not a date (use e.g. 2026-11-22 or 22/11/2026)")
}
