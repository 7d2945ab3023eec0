package devices

import (
	"errors"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/store"
)

// routeCacheTTL is how long the router trusts a cached device: another
// instance's change to a device (disabled, deleted) takes effect here
// within it, plus one refresh.
const routeCacheTTL = 2 * time.Second

// routeRefreshBatch is the most devices one refresh reads.
const routeRefreshBatch = 500

// routeDevice returns the device, cached for a moment: a change made on
// this instance takes effect at once (the entry is dropped), one made on
// another instance within routeCacheTTL plus one refresh. An expired
// entry is still answered while the refresher reads it again in the
// background — together with every other device whose entry expired
// meanwhile, in one query — so a message waits for the database here
// only when its device is not cached at all (its first message, or one
// after a change on this instance). The refresher runs while a pipeline
// does; without one an expired entry is read again at once.
//
// A device the database does not hold is cached as nil (refused). When the
// database cannot answer, the error is returned and nothing is cached: the
// message is not refused but routed again later (routeHeld), since
// refusing it would acknowledge a reading that was never stored.
func (s *Service) routeDevice(id string) (*Device, error) {
	if v, ok := s.devCache.Load(id); ok {
		c := v.(cachedDevice)
		if !time.Now().After(c.expires) {
			return c.dev, nil
		}
		if r := s.refresher.Load(); r != nil {
			r.ask(id)
			return c.dev, nil
		}
	}
	// One lookup per device, however many of its messages arrive meanwhile.
	v, err, _ := s.routeFlights.Do(id, func() (any, error) {
		gen := s.routeGen.Load()
		d, err := s.lookup(id)
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			d = nil
		case err != nil:
			return (*Device)(nil), err
		}
		if s.routeGen.Load() == gen { // no change to any device meanwhile
			s.devCache.Store(id, cachedDevice{dev: d, expires: time.Now().Add(routeCacheTTL)})
		}
		return d, nil
	})
	return v.(*Device), err
}

// routeRefresher reads expired route cache entries again in batches.
type routeRefresher struct {
	s     *Service
	ids   chan string
	asked sync.Map // device ID -> struct{}: queued or being read
}

func (s *Service) startRouteRefresher(stop <-chan struct{}) *routeRefresher {
	r := &routeRefresher{s: s, ids: make(chan string, 4*routeRefreshBatch)}
	s.refresher.Store(r)
	go r.run(stop)
	return r
}

// ask queues device id for the next refresh, once. When the queue is
// full the entry goes on being answered and is asked for again by the
// device's next message.
func (r *routeRefresher) ask(id string) {
	if _, dup := r.asked.LoadOrStore(id, struct{}{}); dup {
		return
	}
	select {
	case r.ids <- id:
	default:
		r.asked.Delete(id)
	}
}

func (r *routeRefresher) run(stop <-chan struct{}) {
	defer r.s.refresher.CompareAndSwap(r, nil)
	batch := make([]string, 0, routeRefreshBatch)
	for {
		select {
		case <-stop:
			return
		case id := <-r.ids:
			batch = append(batch[:0], id)
		}
	more:
		for len(batch) < routeRefreshBatch {
			select {
			case id := <-r.ids:
				batch = append(batch, id)
			default:
				break more
			}
		}
		r.refresh(batch)
		for _, id := range batch {
			r.asked.Delete(id)
		}
	}
}

// refresh reads ids in one query and caches what it read (a device not
// found is cached as nil: refused), unless a device changed on this
// instance meanwhile. When the read fails the answered entries are kept
// for another routeCacheTTL: one retry per period, not one per message.
func (r *routeRefresher) refresh(ids []string) {
	s := r.s
	gen := s.routeGen.Load()
	var found []Device
	err := store.AllOrgs(s.st.DB).Where("id IN ?", ids).Find(&found).Error
	if s.routeGen.Load() != gen {
		return // the next message of each reads it again
	}
	expires := time.Now().Add(routeCacheTTL)
	if err != nil {
		s.log.Error("refreshing cached devices", "devices", len(ids), "err", err)
		for _, id := range ids {
			if v, ok := s.devCache.Load(id); ok {
				s.devCache.CompareAndSwap(id, v, cachedDevice{dev: v.(cachedDevice).dev, expires: expires})
			}
		}
		return
	}
	byID := make(map[string]*Device, len(found))
	for i := range found {
		byID[found[i].ID] = &found[i]
	}
	for _, id := range ids {
		s.devCache.Store(id, cachedDevice{dev: byID[id], expires: expires})
	}
}
