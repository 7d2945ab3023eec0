package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/store"
)

// cmdDB is `portal db copy --to URL`: the embedded deployment's SQLite
// database copied into an empty PostgreSQL (docs/scaling.md).
func cmdDB(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 || args[0] != "copy" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(env.stdout, "Usage: portal db copy --to postgres://user:password@host:5432/db [--config FILE]")
			return nil
		}
		return usagef("want `portal db copy --to postgres://...`")
	}
	fs := newFlags(env, "db", "db copy --to postgres://user:password@host:5432/db [--config FILE]")
	load := configFlag(env, fs)
	to := fs.String("to", "", "the empty PostgreSQL database to copy into")
	if err := parse(fs, args[1:], 0); err != nil {
		return err
	}
	if !store.IsPostgresURL(*to) {
		return usagef("--to: want a PostgreSQL URL (postgres://user:password@host:5432/db), got %q", *to)
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	if !cfg.UsesSQLite() {
		return usagef("db copy: the configured database is already PostgreSQL; it copies the SQLite file of data_dir %s", cfg.DataDir)
	}
	src, err := app.New(ctx, app.Options{Config: quietForCLI(cfg), Modules: env.modules(), LogOutput: env.stderr})
	if err != nil {
		return err
	}
	defer src.Close()
	dcfg := cfg
	dcfg.Database.URL = *to
	dst, err := app.New(ctx, app.Options{Config: quietForCLI(dcfg), Modules: env.modules(), LogOutput: env.stderr})
	if err != nil {
		return err
	}
	defer dst.Close()

	var bar *progressbar.ProgressBar
	report, err := src.Store.CopyTo(ctx, dst.Store, func(table string, done, total int64) {
		if bar == nil {
			bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(env.stderr),
				progressbar.OptionSetDescription("copying rows"), progressbar.OptionShowCount(),
				progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		}
		bar.Describe(fmt.Sprintf("%-28s", table))
		_ = bar.Set64(done)
	})
	if bar != nil {
		_ = bar.Finish()
	}
	if err != nil {
		return err
	}
	var filled int
	for _, t := range report.Tables {
		if t.Rows > 0 {
			filled++
		}
	}
	fmt.Fprintf(env.stdout, "copied %d rows of %d tables (%d with data) from %s into PostgreSQL; row counts and checksums match\n",
		report.Rows, len(report.Tables), filled, src.Store.Path)
	fmt.Fprintln(env.stdout, "next: set PORTAL_DATABASE_URL to that database and start the portal; keep the SQLite file until you have checked it")
	return nil
}

// cmdBackup is `portal backup --out FILE`: a consistent copy of the SQLite
// database, safe while the portal runs.
func cmdBackup(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "backup", "backup --out FILE [--config FILE]")
	load := configFlag(env, fs)
	out := fs.String("out", "", "the backup file to write (must not exist)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *out == "" {
		return usagef("--out: name the backup file to write")
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, quietForCLI(cfg), nil)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Backup(ctx, *out); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "wrote %s (integrity check ok); keep %s/secret.key with it\n", *out, cfg.DataDir)
	return nil
}

// cmdRestore is `portal restore --from FILE`: a checked backup put in place
// of the SQLite database (the portal must be stopped).
func cmdRestore(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "restore", "restore --from FILE [--force] [--config FILE]")
	load := configFlag(env, fs)
	from := fs.String("from", "", "the backup file written by `portal backup`")
	force := fs.Bool("force", false, "replace an existing database (kept as portal.db.before-restore)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *from == "" {
		return usagef("--from: name the backup file to restore")
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	if !cfg.UsesSQLite() {
		return usagef("restore: the configured database is PostgreSQL; restore it with pg_restore (docs/scaling.md)")
	}
	if err := store.Restore(ctx, *from, cfg.DataDir, *force); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "restored %s into %s/portal.db; start the portal (pending migrations run at start)\n", *from, cfg.DataDir)
	return nil
}

// cmdHealth is `portal health`: asks the running instance's /healthz, for
// container health checks where there is no shell or curl.
func cmdHealth(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "health", "health [--url URL] [--config FILE]")
	load := configFlag(env, fs)
	target := fs.String("url", "", "address to ask (default: http://<http.addr>/healthz)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	u := *target
	client := http.DefaultClient
	if u == "" {
		cfg, err := load()
		if err != nil {
			return err
		}
		host, port, err := net.SplitHostPort(cfg.HTTP.Addr)
		if err != nil {
			return fmt.Errorf("http.addr %q: %w", cfg.HTTP.Addr, err)
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "127.0.0.1"
		}
		u = "http://" + net.JoinHostPort(host, port) + "/healthz"
		if cfg.HTTP.TLSCert != "" {
			u = "https" + strings.TrimPrefix(u, "http")
			// The portal's own address, not the name its certificate is
			// for: this asks whether the process answers, not who it is.
			client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // liveness of the local process
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return usagef("--url: %v", err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("unhealthy: %s: %v", u, strings.TrimPrefix(err.Error(), "Get \""+u+"\": "))
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("unhealthy: %s answered %s", u, resp.Status)
	}
	fmt.Fprintf(env.stdout, "healthy: %s\n", u)
	return nil
}
