package portal

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// StreamPath is where the portal serves a person's live notifications as
// Server-Sent Events (docs/notifications.md).
const StreamPath = "/api/v1/notifications/stream"

// Notification is one live notification of the signed-in person.
type Notification struct {
	ID        uint64    `json:"id"`
	Kind      string    `json:"kind"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	Urgent    bool      `json:"urgent"`
	CreatedAt time.Time `json:"created_at"`
	// Unread is the person's unread count after this notification.
	Unread int64 `json:"unread"`
	// Position is the event's place in the person's live stream (its SSE
	// id): pass it as StreamOptions.LastEventID to resume after it.
	Position uint64 `json:"-"`
}

// StreamOptions tune Notifications.
type StreamOptions struct {
	// LastEventID resumes after a stream position already handled
	// (Notification.Position; 0: only what arrives from now on).
	LastEventID uint64
	// Ready, when set, is called with the unread count each time the
	// stream (re)connects.
	Ready func(unread int64)
}

// Notifications yields the signed-in person's notifications as they
// arrive, until ctx ends or the loop stops. A dropped connection is
// reconnected (after the wait the portal asked for, backing off while it
// keeps failing) with Last-Event-ID, so notifications that arrived in
// between come first and none is yielded twice. An answer that retrying
// cannot fix (401, 403: API tokens have no inbox) is yielded as a
// *Problem, and the stream ends.
func (c *Client) Notifications(ctx context.Context, o StreamOptions) iter.Seq2[Notification, error] {
	return func(yield func(Notification, error) bool) {
		last := o.LastEventID
		wait := 3 * time.Second
		failures := 0
		for ctx.Err() == nil {
			connected, retry, err := c.streamOnce(ctx, &last, o.Ready, yield)
			if err == errStop {
				return
			}
			if p, ok := err.(*Problem); ok && p.Status != http.StatusServiceUnavailable && p.Status != http.StatusTooManyRequests && p.Status < 500 {
				yield(Notification{}, p)
				return
			}
			if retry > 0 {
				wait = retry
			}
			if connected {
				failures = 0
			} else {
				failures++
			}
			d := wait << min(failures, 5)
			if failures == 0 {
				d = wait
			}
			select {
			case <-ctx.Done():
			case <-time.After(min(d, time.Minute)):
			}
		}
	}
}

type stopErr struct{}

func (stopErr) Error() string { return "stopped" }

var errStop error = stopErr{}

// streamOnce reads one connection: it reports whether it got as far as
// the ready event, the retry wait the portal sent, and why it ended.
func (c *Client) streamOnce(ctx context.Context, last *uint64, ready func(int64), yield func(Notification, error) bool) (bool, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+StreamPath, nil)
	if err != nil {
		return false, 0, err
	}
	req.Header.Set("Accept", "text/event-stream")
	if *last > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatUint(*last, 10))
	}
	res, err := c.stream.Do(req)
	if err != nil {
		return false, 0, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
		return false, 0, Check(res, body)
	}
	connected := false
	var retry time.Duration
	var id, event string
	var data strings.Builder
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			// Every event's id is the person's stream position; the next
			// connection resumes after the last one handled.
			pos, _ := strconv.ParseUint(id, 10, 64)
			switch event {
			case "ready":
				connected = true
				if ready != nil {
					var r struct{ Unread int64 }
					_ = json.Unmarshal([]byte(data.String()), &r)
					ready(r.Unread)
				}
			case "notification":
				var n Notification
				if err := json.Unmarshal([]byte(data.String()), &n); err == nil {
					n.Position = pos
					if pos > *last {
						*last = pos
					}
					if !yield(n, nil) {
						return connected, retry, errStop
					}
				}
			}
			if pos > *last {
				*last = pos
			}
			id, event = "", ""
			data.Reset()
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			id = value
		case "event":
			event = value
		case "data":
			if data.Len() > 0 {
				data.WriteByte('\n')
			}
			data.WriteString(value)
		case "retry":
			if ms, err := strconv.Atoi(value); err == nil && ms > 0 {
				retry = time.Duration(ms) * time.Millisecond
			}
		}
	}
	return connected, retry, sc.Err()
}
