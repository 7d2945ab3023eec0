package cluster

import (
	"bufio"
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// liveEvent is one event of /api/v1/live.
type liveEvent struct {
	id          uint64
	event, data string
}

// liveStream opens the person's live stream at url, resuming after last
// when it is not 0, and sends each event until ctx ends or the
// connection breaks (the channel closes).
func liveStream(ctx context.Context, t *testing.T, url, token string, last uint64) <-chan liveEvent {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	if last > 0 {
		req.Header.Set("Last-Event-ID", strconv.FormatUint(last, 10))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("live stream: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("live stream: status %d", resp.StatusCode)
	}
	ch := make(chan liveEvent, 100)
	go func() {
		defer resp.Body.Close()
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		var ev liveEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id:"):
				ev.id, _ = strconv.ParseUint(strings.TrimSpace(line[3:]), 10, 64)
			case strings.HasPrefix(line, "event:"):
				ev.event = strings.TrimSpace(line[6:])
			case strings.HasPrefix(line, "data:"):
				ev.data += strings.TrimSpace(line[5:])
			case line == "":
				if ev.event != "" || ev.data != "" {
					ch <- ev
				}
				ev = liveEvent{}
			}
		}
	}()
	return ch
}

// liveAcrossAKill is the live half of the instance kill: a customer's
// stream is held on the victim; notifications are sent before the kill
// (through the victim) and after it (through the survivor); the client
// reconnects through the balancer with the last id it handled. Every
// notification arrives exactly once over the two connections, and none is
// replayed twice.
func liveAcrossAKill(t *testing.T, c *cluster, victim, survivor *portal, kill func()) {
	onVictim, _ := login(t, victim.url(), "customer2@demo.example")
	onSurvivor, _ := login(t, survivor.url(), "customer2@demo.example")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	got := map[string]int{}
	var last uint64
	read := func(events <-chan liveEvent, want int, until time.Time) {
		for n := 0; n < want; {
			select {
			case ev, ok := <-events:
				if !ok {
					return
				}
				if ev.id > last {
					last = ev.id
				}
				if ev.event != "notification" {
					continue
				}
				for i := 0; i < 10; i++ {
					if m := "kill-" + strconv.Itoa(i) + "-"; strings.Contains(ev.data, m) {
						got[m]++
						n++
					}
				}
			case <-time.After(time.Until(until)):
				return
			}
		}
	}
	events := liveStream(ctx, t, victim.url()+"/api/v1/live", onVictim.token, 0)
	for ev := range events { // the stream is subscribed once ready
		if ev.event == "ready" {
			last = ev.id
			break
		}
	}
	send := func(p *portal, token string, i int) {
		do(t, http.MethodPost, p.url()+"/api/v1/notifications/test", token, map[string]string{"message": "kill-" + strconv.Itoa(i) + "-"}, http.StatusAccepted, nil)
	}
	for i := 0; i < 5; i++ {
		send(victim, onVictim.token, i)
	}
	read(events, 5, time.Now().Add(20*time.Second))
	kill()
	for i := 5; i < 10; i++ {
		send(survivor, onSurvivor.token, i)
	}
	read(events, 10, time.Now().Add(time.Second)) // the dead instance's stream has ended
	from := last
	resumed := liveStream(ctx, t, c.lbURL+"/api/v1/live", onSurvivor.token, from)
	missing := 0
	for i := 0; i < 10; i++ {
		if got["kill-"+strconv.Itoa(i)+"-"] == 0 {
			missing++
		}
	}
	read(resumed, missing, time.Now().Add(30*time.Second))
	for i := 0; i < 10; i++ {
		if n := got["kill-"+strconv.Itoa(i)+"-"]; n != 1 {
			t.Errorf("notification %d arrived %d times over the stream on the killed instance and the resumed one", i, n)
		}
	}
	t.Logf("live across the kill: resumed after position %d through the balancer; deliveries %v", from, got)
}
