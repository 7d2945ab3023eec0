// Command simulated-car is a car's telematics unit built on the device SDK
// (sdk/go/device): it connects with the credentials `portal devices add`
// printed, publishes a diagnostics reading every --every, keeps what the
// portal has not acknowledged in --store across restarts, and answers the
// portal's "Refresh diagnostics" with a fresh reading.
//
//	go run ./examples/simulated-car --broker tcp://127.0.0.1:1883 \
//	  --username dv... --secret ... --publish t/demo/d/dv.../automotive --store /tmp/car
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/portalkit/portalkit/sdk/go/device"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "simulated-car:", err)
		os.Exit(1)
	}
}

// run is the car: it publishes until ctx ends or --count readings were
// acknowledged.
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("simulated-car", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg device.Config
	fs.StringVar(&cfg.Broker, "broker", "tcp://127.0.0.1:1883", "the portal's MQTT address")
	fs.StringVar(&cfg.Username, "username", "", "the device's ID (dv...), as printed by `portal devices add`")
	fs.StringVar(&cfg.Secret, "secret", os.Getenv("DEVICE_SECRET"), "the device's secret (or DEVICE_SECRET)")
	fs.StringVar(&cfg.Topics.Publish, "publish", "", "the publish prefix as printed (t/ORG/d/ID/automotive)")
	fs.StringVar(&cfg.StoreDir, "store", "", "directory keeping unacknowledged readings across restarts")
	every := fs.Duration("every", 10*time.Second, "time between readings")
	count := fs.Int("count", 0, "stop after this many acknowledged readings (0: run until interrupted)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *every <= 0 {
		return errors.New("--every must be positive")
	}

	// Commands, including those kept while the car was off, from the
	// first connection on.
	refresh := make(chan struct{}, 1)
	cfg.OnCommand = func(cmd device.Command) error {
		fmt.Fprintf(out, "command %s %s\n", cmd.Name, cmd.Payload)
		if cmd.Name == device.CommandRefreshDiagnostics {
			select {
			case refresh <- struct{}{}:
			default:
			}
		}
		return nil
	}
	c, err := device.Connect(ctx, cfg)
	if err != nil {
		return err
	}
	defer c.Close()

	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	odometer := 10000 + r.Float64()*50000
	var seq int64
	reading := func() device.CarDiagnostics {
		seq++
		odometer += r.Float64() * 2
		fuel := 20 + r.Float64()*80
		tyre := func() float64 { return 225 + r.Float64()*10 }
		return device.CarDiagnostics{Time: time.Now().UTC(), Seq: seq, OdometerKm: odometer, BatteryV: 12.2 + r.Float64()*0.6,
			CoolantC: 85 + r.Float64()*10, FuelPct: &fuel, Tyres: device.Tyres{FL: tyre(), FR: tyre(), RL: tyre(), RR: tyre()}, DTCs: []string{}}
	}
	sent := 0
	send := func() error {
		if err := c.Send(ctx, reading()); err != nil {
			return err
		}
		sent++
		fmt.Fprintf(out, "reading %d acknowledged\n", seq)
		return nil
	}
	tick := time.NewTicker(*every)
	defer tick.Stop()
	for {
		if err := send(); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if *count > 0 && sent >= *count {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		case <-refresh:
		}
	}
}
