package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/portalkit/portalkit/core/devices"
)

// cmdSimulate connects simulated devices to a running portal's broker and
// publishes realistic readings, showing progress and the achieved rate.
func cmdSimulate(ctx context.Context, env *cliEnv, args []string) error {
	fs := newFlags(env, "simulate", "simulate --org SLUG --devices N --rate R [--duration D] [--url tcp://HOST:PORT]")
	load := configFlag(env, fs)
	org := fs.String("org", "", "organisation slug (its first customer owns the simulated devices)")
	n := fs.Int("devices", 10, "number of simulated devices, each with its own credentials")
	rate := fs.Float64("rate", 100, "messages per second, all devices together")
	dur := fs.Duration("duration", 0, "how long to run (0: until interrupted)")
	url := fs.String("url", "", "broker URL (default: the embedded broker at mqtt.listen)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if *org == "" {
		return usagef("--org is required")
	}
	if *n < 1 || *rate <= 0 || *dur < 0 {
		return usagef("--devices and --rate must be positive, --duration not negative")
	}
	a, err := openApp(ctx, env, load)
	if err != nil {
		return err
	}
	defer a.Close()
	if *url == "" {
		if a.Config.MQTT.URL != "" {
			return usagef("with mqtt.url set, give --url and export the simulated devices to the broker (see docs/devices.md)")
		}
		*url = "tcp://" + a.Config.MQTT.Listen
	}
	if env.signals != nil {
		sig, stop := env.signals()
		defer stop()
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-sig.Done():
				cancel()
			case <-ctx.Done():
			}
		}()
	}
	max := int64(-1)
	if *dur > 0 {
		max = int64(*rate * dur.Seconds())
	}
	bar := progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(env.stderr),
		progressbar.OptionSetDescription("messages acknowledged"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSetSpinnerChangeInterval(0),
		progressbar.OptionClearOnFinish(),
	)
	res, err := a.Devices.Simulate(ctx, devices.SimOptions{Org: *org, Devices: *n, Rate: *rate, Duration: *dur, URL: *url,
		Progress: func(acked int64) { _ = bar.Set64(acked) }})
	_ = bar.Finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "%d devices, %d messages acknowledged in %s: %.0f msg/s (asked %.0f)\n",
		res.Devices, res.Acked, res.Elapsed.Round(time.Millisecond), res.Rate(), *rate)
	return nil
}
