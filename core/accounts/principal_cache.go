package accounts

import (
	"sync"
	"time"
)

// principalCacheMax bounds the number of cached sessions per instance.
const principalCacheMax = 10_000

// principalCache keeps recently authenticated sessions for a few seconds, so
// a burst of requests with one session costs one database read. Entries are
// keyed by the token's hash; every change to a session, its user or its
// organisation made through this Service drops the affected entries at once.
// Another instance's change is seen when the entry expires (docs/security.md).
type principalCache struct {
	ttl time.Duration
	max int

	mu sync.Mutex
	// gen counts invalidations. A lookup remembers it before reading the
	// database and stores its result only if no invalidation happened
	// meanwhile, so a read that raced a revocation cannot put the revoked
	// session back.
	gen     uint64
	entries map[string]*cachedSession
}

// cachedSession is one authenticated session as read from the database.
type cachedSession struct {
	p         Principal
	lastSeen  time.Time // the session's last_seen_at as last written
	expiresAt time.Time
	until     time.Time // when the entry stops being used
}

func newPrincipalCache(ttl time.Duration, max int) *principalCache {
	if ttl <= 0 {
		return nil
	}
	return &principalCache{ttl: ttl, max: max, entries: map[string]*cachedSession{}}
}

// generation returns the invalidation counter (0 when caching is off).
func (c *principalCache) generation() uint64 {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// get returns a copy of the entry for key if it is still fresh at now.
func (c *principalCache) get(key string, now time.Time) (cachedSession, bool) {
	if c == nil {
		return cachedSession{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return cachedSession{}, false
	}
	if !now.Before(e.until) {
		delete(c.entries, key)
		return cachedSession{}, false
	}
	return *e, true
}

// put stores e under key unless an invalidation happened since gen was read.
func (c *principalCache) put(key string, e cachedSession, gen uint64, now time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		for k, old := range c.entries {
			if !now.Before(old.until) {
				delete(c.entries, k)
			}
		}
		// Still full: drop entries in map order (effectively at random)
		// until there is room.
		for k := range c.entries {
			if len(c.entries) < c.max {
				break
			}
			delete(c.entries, k)
		}
	}
	e.until = now.Add(c.ttl)
	c.entries[key] = &e
}

// seen records that the session behind key was touched at t.
func (c *principalCache) seen(key string, t time.Time) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		e.lastSeen = t
	}
}

// drop removes every entry match selects and fences off reads in flight.
func (c *principalCache) drop(match func(*Principal) bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for k, e := range c.entries {
		if match(&e.p) {
			delete(c.entries, k)
		}
	}
}

// dropKey removes the entry for key and fences off reads in flight.
func (c *principalCache) dropKey(key string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.entries, key)
}

// len returns the number of entries (tests).
func (c *principalCache) len() int {
	if c == nil {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

// forgetSession drops the cached principal of one session.
func (s *Service) forgetSession(orgID, sessionID uint) {
	s.principals.drop(func(p *Principal) bool { return p.OrgID == orgID && p.SessionID == sessionID })
}

// forgetUser drops every cached session of a user.
func (s *Service) forgetUser(orgID, userID uint) {
	s.principals.drop(func(p *Principal) bool { return p.OrgID == orgID && p.UserID == userID })
}

// forgetOrg drops every cached session of an organisation.
func (s *Service) forgetOrg(orgID uint) {
	s.principals.drop(func(p *Principal) bool { return p.OrgID == orgID })
}

// forgetToken drops the cached session of a session secret.
func (s *Service) forgetToken(token string) {
	h := hashToken(token)
	s.principals.dropKey(h)
}
