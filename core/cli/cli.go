// Package cli is the whole portal command as a library: serve, migrate,
// demo, db, orgs, users, modules, devices, simulate, jobs, config and
// version. cmd/portal is a main that calls Main with the bundled verticals
// blank-imported; an integrator's main is the same, with their own modules
// (docs/writing-a-module.md, "Your own portal binary"):
//
//	package main
//
//	import (
//		"github.com/portalkit/portalkit/core/cli"
//		_ "github.com/portalkit/portalkit/verticals/banking"
//
//		"example.com/shop/bookshop"
//	)
//
//	func main() { cli.Main(bookshop.New()) }
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/web"
)

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the command ran and failed
	exitUsage = 2 // the command line was wrong
)

// usageError is a wrong command line: exit code 2, one line on stderr.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *cliEnv, args []string) error
}

// cliEnv is what every command gets: its streams and the process
// environment (tests pass their own).
type cliEnv struct {
	stdout, stderr io.Writer
	environ        []string
	modules        func() []module.Module
	// notifyReady is called with the listening address once serve is up
	// (tests use it to know when to send requests).
	notifyReady func(addr string)
	// signals delivers the signals that stop serve.
	signals func() (context.Context, context.CancelFunc)
}

func commands() []command {
	return []command{
		{"serve", "run the portal (HTTP, API, devices, jobs)", cmdServe},
		{"migrate", "apply pending database migrations and exit", cmdMigrate},
		{"demo", "create the demo organisations, users and data", cmdDemo},
		{"orgs", "manage organisations (orgs add, orgs list)", cmdOrgs},
		{"users", "manage users (users add)", cmdUsers},
		{"modules", "list the modules compiled into this binary", cmdModules},
		{"devices", "manage devices (devices add, list, disable, rotate, export)", cmdDevices},
		{"simulate", "connect simulated devices and publish readings (progress and achieved rate)", cmdSimulate},
		{"jobs", "list the scheduled jobs, or run one now with a progress bar", cmdJobs},
		{"config", "show the effective configuration (config print)", cmdConfig},
		{"db", "copy the embedded SQLite database into PostgreSQL (db copy --to URL)", cmdDB},
		{"backup", "write a consistent copy of the SQLite database (backup --out FILE)", cmdBackup},
		{"restore", "put a backup in place of the SQLite database (restore --from FILE)", cmdRestore},
		{"health", "ask the running portal's /healthz (container health checks)", cmdHealth},
		{"version", "print the version", cmdVersion},
	}
}

// Main runs the portal command on the process's arguments and exits with
// its status. The portal hosts the modules registered in init() (the
// bundled verticals an integrator blank-imports, such as verticals/all)
// and mods, which need no registration:
//
//	func main() { cli.Main(works.New(), bookshop.New()) }
func Main(mods ...module.Module) {
	os.Exit(Run(os.Args[1:], os.Stdout, os.Stderr, mods...))
}

// Run runs the command line args (without the program name) and returns
// the exit status: 0 done, 1 failed, 2 a wrong command line. The modules
// are the registered ones and mods, as for Main.
func Run(args []string, stdout, stderr io.Writer, mods ...module.Module) int {
	env := &cliEnv{
		stdout: stdout, stderr: stderr, environ: os.Environ(),
		modules: func() []module.Module { return append(module.Registered(), mods...) },
		signals: signalContext,
	}
	return runWith(env, args)
}

func runWith(env *cliEnv, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(env.stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	var cmd *command
	for _, c := range commands() {
		if c.name == args[0] {
			c := c
			cmd = &c
		}
	}
	if cmd == nil {
		fmt.Fprintf(env.stderr, "portal: unknown command %q (run `portal --help` for the list)\n", args[0])
		return exitUsage
	}
	err := cmd.run(context.Background(), env, args[1:])
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(env.stderr, "portal %s: %s\n", cmd.name, oneLine(ue.msg))
		return exitUsage
	}
	fmt.Fprintf(env.stderr, "portal %s: %s\n", cmd.name, oneLine(err.Error()))
	return exitError
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "PortalKit — customer portals for data-heavy industries.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: portal <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	_ = tw.Flush()
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run `portal <command> --help` for a command's flags.")
	fmt.Fprintln(w, "Configuration: configs/portal.yaml (or --config FILE), overridden by PORTAL_* variables.")
}

// newFlags returns a flag set that reports errors as usage errors instead of
// printing the whole usage, and prints help to stdout on --help.
func newFlags(env *cliEnv, name, synopsis string) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError)}
	fs.SetOutput(io.Discard)
	// flag calls Usage on every parse error; we print help only when asked.
	fs.Usage = func() {}
	fs.help = func() {
		fmt.Fprintf(env.stdout, "Usage: portal %s\n\nFlags:\n", synopsis)
		fs.SetOutput(env.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// flagSet is a flag.FlagSet with its help text.
type flagSet struct {
	*flag.FlagSet
	help func()
}

// parse parses args, turning flag errors into usage errors and refusing
// stray arguments.
func parse(fs *flagSet, args []string, maxArgs int) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.help()
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > maxArgs {
		return usagef("unexpected argument %q", fs.Arg(maxArgs))
	}
	return nil
}

// configFlag adds --config and returns a loader for the effective config.
func configFlag(env *cliEnv, fs *flagSet) func() (config.Config, error) {
	path := fs.String("config", "", "configuration file (default configs/portal.yaml when present)")
	return func() (config.Config, error) {
		if *path != "" {
			return config.Load(*path, false, env.environ)
		}
		return config.Load("configs/portal.yaml", true, env.environ)
	}
}

func cmdVersion(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "version", "version")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "portal %s\n", app.Version)
	return nil
}

func cmdModules(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "modules", "modules")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	mods := env.modules()
	sort.Slice(mods, func(i, j int) bool { return mods[i].Info().ID < mods[j].Info().ID })
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tVERSION\tREQUIRES\tDESCRIPTION")
	for _, m := range mods {
		i := m.Info()
		req := strings.Join(i.Requires, ",")
		if req == "" {
			req = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", i.ID, i.Version, req, i.Description)
	}
	if len(mods) == 0 {
		fmt.Fprintln(tw, "(none)\t\t\t")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	// A module whose requirement is missing (or a cycle) would stop
	// `portal serve`: say so now, and fail.
	_, err := module.Order(mods)
	return err
}

func cmdConfig(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "config", "config print [--config FILE]")
	load := configFlag(env, fs)
	// Flags may follow "print", as the synopsis shows.
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("unexpected argument %q", pos[1])
	}
	if len(pos) != 1 || pos[0] != "print" {
		return usagef("want `portal config print`")
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	cfg.Print(env.stdout)
	return nil
}

func cmdMigrate(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "migrate", "migrate [--config FILE]")
	load := configFlag(env, fs)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	a, err := openApp(ctx, env, load)
	if err != nil {
		return err
	}
	defer a.Close()
	ids, err := a.Store.Applied(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "database is up to date: %d migrations applied\n", len(ids))
	return nil
}

func cmdDemo(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "demo", "demo [--config FILE] [--demo-password P]")
	load := configFlag(env, fs)
	password := fs.String("demo-password", "", "password of every demo account (default: a random one, printed)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	a, err := openApp(ctx, env, load)
	if err != nil {
		return err
	}
	defer a.Close()
	pw := demoPassword(*password)
	if err := a.RunDemo(ctx, pw); err != nil {
		return err
	}
	printDemoAccounts(env.stdout, pw)
	return nil
}

// demoPassword returns the given password or a random readable one.
func demoPassword(given string) string {
	if given != "" {
		return given
	}
	return "demo-" + randomWords()
}

func printDemoAccounts(w io.Writer, password string) {
	fmt.Fprintln(w, "Demo accounts (organisation / e-mail), all with the password:", password)
	for _, u := range accounts.DemoUsers {
		fmt.Fprintf(w, "  %-9s %-26s %s\n", u.Org, u.Email, u.Role)
	}
}

func cmdServe(_ context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "serve", "serve [--config FILE] [--addr HOST:PORT] [--demo]")
	load := configFlag(env, fs)
	addr := fs.String("addr", "", "listen address (overrides http.addr)")
	demo := fs.Bool("demo", false, "create demo data at start (loopback addresses only unless --force-demo)")
	demoPW := fs.String("demo-password", "", "password of every demo account (default: a random one, printed once)")
	forceDemo := fs.Bool("force-demo", false, "allow --demo on a non-loopback address")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	cfg, err := load()
	if err != nil {
		return err
	}
	if *addr != "" {
		if _, _, err := net.SplitHostPort(*addr); err != nil {
			return usagef("--addr %q is not host:port", *addr)
		}
		cfg.HTTP.Addr = *addr
	}
	if *demo && !*forceDemo && !isLoopback(cfg.HTTP.Addr) {
		return fmt.Errorf("refusing --demo on %s: demo accounts have known passwords; use a loopback address or --force-demo", cfg.HTTP.Addr)
	}

	// Listen first: a port in use is reported before anything is written.
	ln, err := web.Listen(cfg.HTTP.Addr)
	if err != nil {
		return err
	}
	scheme := "http"
	if cfg.HTTP.TLSCert != "" {
		tln, err := web.ListenTLS(ln, cfg.HTTP.TLSCert, cfg.HTTP.TLSKey)
		if err != nil {
			ln.Close()
			return err
		}
		ln, scheme = tln, "https"
	}
	// The embedded MQTT broker's port too (it binds later, in Start).
	if cfg.MQTT.URL == "" && cfg.MQTT.Listen != "" {
		probe, err := net.Listen("tcp", cfg.MQTT.Listen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("mqtt.listen %s: %w", cfg.MQTT.Listen, err)
		}
		probe.Close()
	}
	ctx, stop := env.signals()
	defer stop()
	// Links in e-mails and notifications point where the portal really
	// listens (--addr, a port chosen by the system for :0) unless
	// http.base_url names its public address.
	if cfg.HTTP.BaseURL == "" {
		cfg.HTTP.BaseURL = scheme + strings.TrimPrefix(config.URLOf(ln.Addr().String()), "http")
	}
	a, err := app.New(ctx, app.Options{Config: cfg, Modules: env.modules(), LogOutput: env.stderr})
	if err != nil {
		ln.Close()
		return err
	}
	defer a.Close()
	if *demo {
		pw := demoPassword(*demoPW)
		if err := a.RunDemo(ctx, pw); err != nil {
			ln.Close()
			return err
		}
		printDemoAccounts(env.stdout, pw)
	}
	// The banner only once the portal serves: migrations done, background
	// services started, the listener answering.
	return a.ServeReady(ctx, ln, func() {
		url := scheme + "://" + ln.Addr().String()
		fmt.Fprintf(env.stdout, "PortalKit %s serving on %s (database: %s)\n", app.Version, url, a.Store.Dialect)
		fmt.Fprintf(env.stdout, "  portal:   %s/\n  API docs: %s/api/docs\n  health:   %s/readyz\n", url, url, url)
		if env.notifyReady != nil {
			env.notifyReady(ln.Addr().String())
		}
	})
}

// quietForCLI keeps administrative commands to their one line of output:
// their app logs errors only, unless debug logging was asked for.
func quietForCLI(cfg config.Config) config.Config {
	if cfg.Log.Level != "debug" {
		cfg.Log.Level = "error"
	}
	return cfg
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
