// Package benchdb gives the load benchmarks in bench/ a throwaway
// PostgreSQL schema, so a run never touches existing data and leaves
// nothing behind.
package benchdb

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// BaseURL is the PostgreSQL URL a benchmark uses:
// PORTAL_BENCH_DATABASE_URL, else PORTAL_TEST_DATABASE_URL.
func BaseURL() (string, error) {
	for _, k := range []string{"PORTAL_BENCH_DATABASE_URL", "PORTAL_TEST_DATABASE_URL"} {
		if v := os.Getenv(k); v != "" {
			return v, nil
		}
	}
	return "", fmt.Errorf("set PORTAL_BENCH_DATABASE_URL (or PORTAL_TEST_DATABASE_URL) to a PostgreSQL URL")
}

// FreshSchema creates a schema for the run and returns a DSN using it and
// a function that drops it — or, with PORTAL_BENCH_KEEP_SCHEMA=1, keeps it
// and says so, to look at the data and the plans after a run.
func FreshSchema(base string) (string, func(), error) {
	var raw [6]byte
	_, _ = rand.Read(raw[:])
	schema := "bench_" + hex.EncodeToString(raw[:])
	admin, err := gorm.Open(postgres.Open(base), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return "", nil, err
	}
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		return "", nil, err
	}
	drop := func() {
		if os.Getenv("PORTAL_BENCH_KEEP_SCHEMA") == "1" {
			fmt.Fprintf(os.Stderr, "kept schema %s (PORTAL_BENCH_KEEP_SCHEMA=1); drop it with DROP SCHEMA %s CASCADE\n", schema, schema)
		} else {
			admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		}
		if d, err := admin.DB(); err == nil {
			d.Close()
		}
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// Schema is BaseURL and FreshSchema together: the DSN of a new schema on
// the benchmark's PostgreSQL and the function that drops it.
func Schema() (string, func(), error) {
	base, err := BaseURL()
	if err != nil {
		return "", nil, err
	}
	return FreshSchema(base)
}
