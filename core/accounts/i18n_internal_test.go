package accounts

import (
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/i18n"
)

// TestGoSideTextsAreTranslated checks the texts accounts builds in Go that
// no template names: flash messages, navigation labels, role names and
// the waits of the throttling message, against the accounts catalog alone
// (a package carries every translation it needs).
func TestGoSideTextsAreTranslated(t *testing.T) {
	c := i18n.NewCatalog()
	if err := c.Load(Translations()); err != nil {
		t.Fatal(err)
	}
	var missing []string
	c.OnMissing(func(_, key string) { missing = append(missing, key) })
	check := func(what, english string) {
		t.Helper()
		if got := c.T("it", english); got == english && english != "Account" {
			t.Errorf("%s %q has no Italian translation", what, english)
		}
	}
	for key, msg := range flashes {
		check("flash "+key, msg)
	}
	for _, it := range AdminNav() {
		check("navigation label", it.Label)
	}
	for _, r := range append(PersonRoles, PlatformAdmin) {
		check("role", string(r))
		check("role", roleNames([]Role{r}))
	}
	for _, d := range []time.Duration{time.Second, 59 * time.Second, 90 * time.Second, 15 * time.Minute} {
		check("wait", roundUp(d))
	}
	if got := c.T("it", "too many sign-in attempts; try again in "+roundUp(15*time.Minute)); got != "Troppi tentativi di accesso: riprova tra 15 minuti." {
		t.Errorf("throttling message: %q", got)
	}
	if got := c.T("it", "This page is only for these roles: "+roleNames([]Role{Staff, PlatformAdmin})+"."); got != "Questa pagina è riservata a questi ruoli: operatore, amministratore della piattaforma." {
		t.Errorf("roles message: %q", got)
	}
	if len(missing) > 0 {
		t.Errorf("untranslated: %q", missing)
	}
}
