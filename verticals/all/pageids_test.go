package all_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
)

// TestPageIDsOutOfRangeAreNotFound loads every page route that takes a
// path parameter, with every bundled module enabled, as an admin, a staff
// member and a customer, with IDs no database column holds (2^53, 2^63,
// 2^64−1), zero, and words: each answers a page (404, or a redirect or 403
// the route's guard gives), never a 500 from the database refusing the
// number — on both databases.
func TestPageIDsOutOfRangeAreNotFound(t *testing.T) {
	ta := portaltest.New(t, module.Registered())
	people := map[string]*portaltest.Browser{}
	for _, u := range []struct {
		email string
		role  accounts.Role
	}{{"admin@acme.example", accounts.Admin}, {"staff@acme.example", accounts.Staff}, {"cust@acme.example", accounts.Customer}} {
		ta.User(t, "acme", u.email, u.role)
		b := ta.Browser()
		b.SignIn(t, "acme", u.email)
		people[string(u.role)] = b
	}
	param := regexp.MustCompile(`:[A-Za-z_]+(<[^>]*>)?\??`)
	seen := map[string]bool{}
	pages := 0
	for _, r := range ta.App.Web.App.GetRoutes(true) {
		if r.Method != http.MethodGet || strings.HasPrefix(r.Path, "/api/") || !param.MatchString(r.Path) || seen[r.Path] {
			continue
		}
		seen[r.Path] = true
		pages++
		for _, id := range []string{"9007199254740992", "9223372036854775808", "18446744073709551615", "0", "abc"} {
			path := param.ReplaceAllString(r.Path, id)
			for role, b := range people {
				res := b.Get(t, path)
				switch res.Status {
				case http.StatusOK, http.StatusNotFound, http.StatusForbidden, http.StatusSeeOther, http.StatusFound, http.StatusBadRequest:
				default:
					t.Errorf("%s as %s: %d %.300s", path, role, res.Status, res.Body)
				}
				if res.Status == http.StatusOK && id != "abc" && id != "0" {
					t.Errorf("%s as %s: 200 for an ID no row can have", path, role)
				}
			}
		}
	}
	if pages < 10 {
		t.Fatalf("only %d page routes with parameters found; the walk is not reaching the modules' pages", pages)
	}
	t.Logf("%d page routes with parameters walked", pages)
}
