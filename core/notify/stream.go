package notify

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/store"
)

// StreamPath is where the live stream is served.
const StreamPath = "/api/v1/notifications/stream"

// maxReplay bounds the catch-up a reconnecting stream sends.
const maxReplay = 100

// MountStream serves the caller's live notifications as Server-Sent Events
// at GET /api/v1/notifications/stream on r.
//
// Each notification newer than the connection (or than Last-Event-ID) is an
// event "notification" whose id is the notification's ID and whose data is
// an Event. The first event, "ready",
// carries the unread count. A client that reconnects sends Last-Event-ID
// (browsers' EventSource does so by itself) or ?last_event_id=, and first
// receives the notifications it missed, up to 100. Streams are per instance:
// the instance the client is connected to pushes what any instance
// delivered (see the package's live-push notes); on shutdown the stream
// ends and the client reconnects to another instance.
//
// The caller is accounts.PrincipalFrom: anonymous requests get 401, API
// tokens 403 (they have no inbox).
func (s *Service) MountStream(r fiber.Router) {
	r.Get(StreamPath, func(c *fiber.Ctx) error {
		ctx := c.UserContext()
		who, err := person(ctx)
		if err != nil {
			return err
		}
		org, user := who.OrgID, who.UserID
		last, _ := strconv.ParseUint(c.Get("Last-Event-ID"), 10, 64)
		if q := c.Query("last_event_id"); q != "" && last == 0 {
			last, _ = strconv.ParseUint(q, 10, 64)
		}
		sub, err := s.hub.subscribe(userKey{org, user})
		if err != nil {
			return err
		}
		c.Set("Content-Type", "text/event-stream")
		c.Set("Cache-Control", "no-cache")
		c.Set("Connection", "keep-alive")
		c.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
		shutdown := c.Context().Done()
		heartbeat := s.cfg.StreamHeartbeat
		c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
			defer s.hub.unsubscribe(sub)
			sent := uint(last)
			// Subscribed first, then replay: nothing falls between the two, and
			// live events already replayed are skipped by ID.
			fmt.Fprint(w, "retry: 3000\n\n")
			if last == 0 {
				// A fresh client has the page it loaded; it wants what is newer.
				if err := store.Org(s.st.DB.WithContext(ctx), org).Model(&Record{}).
					Where("user_id = ? AND in_app", user).Select("COALESCE(MAX(id), 0)").Scan(&sent).Error; err != nil {
					s.log.Warn("stream start failed", "err", err)
					return
				}
			} else {
				missed, err := s.since(ctx, org, user, uint(last), maxReplay)
				if err != nil {
					s.log.Warn("stream catch-up failed", "err", err)
					return
				}
				for _, r := range missed {
					if writeEvent(w, "notification", r.ID, eventOf(r, -1)) != nil {
						return
					}
					sent = r.ID
				}
			}
			unread, err := s.UnreadCount(ctx, org, user)
			if err != nil {
				s.log.Warn("stream unread count failed", "err", err)
				return
			}
			// The ready event carries the ID the client is up to, so a client
			// whose stream is cut (a proxy, a write timeout, a restart) sends it
			// back as Last-Event-ID and gets what arrived in between.
			if writeEvent(w, "ready", sent, map[string]int64{"unread": unread}) != nil {
				return
			}
			tick := time.NewTicker(heartbeat)
			defer tick.Stop()
			for {
				select {
				case ev := <-sub.events:
					if ev.ID <= sent {
						continue
					}
					if writeEvent(w, "notification", ev.ID, ev) != nil {
						return
					}
					sent = ev.ID
				case <-tick.C:
					if _, err := w.WriteString(": ping\n\n"); err != nil || w.Flush() != nil {
						return
					}
				case <-sub.gone:
					return
				case <-shutdown:
					return
				}
			}
		})
		return nil
	})
}

func writeEvent(w *bufio.Writer, name string, id uint, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if id > 0 {
		fmt.Fprintf(w, "id: %d\n", id)
	}
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, b)
	return w.Flush()
}
