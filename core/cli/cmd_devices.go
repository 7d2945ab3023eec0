package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/portalkit/portalkit/core/app"
	"github.com/portalkit/portalkit/core/devices"
)

const devicesUsage = `Usage: portal devices add --org SLUG --owner EMAIL --module ID --name NAME [--kind K]
       portal devices list --org SLUG
       portal devices disable --org SLUG ID
       portal devices rotate --org SLUG ID
       portal devices export --format mosquitto --out DIR [--portal-user U --portal-password-file F]`

// cmdDevices manages devices as the operator (an administrator of the
// named organisation).
func cmdDevices(ctx context.Context, env *cliEnv, args []string) error {
	if len(args) == 0 {
		return usagef("want add, list, disable, rotate or export (run `portal devices --help`)")
	}
	if args[0] == "--help" || args[0] == "-h" {
		fmt.Fprintln(env.stdout, devicesUsage)
		return nil
	}
	sub := args[0]
	fs := newFlags(env, "devices "+sub, "devices "+sub+" (see `portal devices --help`)")
	load := configFlag(env, fs)
	org := fs.String("org", "", "organisation slug")
	owner := fs.String("owner", "", "add: the owning customer's e-mail address")
	mod := fs.String("module", "", "add: the module the device serves")
	name := fs.String("name", "", "add: the device's name")
	kind := fs.String("kind", "", "add: the device's kind (optional)")
	format := fs.String("format", "", "export: mosquitto")
	out := fs.String("out", "", "export: directory for passwd and acl")
	portalUser := fs.String("portal-user", "", "export: the portal's own broker account (mqtt.username)")
	portalPwFile := fs.String("portal-password-file", "", "export: file holding that account's password")
	maxArgs := 0
	if sub == "disable" || sub == "rotate" {
		maxArgs = 1
	}
	if err := parse(fs, args[1:], maxArgs); err != nil {
		return err
	}
	switch sub {
	case "add", "list", "disable", "rotate":
		if *org == "" {
			return usagef("--org is required")
		}
	case "export":
		if *format != "mosquitto" {
			return usagef("--format %q: only mosquitto is supported", *format)
		}
		if *out == "" {
			return usagef("--out is required")
		}
		if (*portalUser == "") != (*portalPwFile == "") {
			return usagef("--portal-user and --portal-password-file go together")
		}
	default:
		return usagef("unknown subcommand %q (want add, list, disable, rotate or export)", sub)
	}
	if (sub == "disable" || sub == "rotate") && fs.NArg() != 1 {
		return usagef("name the device ID")
	}
	if sub == "add" && (*owner == "" || *mod == "" || *name == "") {
		return usagef("--owner, --module and --name are required")
	}
	a, err := openApp(ctx, env, load)
	if err != nil {
		return err
	}
	defer a.Close()
	if sub == "export" {
		var accts []devices.PortalAccount
		if *portalUser != "" {
			pw, err := os.ReadFile(*portalPwFile)
			if err != nil {
				return fmt.Errorf("--portal-password-file: %w", err)
			}
			h, err := devices.HashSecret(strings.TrimSpace(string(pw)))
			if err != nil {
				return err
			}
			accts = append(accts, devices.PortalAccount{Username: *portalUser, Hash: h})
		}
		n, err := a.Devices.ExportMosquitto(ctx, *out, accts...)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "wrote %s/passwd and %s/acl: %d active devices; reload Mosquitto (kill -HUP) to apply\n", *out, *out, n)
		return nil
	}
	actor, err := operator(ctx, a, *org)
	if err != nil {
		return err
	}
	switch sub {
	case "add":
		u, err := a.Accounts.UserByEmail(ctx, actor.OrgID, strings.ToLower(*owner))
		if err != nil {
			return fmt.Errorf("--owner: no user %s in %s", *owner, *org)
		}
		c, err := a.Devices.Create(ctx, actor, devices.NewDevice{OwnerID: u.ID, Module: *mod, Name: *name, Kind: *kind})
		if err != nil {
			return err
		}
		printCredentials(env, c)
	case "list":
		tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tMODULE\tSTATUS\tOWNER\tACCEPTED\tREJECTED")
		// Every device, a page of 1 000 at a time.
		for offset := 0; ; offset += 1000 {
			list, err := a.Devices.List(ctx, actor, devices.ListFilter{Offset: offset, Limit: 1000})
			if err != nil {
				return err
			}
			for _, d := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%d\n", d.ID, d.Name, d.Module, d.Status, d.OwnerID, d.Accepted, d.Rejected)
			}
			if len(list) < 1000 {
				break
			}
		}
		return tw.Flush()
	case "disable":
		d, err := a.Devices.Disable(ctx, actor, fs.Arg(0))
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "disabled device %s (%s)\n", d.ID, d.Name)
	case "rotate":
		c, err := a.Devices.Rotate(ctx, actor, fs.Arg(0))
		if err != nil {
			return err
		}
		printCredentials(env, c)
	}
	return nil
}

// operator is the CLI's actor: an administrator of org.
func operator(ctx context.Context, a *app.App, slug string) (devices.Actor, error) {
	o, err := a.Accounts.OrgBySlug(ctx, slug)
	if err != nil {
		return devices.Actor{}, fmt.Errorf("--org: no organisation %q", slug)
	}
	return devices.Actor{OrgID: o.ID, Role: "admin"}, nil
}

func printCredentials(env *cliEnv, c *devices.Created) {
	fmt.Fprintf(env.stdout, "device %s (%s)\n", c.ID, c.Device.Name)
	fmt.Fprintf(env.stdout, "username: %s\nsecret:   %s   (shown only now)\n", c.Username, c.Secret)
	fmt.Fprintf(env.stdout, "publish:  %s/<stream>\ncommands: %s\n", c.Topics.Publish, c.Topics.Commands)
}
