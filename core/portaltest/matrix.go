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
//   - a revoked API token gets 401;
//   - an integrator token of the organisation succeeds where the operation
//     allows accounts.Integrator, and is refused elsewhere.
//
// For operations on a customer's object (those customers may call, and
// those marked accounts.MatrixReach) it checks staff reach on an object of
// the owning customer: a staff member reaching the owner through a policy
// group (of a kind opening every area) gets the same answer as one assigned
// to the owner; staff assigned to nobody, and staff whose only group with
// the owner is of a kind that does not open the operation's area (or who
// share a group with another customer), are refused (403/404).
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
	ta.User(t, orgA.Slug, "staff-group@matrix-a.example", accounts.Staff)
	ta.User(t, orgA.Slug, "staff-none@matrix-a.example", accounts.Staff)
	ta.User(t, orgA.Slug, "staff-narrow@matrix-a.example", accounts.Staff)

	tokens := map[string]string{
		"customer":   ta.Login(t, orgA.Slug, "owner@matrix-a.example"),
		"staff":      ta.Login(t, orgA.Slug, "staff@matrix-a.example"),
		"admin":      ta.Login(t, orgA.Slug, "admin@matrix-a.example"),
		"other":      ta.Login(t, orgA.Slug, "other@matrix-a.example"),
		"foreign":    ta.Login(t, orgB.Slug, "customer@matrix-b.example"),
		"foreignAdm": ta.Login(t, orgB.Slug, "admin@matrix-b.example"),
		"staffGroup": ta.Login(t, orgA.Slug, "staff-group@matrix-a.example"),
		"staffNone":  ta.Login(t, orgA.Slug, "staff-none@matrix-a.example"),
		"staffNarrw": ta.Login(t, orgA.Slug, "staff-narrow@matrix-a.example"),
	}
	adminP := ta.Principal(t, tokens["admin"])
	customerP := ta.Principal(t, tokens["customer"])
	ct, err := ta.Accounts.CreateToken(ctx, adminP, accounts.NewToken{Name: "revoked", Scopes: []string{"*"}, ExpiresIn: time.Hour}, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := ta.Accounts.RevokeToken(ctx, adminP, ct.Token.ID, ""); err != nil {
		t.Fatal(err)
	}
	revoked := ct.Secret
	it, err := ta.Accounts.CreateToken(ctx, adminP, accounts.NewToken{Name: "integrator", Scopes: []string{"*"}, ExpiresIn: time.Hour}, "")
	if err != nil {
		t.Fatal(err)
	}
	tokens["integrator"] = it.Secret
	matrixReach(t, ta, adminP, customerP, tokens)

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

			callFor := func(owner *accounts.Principal, who string, headers map[string]string) int {
				params, body, err := fixture(ctx, ta.Store.DB.WithContext(ctx), owner)
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
			call := func(who string, headers map[string]string) int { return callFor(ownerP, who, headers) }
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
				ok2xx := func(c int) bool { return c >= 200 && c < 300 }
				expect("the owner ("+ownerKey+")", Bearer(tokens[ownerKey]), ok2xx, "2xx")
				if slices.Contains(acc.Roles, accounts.Integrator) {
					expect("an integrator token of the org", Bearer(tokens["integrator"]), ok2xx, "2xx")
				} else {
					expect("an integrator token of the org", Bearer(tokens["integrator"]), is(401, 403, 404), "401, 403 or 404")
				}
				if customersAllowed || accounts.MatrixReachOf(op) {
					refused := is(403, 404)
					assigned := callFor(customerP, "staff assigned to the owner", Bearer(tokens["staff"]))
					if grouped := callFor(customerP, "staff in a group with the owner", Bearer(tokens["staffGroup"])); grouped != assigned {
						t.Errorf("staff reaching the owner through a group: status %d, but %d through an assignment", grouped, assigned)
					}
					if got := callFor(customerP, "staff assigned to nobody", Bearer(tokens["staffNone"])); !refused(got) {
						t.Errorf("as staff assigned to nobody: status %d, want 403 or 404", got)
					}
					if got := callFor(customerP, "staff whose group does not open this area", Bearer(tokens["staffNarrw"])); !refused(got) {
						t.Errorf("as staff whose only group with the owner does not open this area: status %d, want 403 or 404", got)
					}
				}
			})
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("the matrix checked no operation: no route declares accounts.Matrix")
	}
	t.Logf("authorization matrix: %d operations checked", checked)
}

// Group kinds the matrix declares: "portaltest.team" opens every area (its
// staff reach like an assignment), "portaltest.narrow" only its own area,
// which no route belongs to.
const (
	matrixTeam   = "portaltest.team"
	matrixNarrow = "portaltest.narrow"
)

// matrixReach gives the matrix's staff their reach over owner@matrix-a:
// staff@ by assignment, staff-group@ through a team group, staff-narrow@
// only through a narrow group (and a team group with another customer),
// staff-none@ none.
func matrixReach(t *testing.T, ta *TestApp, adminP, customerP *accounts.Principal, tokens map[string]string) {
	t.Helper()
	ctx := context.Background()
	for _, k := range []accounts.GroupKind{{ID: matrixTeam, Opens: []string{accounts.AllAreas}}, {ID: matrixNarrow}} {
		if !slices.ContainsFunc(ta.Accounts.GroupKinds(), func(d accounts.GroupKind) bool { return d.ID == k.ID }) {
			if err := ta.Accounts.DeclareGroupKind(k); err != nil {
				t.Fatal(err)
			}
		}
	}
	staff := ta.Principal(t, tokens["staff"])
	if err := ta.Accounts.Assign(ctx, adminP, staff.UserID, customerP.UserID, "advisor"); err != nil {
		t.Fatal(err)
	}
	other := ta.Principal(t, tokens["other"])
	join := func(kind, ref string, staffKey string, customer uint) {
		g, err := ta.Accounts.SaveGroup(ctx, nil, adminP.OrgID, kind, ref, ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := ta.Accounts.AddGroupMember(ctx, nil, adminP.OrgID, g.ID, ta.Principal(t, tokens[staffKey]).UserID, accounts.StaffSide, "member"); err != nil {
			t.Fatal(err)
		}
		if err := ta.Accounts.AddGroupMember(ctx, nil, adminP.OrgID, g.ID, customer, accounts.CustomerSide, "member"); err != nil {
			t.Fatal(err)
		}
	}
	join(matrixTeam, "matrix-team", "staffGroup", customerP.UserID)
	join(matrixNarrow, "matrix-narrow", "staffNarrw", customerP.UserID)
	join(matrixTeam, "matrix-other", "staffNarrw", other.UserID)
}
