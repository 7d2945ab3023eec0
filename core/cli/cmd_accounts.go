package cli

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"text/tabwriter"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/config"
)

// openApp loads the config and builds the app for an administrative command.
func openApp(ctx context.Context, env *cliEnv, load func() (config.Config, error)) (*app.App, error) {
	cfg, err := load()
	if err != nil {
		return nil, err
	}
	return app.New(ctx, app.Options{Config: quietForCLI(cfg), Modules: env.modules(), LogOutput: env.stderr})
}

func cmdOrgs(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "--help" && args[0] != "-h" {
		return usagef("want `portal orgs add --slug S --name N` or `portal orgs list`")
	}
	if args[0] == "--help" || args[0] == "-h" {
		fmt.Fprintln(env.stdout, "Usage: portal orgs add --slug S --name N [--locale L] [--time-zone TZ] [--self-signup]\n       portal orgs list")
		return nil
	}
	switch args[0] {
	case "add":
		fs := newFlags(env, "orgs add", "orgs add --slug S --name N [--locale L] [--time-zone TZ] [--self-signup]")
		load := configFlag(env, fs)
		slug := fs.String("slug", "", "short name (lowercase letters, digits, hyphens)")
		name := fs.String("name", "", "display name")
		locale := fs.String("locale", "en", "default language (en, it)")
		tz := fs.String("time-zone", "UTC", "IANA time zone, e.g. Europe/Rome")
		self := fs.Bool("self-signup", false, "let anyone create a customer account")
		if err := parse(fs, args[1:], 0); err != nil {
			return err
		}
		if *slug == "" || *name == "" {
			return usagef("--slug and --name are required")
		}
		a, err := openApp(ctx, env, load)
		if err != nil {
			return err
		}
		defer a.Close()
		o, err := a.Accounts.CreateOrg(ctx, accounts.NewOrg{Slug: *slug, Name: *name, Locale: *locale, TimeZone: *tz, SelfSignup: *self})
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "created organisation %s (%s), id %d, modules: %s\n", o.Slug, o.Name, o.ID, strings.Join(o.EnabledModules(), ","))
		return nil
	case "list":
		fs := newFlags(env, "orgs list", "orgs list")
		load := configFlag(env, fs)
		if err := parse(fs, args[1:], 0); err != nil {
			return err
		}
		a, err := openApp(ctx, env, load)
		if err != nil {
			return err
		}
		defer a.Close()
		orgs, _, err := a.Accounts.ListOrgs(ctx, &accounts.Principal{Role: accounts.PlatformAdmin}, accounts.Page{Size: 200})
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "SLUG\tNAME\tMODULES\tSIGN-UP")
		for _, o := range orgs {
			mode := "invitation"
			if o.SelfSignup {
				mode = "open"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", o.Slug, o.Name, o.Modules, mode)
		}
		return tw.Flush()
	}
	return usagef("unknown subcommand %q (want add or list)", args[0])
}

func cmdUsers(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		if len(args) > 0 && (args[0] == "--help" || args[0] == "-h") {
			fmt.Fprintln(env.stdout, "Usage: portal users add --org S --email E --role R [--name N]")
			return nil
		}
		return usagef("want `portal users add --org S --email E --role customer|staff|admin|platform_admin [--name N]`")
	}
	fs := newFlags(env, "users add", "users add --org S --email E --role R [--name N]")
	load := configFlag(env, fs)
	org := fs.String("org", "", "organisation slug (platform for platform admins)")
	email := fs.String("email", "", "e-mail address")
	name := fs.String("name", "", "display name (default: the e-mail's local part)")
	role := fs.String("role", "customer", "customer, staff, admin or platform_admin")
	if err := parse(fs, args[1:], 0); err != nil {
		return err
	}
	if *org == "" || *email == "" {
		return usagef("--org and --email are required")
	}
	if !accounts.Role(*role).Valid() {
		return usagef("--role %q is not customer, staff, admin or platform_admin", *role)
	}
	if accounts.Role(*role) == accounts.PlatformAdmin && *org != accounts.PlatformOrgSlug {
		return usagef("platform admins belong to the organisation %q", accounts.PlatformOrgSlug)
	}
	a, err := openApp(ctx, env, load)
	if err != nil {
		return err
	}
	defer a.Close()
	o, err := a.Accounts.OrgBySlug(ctx, *org)
	if err != nil && *org == accounts.PlatformOrgSlug {
		o, err = a.Accounts.CreateOrg(ctx, accounts.NewOrg{Slug: accounts.PlatformOrgSlug, Name: "Platform administration", Modules: []string{}})
	}
	if err != nil {
		return err
	}
	if *name == "" {
		*name, _, _ = strings.Cut(*email, "@")
	}
	password := "pw-" + randomWords()
	u, err := a.Accounts.CreateUser(ctx, nil, o.ID, accounts.NewUser{Email: *email, Name: *name, Role: accounts.Role(*role), Password: password, Verified: true})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "created %s %s in %s (id %d)\ninitial password: %s\n(change it after the first sign-in at /account)\n", u.Role, u.Email, o.Slug, u.ID, password)
	return nil
}

// randomWords returns a random password that is easy to type: four groups
// of lowercase letters and digits (about 83 bits).
func randomWords() string {
	const alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
	var b strings.Builder
	for g := 0; g < 4; g++ {
		if g > 0 {
			b.WriteByte('-')
		}
		for i := 0; i < 4; i++ {
			n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
			b.WriteByte(alphabet[n.Int64()])
		}
	}
	return b.String()
}
