package devices

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/sdk/go/device"
)

// SimKind is the kind of the devices the simulator registers.
const SimKind = "simulator"

// SimOptions configures Simulate.
type SimOptions struct {
	// Org is the organisation's slug.
	Org string
	// Devices is how many simulated devices publish; Rate is the messages
	// per second of all of them together; Duration 0 runs until ctx ends.
	Devices  int
	Rate     float64
	Duration time.Duration
	// URL is the broker (tcp://host:port).
	URL string
	// Progress is called about ten times a second with the messages sent
	// and acknowledged so far.
	Progress func(acked int64)
}

// SimResult is what a simulation achieved.
type SimResult struct {
	Devices int
	Acked   int64
	Elapsed time.Duration
}

// Rate is the achieved rate of acknowledged messages per second.
func (r SimResult) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Acked) / r.Elapsed.Seconds()
}

// simStream is a module stream with a simulator.
type simStream struct{ module, stream string }

// Simulate connects o.Devices simulated devices, each with its own
// registered credentials (devices of kind "simulator", owned by the
// organisation's first customer, created or given a fresh secret), and
// publishes realistic payloads of every stream that declares Simulate, at
// o.Rate messages per second in all (QoS 1).
func (s *Service) Simulate(ctx context.Context, o SimOptions) (SimResult, error) {
	if o.Devices < 1 || o.Devices > 100000 {
		return SimResult{}, errs.InvalidField("devices", "between 1 and 100000")
	}
	if o.Rate <= 0 {
		return SimResult{}, errs.InvalidField("rate", "must be positive")
	}
	org, err := s.accounts.OrgBySlug(ctx, o.Org)
	if err != nil {
		return SimResult{}, fmt.Errorf("no organisation %q", o.Org)
	}
	var streams []simStream
	s.mu.RLock()
	for m, byStream := range s.streams {
		if !org.ModuleEnabled(m) {
			continue
		}
		for st, h := range byStream {
			if h.Sample(rand.New(rand.NewPCG(1, 2)), time.Now()) != nil {
				streams = append(streams, simStream{m, st})
			}
		}
	}
	s.mu.RUnlock()
	if len(streams) == 0 {
		return SimResult{}, fmt.Errorf("no module enabled for %s declares a simulated stream", o.Org)
	}
	sort.Slice(streams, func(i, j int) bool { return streams[i].module+streams[i].stream < streams[j].module+streams[j].stream })
	byModule := map[string][]simStream{}
	for _, st := range streams {
		byModule[st.module] = append(byModule[st.module], st)
	}
	creds, err := s.simDevices(ctx, org, streams, byModule, o.Devices)
	if err != nil {
		return SimResult{}, err
	}

	runCtx := ctx
	if o.Duration > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, o.Duration)
		defer cancel()
	}
	var acked atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, len(creds))
	interval := time.Duration(float64(time.Second) * float64(len(creds)) / o.Rate)
	start := time.Now()
	for i, c := range creds {
		wg.Add(1)
		go func(i int, c *Created) {
			defer wg.Done()
			// Each simulated device is a device SDK client, as a real one
			// would be (so every run of the simulator exercises the SDK).
			cctx, cancel := context.WithTimeout(runCtx, 15*time.Second)
			cl, err := device.Connect(cctx, device.Config{Broker: o.URL, Username: c.Username, Secret: c.Secret,
				Topics: device.Topics{Publish: c.Topics.Publish, Commands: c.Topics.Commands}, MaxBackoff: 5 * time.Second})
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return // interrupted while connecting
				}
				errc <- fmt.Errorf("device %s: connect: %v", c.ID, err)
				return
			}
			defer cl.Close()
			r := rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))
			mine := byModule[c.Device.Module]
			st := mine[i%len(mine)]
			h := s.handler(st.module, st.stream)
			// Spread the devices' first messages over one interval.
			next := time.Now().Add(time.Duration(r.Int64N(int64(interval) + 1)))
			var pending []*device.Pending
			for {
				select {
				case <-runCtx.Done():
					final, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					for _, p := range pending {
						if p.Wait(final) == nil {
							acked.Add(1)
						}
					}
					return
				case <-time.After(time.Until(next)):
				}
				next = next.Add(interval)
				p, err := cl.PublishAsync(st.module+"/"+st.stream, h.Sample(r, time.Now()))
				if err != nil {
					errc <- fmt.Errorf("device %s: %v", c.ID, err)
					return
				}
				pending = append(pending, p)
				keep := pending[:0]
				for _, p := range pending {
					select {
					case <-p.Done():
						if p.Err() == nil {
							acked.Add(1)
						}
					default:
						keep = append(keep, p)
					}
				}
				pending = keep
			}
		}(i, c)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-done:
			close(errc)
			var errsAll []error
			for err := range errc {
				errsAll = append(errsAll, err)
			}
			res := SimResult{Devices: len(creds), Acked: acked.Load(), Elapsed: time.Since(start)}
			if o.Progress != nil {
				o.Progress(res.Acked)
			}
			if len(errsAll) > 0 {
				return res, fmt.Errorf("%d of %d devices failed, the first: %w", len(errsAll), len(creds), errsAll[0])
			}
			return res, nil
		case <-tick.C:
			if o.Progress != nil {
				o.Progress(acked.Load())
			}
		}
	}
}

// simDevices returns credentials for n simulator devices of org, creating
// the missing ones and rotating the secrets of existing ones (a secret is
// never stored in clear, so reuse means a new one).
func (s *Service) simDevices(ctx context.Context, org *accounts.Org, streams []simStream, byModule map[string][]simStream, n int) ([]*Created, error) {
	var owner accounts.User
	err := store.Org(s.st.DB.WithContext(ctx), org.ID).Where("role = ?", accounts.Customer).Order("id").Take(&owner).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, fmt.Errorf("organisation %s has no customer to own the simulated devices", org.Slug)
	}
	if err != nil {
		return nil, err
	}
	var existing []Device
	if err := store.Org(s.st.DB.WithContext(ctx), org.ID).Where("kind = ? AND status = ?", SimKind, StatusActive).Order("name, id").Find(&existing).Error; err != nil {
		return nil, err
	}
	a := Actor{OrgID: org.ID, Role: string(accounts.Admin)}
	out := make([]*Created, 0, n)
	for _, d := range existing {
		if len(out) == n {
			break
		}
		if len(byModule[d.Module]) == 0 {
			continue
		}
		c, err := s.Rotate(ctx, a, d.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	for i := len(out); i < n; i++ {
		st := streams[i%len(streams)]
		c, err := s.Create(ctx, a, NewDevice{OwnerID: owner.ID, Module: st.module, Name: fmt.Sprintf("Simulated %s %d", st.module, i+1), Kind: SimKind})
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
