package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/devices"
	"github.com/portalkit/portalkit/core/module"
	"github.com/portalkit/portalkit/core/portaltest"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/verticals/automotive"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSimulatedCar runs the example against a real portal (embedded
// broker): its readings are stored without a reject, a refresh command is
// answered at once, and bad flags are refused in one line.
func TestSimulatedCar(t *testing.T) {
	ta := portaltest.New(t, []module.Module{&automotive.Module{}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := ta.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ta.Stop(context.Background()) })
	owner := ta.User(t, "demo", "driver@demo.example", accounts.Customer)
	admin := devices.Actor{OrgID: owner.OrgID, Role: "admin"}
	unit, err := ta.Devices.Create(ctx, admin, devices.NewDevice{OwnerID: owner.ID, Module: automotive.ID, Name: "Example car"})
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--broker", "tcp://" + ta.Devices.BrokerAddr(), "--username", unit.Username, "--secret", unit.Secret,
		"--publish", unit.Topics.Publish, "--store", t.TempDir(), "--every", "1h", "--count", "3"}
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, out) }()
	// The first reading goes at once; each refresh brings the next.
	for i := 1; i <= 2; i++ {
		deadline := time.Now().Add(15 * time.Second)
		for !strings.Contains(out.String(), fmt.Sprintf("reading %d acknowledged", i)) {
			if time.Now().After(deadline) {
				t.Fatalf("reading %d never acknowledged: %q", i, out.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if _, err := ta.Devices.Command(ctx, admin, unit.ID, automotive.CommandRefresh, map[string]string{"vin": "X"}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the car did not answer the refresh commands: %q", out.String())
	}
	var stored, rejected int64
	store.AllOrgs(ta.Store.DB).Model(&devices.Reading{}).Where("device_id = ?", unit.ID).Count(&stored)
	store.AllOrgs(ta.Store.DB).Model(&devices.Reject{}).Where("device_id = ?", unit.ID).Count(&rejected)
	if stored != 3 || rejected != 0 || strings.Count(out.String(), "command refresh_diagnostics") != 2 {
		t.Fatalf("%d stored, %d rejected; output %q", stored, rejected, out.String())
	}

	for _, bad := range [][]string{{"--every", "0s", "--username", "x"}, {"--nope"}, {"--username", "dv1", "--secret", "s"}} {
		if err := run(ctx, bad, out); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v", bad, err)
		}
	}
}
