package dashboard

import (
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"golang.org/x/sync/singleflight"

	"github.com/portalkit/portalkit/core/accounts"
)

// boardCache keeps, per person, each widget's data and their layout for a
// short time (dashboard.cache_ttl), so a person reloading their dashboard,
// or an app polling it, costs a few map lookups instead of every widget's
// queries. It holds at most dashboard.cache_people people; the least
// recently used leave first.
//
// Freshness on this instance: Forget drops a person's entries. The kernel
// calls it for the subject and the actor of every core event and after
// every state-changing request a person makes, and the layout changes call
// it themselves; so a person never sees their own change late here. A
// change made on another instance shows within the TTL (docs/security.md).
//
// Events run inside the publisher's transaction, before it commits. So that
// a load racing that transaction cannot put pre-commit data back, a person's
// widgets computed by a load that started before, or within settle after,
// their latest Forget are not stored (they are still shown). A transaction
// that commits later than settle after its event may leave data up to one
// TTL old, as another instance's change would.
type boardCache struct {
	ttl    time.Duration
	settle time.Duration

	mu     sync.Mutex
	people *simplelru.LRU[personKey, *personEntry]
	// changed is when each recently forgotten person was forgotten; entries
	// older than settle are pruned.
	changed map[personKey]time.Time

	// flights makes concurrent first loads of one person's widget compute
	// it once.
	flights singleflight.Group
}

// personKey identifies a person.
type personKey struct{ org, user uint }

// personEntry is what the cache holds about one person. variant describes
// the principal the entries were computed for (role, language, time zone,
// name, enabled modules): a principal that differs (a changed language, a
// module enabled) starts afresh.
type personEntry struct {
	variant string
	layout  *cachedLayout
	widgets map[string]*cachedWidget
}

type cachedLayout struct {
	order, hidden []string
	until         time.Time
}

// cachedWidget is one widget's data with its JSON, both shared by every
// request that reads them: nobody may modify them.
type cachedWidget struct {
	data  any
	raw   json.RawMessage
	until time.Time
	// renewAt is when a load that reads the entry starts computing its
	// successor in the background (once: renewing), so a dashboard read
	// all the time does not wait for its widgets each time they expire.
	renewAt  time.Time
	renewing atomic.Bool
}

// due reports whether the entry should be renewed at now, claiming the
// renewal for the caller.
func (w *cachedWidget) due(now time.Time) bool {
	return !now.Before(w.renewAt) && w.renewing.CompareAndSwap(false, true)
}

func newBoardCache(ttl time.Duration, people int) *boardCache {
	if ttl <= 0 {
		return nil
	}
	if people < 1 {
		people = 1
	}
	lru, _ := simplelru.NewLRU[personKey, *personEntry](people, nil) // errors only for a size below 1
	return &boardCache{ttl: ttl, settle: min(ttl, maxSettle), people: lru, changed: map[personKey]time.Time{}}
}

// variantOf describes what of p the widgets' data may depend on besides
// the person.
func variantOf(p *accounts.Principal) string {
	var b strings.Builder
	b.Grow(64)
	b.WriteString(string(p.Role))
	b.WriteByte('|')
	b.WriteString(p.Locale)
	b.WriteByte('|')
	b.WriteString(p.TimeZone)
	b.WriteByte('|')
	b.WriteString(p.Name)
	b.WriteByte('|')
	b.WriteString(p.Email)
	b.WriteByte('|')
	b.WriteString(strings.Join(p.Modules, ","))
	return b.String()
}

// entry returns the person's entry for variant (nil when none); the caller
// holds mu.
func (c *boardCache) entry(k personKey, variant string) *personEntry {
	e, ok := c.people.Get(k)
	if !ok || e.variant != variant {
		return nil
	}
	return e
}

// layout returns the person's cached layout, if fresh at now.
func (c *boardCache) layout(k personKey, variant string, now time.Time) (order, hidden []string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(k, variant)
	if e == nil || e.layout == nil || !now.Before(e.layout.until) {
		return nil, nil, false
	}
	return e.layout.order, e.layout.hidden, true
}

// widget returns the person's cached data of widget key, if fresh at now.
func (c *boardCache) widget(k personKey, variant, key string, now time.Time) (*cachedWidget, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entry(k, variant)
	if e == nil {
		return nil, false
	}
	w, ok := e.widgets[key]
	if !ok || !now.Before(w.until) {
		return nil, false
	}
	return w, true
}

// storable reports whether a value read for k from a load that started at
// started may be stored; the caller holds mu.
func (c *boardCache) storable(k personKey, started time.Time) bool {
	t, ok := c.changed[k]
	return !ok || !started.Before(t.Add(c.settle))
}

// slot returns the person's entry for variant, creating it (or replacing
// one of another variant); the caller holds mu.
func (c *boardCache) slot(k personKey, variant string) *personEntry {
	e, ok := c.people.Get(k)
	if !ok || e.variant != variant {
		e = &personEntry{variant: variant, widgets: map[string]*cachedWidget{}}
		c.people.Add(k, e)
	}
	return e
}

// putLayout stores the person's layout read by a load that started at
// started, unless they were forgotten since (or just before).
func (c *boardCache) putLayout(k personKey, variant string, order, hidden []string, started time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.storable(k, started) {
		return
	}
	c.slot(k, variant).layout = &cachedLayout{order: order, hidden: hidden, until: started.Add(c.ttl)}
}

// putWidget stores a widget's data for at most maxAge (0: the TTL).
func (c *boardCache) putWidget(k personKey, variant, key string, w *cachedWidget, maxAge time.Duration, started time.Time) {
	ttl := c.ttl
	if maxAge > 0 && maxAge < ttl {
		ttl = maxAge
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.storable(k, started) {
		return
	}
	w.until = started.Add(ttl)
	w.renewAt = started.Add(ttl - ttl/5) // in the last fifth of its life
	c.slot(k, variant).widgets[key] = w
}

// maxSettle is how long after a Forget a person's loads are not stored:
// longer than the transactions that publish events take to commit.
const maxSettle = time.Second

// maxChanged bounds the forgotten-people record before it is pruned.
const maxChanged = 4096

// forget drops everything cached about a person and keeps what is being
// loaded for them now, or within settle, from being stored.
func (c *boardCache) forget(k personKey, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.people.Remove(k)
	if len(c.changed) >= maxChanged {
		for p, t := range c.changed {
			if !now.Before(t.Add(c.settle)) {
				delete(c.changed, p)
			}
		}
	}
	c.changed[k] = now
}

// flightKey names the computation of one widget for one person as of their
// latest Forget: a load that starts after a Forget never joins one that
// started before it.
func (c *boardCache) flightKey(k personKey, variant, key string) string {
	c.mu.Lock()
	t := c.changed[k]
	c.mu.Unlock()
	var b strings.Builder
	b.Grow(len(variant) + len(key) + 48)
	b.WriteString(strconv.FormatUint(uint64(k.org), 10))
	b.WriteByte('/')
	b.WriteString(strconv.FormatUint(uint64(k.user), 10))
	b.WriteByte('/')
	b.WriteString(key)
	b.WriteByte('/')
	b.WriteString(strconv.FormatInt(t.UnixNano(), 10))
	b.WriteByte('/')
	b.WriteString(variant)
	return b.String()
}
