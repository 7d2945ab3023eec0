package i18n

import (
	"testing"
	"testing/fstest"
	"time"
)

func TestCatalog(t *testing.T) {
	c := NewCatalog()
	err := c.Load(fstest.MapFS{
		"it.json":  {Data: []byte(`{"Sign in": "Accedi", "%d unread": "%d da leggere"}`)},
		"README":   {Data: []byte("ignored")},
		"sub/x.js": {Data: []byte("ignored")},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ locale, key, want string }{
		{"it", "Sign in", "Accedi"},
		{"en", "Sign in", "Sign in"},
		{"it", "Untranslated", "Untranslated"},
		{"de", "Sign in", "Sign in"},
	}
	for _, tc := range cases {
		if got := c.T(tc.locale, tc.key); got != tc.want {
			t.Errorf("T(%s, %q) = %q", tc.locale, tc.key, got)
		}
	}
	if got := c.T("it", "%d unread", 3); got != "3 da leggere" {
		t.Errorf("formatted: %q", got)
	}
	if err := c.Load(fstest.MapFS{"it.json": {Data: []byte(`{"Sign in": "Entra"}`)}}); err == nil {
		t.Error("a conflicting translation was accepted")
	}
	if err := c.Load(fstest.MapFS{"it.json": {Data: []byte(`{"Sign in": `)}}); err == nil {
		t.Error("malformed JSON was accepted")
	}
}

func TestFormatting(t *testing.T) {
	rome, _ := time.LoadLocation("Europe/Rome")
	ts := time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC)
	cases := []struct{ got, want string }{
		{FormatDate("en", ts, rome), "23 Nov 2026"},
		{FormatDate("it", ts, rome), "23 nov 2026"},
		{FormatDateTime("it", ts, rome), "23 nov 2026 00:30"},
		{FormatInt("en", 1234567), "1,234,567"},
		{FormatInt("it", -1234567), "-1.234.567"},
		{FormatInt("it", 999), "999"},
		{FormatDecimal("it", 123456, 2), "1.234,56"},
		{FormatDecimal("en", -5, 2), "-0.05"},
		{FormatMoney("en", 123456, "EUR"), "€1,234.56"},
		{FormatMoney("it", 123456, "EUR"), "1.234,56\u00a0€"},
		{FormatMoney("en", -99, "USD"), "-$0.99"},
		{FormatMoney("en", 1500, "JPY"), "¥1,500"},
		{FormatMoney("it", 1234, "KWD"), "1,234\u00a0KWD"},
		{FormatMoney("en", 100, "CHF"), "CHF\u00a01.00"},
		{FormatFloat("it", 12.55, 1), "12,6"},
		{FormatFloat("en", 12345.5, 1), "12,345.5"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: got %q, want %q", i, c.got, c.want)
		}
	}
}
