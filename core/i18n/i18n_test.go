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
		{FormatDay("en", ts, rome), "Mon 23 Nov"},
		{FormatDay("it", ts, rome), "lun 23 nov"},
		{FormatLongDay("en", ts, rome), "Monday 23 November"},
		{FormatLongDay("it", ts, rome), "lunedì 23 novembre"},
		{FormatClock(ts, rome), "00:30"},
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

func TestFormattedMessagesAreTranslatedByTheirFormatKey(t *testing.T) {
	c := NewCatalog()
	err := c.Load(fstest.MapFS{"it.json": {Data: []byte(`{
		"must be at least %d characters": "Deve contenere almeno %d caratteri",
		"too many sign-in attempts; try again in %s": "Troppi tentativi di accesso; riprova tra %s",
		"%d minutes": "%d minuti",
		"This page is for %s only.": "Questa pagina è riservata al ruolo %s.",
		"admin": "amministratore",
		"staff": "operatore",
		"%q is not a scope": "%q non è un ambito",
		"%s of %s": "%[2]s: %[1]s",
		"%s": "everything",
		"%d%% done": "completato al %d%%",
		"no module %s is loaded": "nessun modulo %s è caricato",
		"no module %s is loaded in this deployment": "il modulo %s non è caricato in questa installazione"
	}`)}})
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	c.OnMissing(func(locale, key string) { missing = append(missing, locale+":"+key) })
	cases := []struct{ in, want string }{
		{"must be at least 10 characters", "Deve contenere almeno 10 caratteri"},
		// a %s value is translated too, through its own format key
		{"too many sign-in attempts; try again in 15 minutes", "Troppi tentativi di accesso; riprova tra 15 minuti"},
		{"This page is for admin only.", "Questa pagina è riservata al ruolo amministratore."},
		// a list is translated item by item; unknown items stay
		{"This page is for admin, staff, robot only.", "Questa pagina è riservata al ruolo amministratore, operatore, robot."},
		{`"x y" is not a scope`, `"x y" non è un ambito`},
		{"one of two", "two: one"},
		{"50% done", "completato al 50%"},
		// the most specific key wins
		{"no module ping is loaded in this deployment", "il modulo ping non è caricato in questa installazione"},
		{"no module ping is loaded", "nessun modulo ping è caricato"},
		// "%d" does not match words; a key that is only a verb matches nothing
		{"must be at least ten characters", "must be at least ten characters"},
		{"anything", "anything"},
	}
	for _, tc := range cases {
		if got := c.T("it", tc.in); got != tc.want {
			t.Errorf("T(it, %q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := c.T("en", "must be at least 10 characters"); got != "must be at least 10 characters" {
		t.Errorf("English changed: %q", got)
	}
	want := []string{"it:must be at least ten characters", "it:anything"}
	if len(missing) != len(want) || missing[0] != want[0] || missing[1] != want[1] {
		t.Errorf("missing texts reported: %q, want %q", missing, want)
	}
	missing = nil
	c.T("en", "anything")
	c.T("de", "anything")
	c.T("it", "admin")
	if len(missing) != 0 {
		t.Errorf("reported as missing: %q", missing)
	}
	// A later Load adds format keys.
	if err := c.Load(fstest.MapFS{"it.json": {Data: []byte(`{"%d seconds": "%d secondi"}`)}}); err != nil {
		t.Fatal(err)
	}
	if got := c.T("it", "too many sign-in attempts; try again in 30 seconds"); got != "Troppi tentativi di accesso; riprova tra 30 secondi" {
		t.Errorf("after a second Load: %q", got)
	}
}

func TestOwnersMayTranslateAKeyDifferently(t *testing.T) {
	c := NewCatalog()
	if err := c.LoadFor("accounts", fstest.MapFS{"it.json": {Data: []byte(`{"Open": "Libera", "Save": "Salva"}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := c.LoadFor("automotive", fstest.MapFS{"it.json": {Data: []byte(`{"Open": "Da eseguire", "Save": "Salva"}`)}}); err != nil {
		t.Fatalf("a second owner's different translation stopped loading: %v", err)
	}
	if got := c.TIn("automotive", "it", "Open"); got != "Da eseguire" {
		t.Errorf("automotive's page: %q", got)
	}
	if got := c.TIn("accounts", "it", "Open"); got != "Libera" {
		t.Errorf("accounts' page: %q", got)
	}
	if got := c.T("it", "Open"); got != "Libera" {
		t.Errorf("elsewhere the first translation holds: %q", got)
	}
	if err := c.LoadFor("accounts", fstest.MapFS{"it.json": {Data: []byte(`{"Open": "Aperta"}`)}}); err == nil {
		t.Error("one owner translating a key twice was accepted")
	}
}

func TestPluralFormsFollowCLDR(t *testing.T) {
	for _, tc := range []struct {
		locale string
		n      int64
		one    bool
	}{
		{"en", 0, false}, {"en", 1, true}, {"en", 2, false}, {"en", 21, false}, {"en", -1, true},
		{"it", 0, false}, {"it", 1, true}, {"it", 2, false}, {"it", 11, false}, {"it", 1000000, false},
		{"xx-unknown", 1, true},
	} {
		if got := PluralOne(tc.locale, tc.n); got != tc.one {
			t.Errorf("PluralOne(%s, %d) = %v, want %v", tc.locale, tc.n, got, tc.one)
		}
	}
}

func TestCountedMessagesPickTheirForm(t *testing.T) {
	c := NewCatalog()
	if err := c.Load(fstest.MapFS{"it.json": {Data: []byte(`{"%d new message": "%d nuovo messaggio", "%d new messages": "%d nuovi messaggi", "%d of %s": "%d di %s"}`)}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		locale string
		n      int64
		want   string
	}{
		{"it", 1, "1 nuovo messaggio"}, {"it", 0, "0 nuovi messaggi"}, {"it", 3, "3 nuovi messaggi"},
		{"en", 1, "1 new message"}, {"en", 0, "0 new messages"}, {"en", 12, "12 new messages"},
	} {
		if got := c.N(tc.locale, tc.n, "%d new message", "%d new messages"); got != tc.want {
			t.Errorf("N(%s, %d) = %q, want %q", tc.locale, tc.n, got, tc.want)
		}
	}
	if got := c.NIn("", "it", 2, "%d of %s", "%d of %s", "48"); got != "2 di 48" {
		t.Errorf("N with extra args = %q", got)
	}
}
