package portaltest

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/portalkit/portalkit/core/accounts"
)

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// AuthorizationMatrix walks every registered API operation whose path takes
// an object ID and checks, on a fresh object per caller, that:
//
//   - the object's owner succeeds (2xx);
//   - another customer of the same organisation is refused (404 where the
//     operation admits customers, so IDs do not leak; else 403);
//   - an admin of another organisation gets 404 (the object is invisible
//     across organisations even to admins);
//   - a customer of another organisation is refused (403/404);
//   - an anonymous caller gets 401;
//   - a revoked API token gets 401.
//
// Operations declare their fixture with accounts.Matrix, or opt out with
// accounts.MatrixSkip and a reason, which is logged. An operation with
// neither fails the test, so a new module route joins the matrix or says why
// not.
func AuthorizationMatrix(t *testing.T, ta *TestApp) {
	t.Helper()
	ctx := context.Background()
	orgA, orgB := ta.Org(t, "matrix-a"), ta.Org(t, "matrix-b")
	ta.User(t, orgA.Slug, "owner@matrix-a.example", accounts.Customer)
	ta.User(t, orgA.Slug, "staff@matrix-a.example", accounts.Staff)
	ta.User(t, orgA.Slug, "admin@matrix-a.example", accounts.Admin)
	ta.User(t, orgA.Slug, "other@matrix-a.example", accounts.Customer)
	ta.User(t, orgB.Slug, "customer@matrix-b.example", accounts.Customer)
	ta.User(t, orgB.Slug, "admin@matrix-b.example", accounts.Admin)

	tokens := map[string]string{
		"customer":   ta.Login(t, orgA.Slug, "owner@matrix-a.example"),
		"staff":      ta.Login(t, orgA.Slug, "staff@matrix-a.example"),
		"admin":      ta.Login(t, orgA.Slug, "admin@matrix-a.example"),
		"other":      ta.Login(t, orgA.Slug, "other@matrix-a.example"),
		"foreign":    ta.Login(t, orgB.Slug, "customer@matrix-b.example"),
		"foreignAdm": ta.Login(t, orgB.Slug, "admin@matrix-b.example"),
	}
	adminP := ta.Principal(t, tokens["admin"])
	ct, err := ta.Accounts.CreateToken(ctx, adminP, accounts.NewToken{Name: "revoked", Scopes: []string{"*"}, ExpiresIn: time.Hour}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := ta.Accounts.RevokeToken(ctx, adminP, ct.Token.ID, ""); err != nil {
		t.Fatal(err)
	}
	revoked := ct.Secret

	oapi := ta.Web.API.OpenAPI()
	paths := make([]string, 0, len(oapi.Paths))
	for p := range oapi.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	checked := 0
	for _, path := range paths {
		if !strings.Contains(path, "{") {
			continue
		}
		item := oapi.Paths[path]
		for _, mo := range []struct {
			method string
			op     *huma.Operation
		}{{http.MethodGet, item.Get}, {http.MethodPost, item.Post}, {http.MethodPut, item.Put}, {http.MethodPatch, item.Patch}, {http.MethodDelete, item.Delete}} {
			op := mo.op
			if op == nil {
				continue
			}
			acc := accounts.AccessOf(op)
			name := mo.method + " " + path
			if acc.Public {
				t.Logf("matrix: %s is public", name)
				continue
			}
			fixture, reason := accounts.MatrixOf(op)
			if fixture == nil {
				if reason != "" {
					t.Logf("matrix skips %s: %s", name, reason)
				} else {
					t.Errorf("%s takes an object ID but declares neither accounts.Matrix nor accounts.MatrixSkip(reason)", name)
				}
				continue
			}
			ownerKey := "admin"
			switch {
			case slices.Contains(acc.Roles, accounts.Customer):
				ownerKey = "customer"
			case slices.Contains(acc.Roles, accounts.Staff):
				ownerKey = "staff"
			}
			ownerP := ta.Principal(t, tokens[ownerKey])
			customersAllowed := slices.Contains(acc.Roles, accounts.Customer)

			call := func(who string, headers map[string]string) int {
				params, body, err := fixture(ctx, ta.Store.DB.WithContext(ctx), ownerP)
				if err != nil {
					t.Fatalf("%s: fixture: %v", name, err)
				}
				url := pathParam.ReplaceAllStringFunc(path, func(m string) string {
					v, ok := params[m[1:len(m)-1]]
					if !ok {
						t.Fatalf("%s: fixture gave no value for %s", name, m)
					}
					return v
				})
				res := ta.Do(t, mo.method, url, body, headers)
				if res.Status >= 500 {
					t.Errorf("%s as %s: %d %s", name, who, res.Status, truncate(res.Body))
				}
				return res.Status
			}
			t.Run(name, func(t *testing.T) {
				expect := func(who string, headers map[string]string, ok func(int) bool, want string) {
					if got := call(who, headers); !ok(got) {
						t.Errorf("as %s: status %d, want %s", who, got, want)
					}
				}
				is := func(codes ...int) func(int) bool { return func(c int) bool { return slices.Contains(codes, c) } }
				if customersAllowed {
					expect("another customer of the same org", Bearer(tokens["other"]), is(404), "404")
				} else {
					expect("a customer of the same org", Bearer(tokens["other"]), is(403, 404), "403 or 404")
				}
				if slices.Contains(acc.Roles, accounts.Admin) {
					expect("an admin of another org", Bearer(tokens["foreignAdm"]), is(404), "404")
				} else {
					expect("an admin of another org", Bearer(tokens["foreignAdm"]), is(403, 404), "403 or 404")
				}
				expect("a customer of another org", Bearer(tokens["foreign"]), is(403, 404), "403 or 404")
				expect("an anonymous caller", nil, is(401), "401")
				expect("a revoked token", Bearer(revoked), is(401), "401")
				expect("the owner ("+ownerKey+")", Bearer(tokens[ownerKey]), func(c int) bool { return c >= 200 && c < 300 }, "2xx")
			})
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("the matrix checked no operation: no route declares accounts.Matrix")
	}
	t.Logf("authorization matrix: %d operations checked", checked)
}
