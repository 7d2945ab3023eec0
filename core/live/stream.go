package live

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/errs"
)

// StreamPath is where the live stream is served.
const StreamPath = "/api/v1/live"

// LegacyStreamPath serves the same stream where the notifications stream
// used to be.
const LegacyStreamPath = "/api/v1/notifications/stream"

// Mount serves the caller's live stream at StreamPath (and
// LegacyStreamPath) on r. docs/notifications.md describes the protocol.
func (s *Service) Mount(r fiber.Router) {
	r.Get(StreamPath, s.handle)
	r.Get(LegacyStreamPath, s.handle)
}

// resume is where a client says it is up to.
type resume struct {
	given bool   // the client sent a position
	valid bool   // ... and it parsed
	seq   uint64 // the position
}

func resumeOf(c *fiber.Ctx) resume {
	v := c.Get("Last-Event-ID")
	if v == "" {
		v = c.Query("last_event_id")
	}
	if v == "" {
		return resume{}
	}
	n, err := strconv.ParseUint(v, 10, 64)
	return resume{given: true, valid: err == nil, seq: n}
}

func (s *Service) handle(c *fiber.Ctx) error {
	ctx := c.UserContext()
	who, ok := accounts.PrincipalFrom(ctx)
	if !ok {
		return errs.Unauthenticatedf("sign in to open the live stream")
	}
	if who.UserID == 0 || who.OrgID == 0 || !who.Is(accounts.PersonRoles...) {
		return errs.Forbiddenf("only people of an organisation have a live stream")
	}
	from := resumeOf(c)
	c.Set("Content-Type", "text/event-stream")
	c.Set("Cache-Control", "no-store")
	c.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	if c.Method() == fiber.MethodHead {
		return nil
	}
	x, err := s.hub.subscribe(userKey{who.OrgID, who.UserID})
	if err != nil {
		return err
	}
	fctx := c.Context()
	shutdown := fctx.Done()
	chunked := fctx.Request.Header.IsHTTP11()
	// The stream's own context: request-scoped values stay, the handler's
	// return does not end it.
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	// The stream takes the connection over once the handler (and the
	// middleware around it) returned: fasthttp's serving goroutine and its
	// buffers are gone, and this one goroutine writes to the socket itself
	// (docs/PERFORMANCE.md, "Live streams": memory per idle stream).
	fctx.HijackSetNoResponse(true)
	fctx.Hijack(func(conn net.Conn) {
		defer cancel()
		defer s.hub.unsubscribe(x)
		// The response head as the middleware left it; fasthttp releases
		// fctx only after this function returns.
		h := &fctx.Response.Header
		h.SetStatusCode(fiber.StatusOK)
		h.SetConnectionClose() // the connection ends with the stream
		if chunked {
			h.SetContentLength(-1) // Transfer-Encoding: chunked
		} else {
			h.SetContentLength(-2) // HTTP/1.0: the body ends when the connection does
		}
		st := &stream{s: s, conn: conn, chunked: chunked, sub: x, org: who.OrgID, user: who.UserID}
		_ = conn.SetWriteDeadline(time.Now().Add(st.stall()))
		// AppendBytes(nil), not Header(): the bytes are garbage once sent,
		// instead of staying in fctx for the stream's life.
		if _, err := conn.Write(h.AppendBytes(nil)); err != nil {
			return
		}
		st.serve(sctx, from, shutdown)
		if chunked {
			// The last chunk: the client sees the stream end cleanly.
			_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = conn.Write([]byte("0\r\n\r\n"))
		}
	})
	return nil
}

// stream is one open stream.
type stream struct {
	s         *Service
	conn      net.Conn
	chunked   bool
	buf       []byte // what the next flush sends, after chunkHead bytes kept for the chunk's size; nil when idle
	sub       *sub
	org, user uint
	sent      uint64 // the position of the last event sent
}

// chunkHead is the room kept at the start of buf for a chunk's size line
// (up to 8 hex digits and CRLF).
const chunkHead = 10

// firstBuf is the write buffer's first size: an event or a heartbeat.
const firstBuf = 512

// maxBuffered is how much a stream buffers before it sends.
const maxBuffered = 32 << 10

// stall is how long one write may wait for a client that does not read.
func (st *stream) stall() time.Duration {
	return max(st.s.httpCfg.WriteTimeout, 2*st.s.cfg.Heartbeat)
}

func (st *stream) write(s string) {
	if st.buf == nil {
		st.buf = make([]byte, chunkHead, firstBuf)
	}
	st.buf = append(st.buf, s...)
}

// flush sends what is buffered, as one chunk in one write. Each write moves
// the connection's write deadline on, so the write timeout bounds a stalled
// client, not the stream's life.
func (st *stream) flush() error {
	if len(st.buf) <= chunkHead {
		return nil
	}
	out := st.buf[chunkHead:]
	if st.chunked {
		var size [chunkHead]byte
		head := append(strconv.AppendUint(size[:0], uint64(len(out)), 16), '\r', '\n')
		start := chunkHead - len(head)
		copy(st.buf[start:], head)
		out = append(st.buf[start:], '\r', '\n')
	}
	_ = st.conn.SetWriteDeadline(time.Now().Add(st.stall()))
	_, err := st.conn.Write(out)
	// An idle stream keeps no buffer: most streams send an event a minute
	// or less, so a fresh one per flush costs less than 10 000 kept.
	st.buf = nil
	return err
}

func (st *stream) event(id uint64, typ string, data string) error {
	st.write("id: ")
	st.write(strconv.FormatUint(id, 10))
	st.write("\nevent: ")
	st.write(typ)
	st.write("\ndata: ")
	st.write(data)
	st.write("\n\n")
	if len(st.buf) > maxBuffered {
		return st.flush() // a long replay goes out as it is read
	}
	return nil
}

func (st *stream) serve(ctx context.Context, from resume, shutdown <-chan struct{}) {
	s := st.s
	st.write("retry: " + strconv.FormatInt(s.cfg.Retry.Milliseconds(), 10) + "\n\n")
	// Where the person stands and, for a client that says where it is up
	// to, what it missed: one statement, shared with the streams starting
	// at the same moment.
	replay := from.given && from.valid
	v, err := st.standing(ctx, from.seq, replay)
	if err != nil {
		s.log.Warn("live stream start failed", "err", err)
		return
	}
	switch {
	case !from.given:
		// A client with nothing yet wants what is newer than now.
		st.sent = v.cur
	case !from.valid || from.seq > v.cur:
		// Not a position of this person (another format, a restored
		// database): the client cannot know what it missed.
		if st.reset(v.cur, "unknown position") != nil {
			return
		}
	default:
		st.sent = from.seq
		if st.replay(ctx, v, true) != nil {
			return
		}
	}
	ready, _, err := s.ready.Load(ctx, userKey{st.org, st.user})
	if err != nil {
		s.log.Warn("live stream ready failed", "err", err)
		return
	}
	if ready == nil {
		ready = map[string]any{}
	}
	b, _ := json.Marshal(ready)
	if st.event(st.sent, TypeReady, string(b)) != nil || st.flush() != nil {
		return
	}
	heartbeat := time.NewTicker(s.cfg.Heartbeat)
	defer heartbeat.Stop()
	var end <-chan time.Time
	if s.cfg.MaxLifetime > 0 {
		// ±20 %: streams opened together (after a deploy) end apart.
		life := time.Duration(float64(s.cfg.MaxLifetime) * (0.8 + 0.4*rand.Float64()))
		t := time.NewTimer(life)
		defer t.Stop()
		end = t.C
	}
	for {
		select {
		case <-st.sub.wake:
			if st.drain(ctx) != nil || st.flush() != nil {
				return
			}
		case <-heartbeat.C:
			st.write(": ping\n\n")
			if st.flush() != nil {
				return
			}
		case <-end:
			s.metrics.ended.Inc()
			return
		case <-st.sub.gone:
			return
		case <-shutdown:
			return
		}
	}
}

// drain writes what the hub pushed, in position order: an event that is not
// the next one means the ones between were pushed while this stream could
// not keep them, so they are read from the database first.
func (st *stream) drain(ctx context.Context) error {
	ws, lagged := st.sub.take()
	if lagged {
		if err := st.catchUp(ctx, false); err != nil {
			return err
		}
	}
	for _, w := range ws {
		if w.Seq <= st.sent {
			continue // sent already (replayed, or a second push)
		}
		if w.Seq != st.sent+1 {
			st.s.metrics.gaps.Inc()
			if err := st.catchUp(ctx, false); err != nil {
				return err
			}
			if w.Seq <= st.sent {
				continue
			}
		}
		if err := st.event(w.Seq, w.Type, w.Data); err != nil {
			return err
		}
		st.sent = w.Seq
	}
	return nil
}

// catchUp writes the person's events after st.sent from the database (see
// replay).
func (st *stream) catchUp(ctx context.Context, bounded bool) error {
	v, err := st.standing(ctx, st.sent, true)
	if err != nil {
		return err
	}
	return st.replay(ctx, v, bounded)
}

// replay writes v, the person's events after st.sent as the database held
// them, and reads on while there are more. A person's positions commit in
// order, so what the database holds after st.sent has no holes — unless
// events expired (live.history): then, or when a reconnecting client
// (bounded) missed more than live.max_replay, it sends a reset instead. An
// open stream that fell behind reads on in pages until it is level.
func (st *stream) replay(ctx context.Context, v standing, bounded bool) error {
	s := st.s
	for {
		es := v.events
		switch {
		case bounded && len(es) > s.cfg.MaxReplay:
			return st.reset(v.cur, "too many missed")
		case len(es) > 0 && es[0].Seq != st.sent+1:
			return st.reset(v.cur, "history expired")
		case len(es) == 0:
			if v.cur > st.sent {
				return st.reset(v.cur, "history expired")
			}
			return nil
		}
		for _, e := range es {
			if err := st.event(e.Seq, e.Type, e.Data); err != nil {
				return err
			}
			st.sent = e.Seq
		}
		s.metrics.replayed.Add(float64(len(es)))
		if len(es) <= s.cfg.MaxReplay {
			return nil
		}
		if err := st.flush(); err != nil {
			return err
		}
		var err error
		if v, err = st.standing(ctx, st.sent, true); err != nil {
			return err
		}
	}
}

// reset tells the client to refetch and moves the stream to cur, the
// person's position: everything up to it is in what the client refetches.
func (st *stream) reset(cur uint64, why string) error {
	st.sent = cur
	st.s.metrics.resets.Inc()
	b, _ := json.Marshal(map[string]string{"reason": why})
	return st.event(cur, TypeReset, string(b))
}
