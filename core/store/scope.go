package store

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ErrUnscoped is returned for a query on an org-owned table (one with an
// org_id column) that was not scoped with Org or widened with AllOrgs.
var ErrUnscoped = errors.New("store: query on an org-owned table without an organisation (use store.Org, or store.AllOrgs for deliberate cross-org work)")

// ErrNoOrg is returned by Org when asked to scope to organisation 0.
var ErrNoOrg = errors.New("store: no organisation given")

const (
	orgKey     = "portal:org"
	allOrgsKey = "portal:all_orgs"
)

// OrgOwned is embedded by every model that belongs to an organisation. The
// org_id column is what the scope guard looks for.
type OrgOwned struct {
	OrgID uint `gorm:"not null;index" json:"-"`
}

// Org scopes db to one organisation: reads, updates and deletes of org-owned
// tables get "org_id = orgID", and creates get OrgID filled in (or are
// refused if they name another organisation). Org(db, 0) returns a handle
// whose every operation fails with ErrNoOrg.
func Org(db *gorm.DB, orgID uint) *gorm.DB {
	if orgID == 0 {
		tx := db.Session(&gorm.Session{})
		_ = tx.AddError(ErrNoOrg)
		return tx
	}
	// Session makes the handle safe to reuse for several queries.
	return db.Set(orgKey, orgID).Session(&gorm.Session{})
}

// AllOrgs marks db as deliberately crossing organisations: platform-admin
// pages and jobs that walk every tenant. Every use should be obvious in
// review; grep for it.
func AllOrgs(db *gorm.DB) *gorm.DB { return db.Set(allOrgsKey, true).Session(&gorm.Session{}) }

// OrgOf returns the organisation db was scoped to with Org, or 0.
func OrgOf(db *gorm.DB) uint {
	if v, ok := db.Get(orgKey); ok {
		if id, ok := v.(uint); ok {
			return id
		}
	}
	return 0
}

func registerOrgScope(db *gorm.DB) error {
	cb := db.Callback()
	errs := []error{
		cb.Query().Before("gorm:query").Register("portal:org_scope", scopeRead),
		cb.Update().Before("gorm:update").Register("portal:org_scope", scopeRead),
		cb.Delete().Before("gorm:delete").Register("portal:org_scope", scopeRead),
		cb.Row().Before("gorm:row").Register("portal:org_scope", scopeRead),
		cb.Create().Before("gorm:create").Register("portal:org_scope", scopeCreate),
	}
	return errors.Join(errs...)
}

func orgOwned(stmt *gorm.Statement) bool {
	if stmt.Schema == nil {
		return false
	}
	f := stmt.Schema.LookUpField("org_id")
	return f != nil
}

func scopeRead(db *gorm.DB) {
	if db.Error != nil || !orgOwned(db.Statement) {
		return
	}
	if _, all := db.Get(allOrgsKey); all {
		return
	}
	org := OrgOf(db)
	if org == 0 {
		_ = db.AddError(fmt.Errorf("%w (table %s)", ErrUnscoped, db.Statement.Table))
		return
	}
	db.Statement.AddClause(clause.Where{Exprs: []clause.Expression{
		clause.Eq{Column: clause.Column{Table: clause.CurrentTable, Name: "org_id"}, Value: org},
	}})
}

func scopeCreate(db *gorm.DB) {
	if db.Error != nil || !orgOwned(db.Statement) {
		return
	}
	_, all := db.Get(allOrgsKey)
	org := OrgOf(db)
	field := db.Statement.Schema.LookUpField("org_id")
	rv := db.Statement.ReflectValue
	check := func(v reflect.Value) {
		cur, zero := field.ValueOf(db.Statement.Context, v)
		switch {
		case !zero && org != 0 && toUint(cur) != org:
			_ = db.AddError(fmt.Errorf("store: create in %s names organisation %v inside a handle scoped to %d", db.Statement.Table, cur, org))
		case zero && org != 0:
			if err := field.Set(db.Statement.Context, v, org); err != nil {
				_ = db.AddError(err)
			}
		case zero && !all:
			_ = db.AddError(fmt.Errorf("%w (create in %s with no org_id)", ErrUnscoped, db.Statement.Table))
		}
	}
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		for i := 0; i < rv.Len(); i++ {
			check(reflect.Indirect(rv.Index(i)))
		}
	case reflect.Struct:
		check(rv)
	}
}

func toUint(v any) uint {
	switch n := v.(type) {
	case uint:
		return n
	case uint64:
		return uint(n)
	case int64:
		return uint(n)
	case int:
		return uint(n)
	}
	return 0
}

// EscapeLike escapes LIKE's wildcards (% and _) and its escape character
// in s, so a search term from a user matches literally inside the pattern
// its caller builds. The caller writes every such LIKE with LikeEscape
// after the pattern ("name LIKE ?" + LikeEscape): SQLite has no default
// escape character.
func EscapeLike(s string) string {
	return likeWildcards.Replace(s)
}

// LikeEscape names the escape character EscapeLike uses, on both databases.
const LikeEscape = ` ESCAPE '\'`

// ContainsLike is the LIKE pattern matching s literally anywhere, for a
// LIKE written with LikeEscape.
func ContainsLike(s string) string { return "%" + EscapeLike(s) + "%" }

var likeWildcards = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
