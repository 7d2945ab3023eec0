package devices

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
)

// Name implements the kernel's Runner.
func (s *Service) Name() string { return "devices" }

// Start starts the embedded broker (unless mqtt.url names an external
// one) and the ingest client. In embedded mode the ingest connects to the
// broker over loopback like any client, so both modes run the same code.
func (s *Service) Start(ctx context.Context) error {
	m := s.cfg.MQTT
	o := ingestOptions{URL: m.URL, Username: m.Username, Password: m.Password, ClientID: m.ClientID,
		Filter: "$share/" + m.Group + "/t/+/d/+/#"}
	if o.ClientID == "" {
		o.ClientID = m.Username
	}
	if o.ClientID == "" {
		host, _ := os.Hostname()
		o.ClientID = "portal-" + host
	}
	if m.URL == "" {
		var raw [16]byte
		_, _ = rand.Read(raw[:])
		o.Username, o.Password = "$portal-ingest", hex.EncodeToString(raw[:])
		if m.ClientID == "" {
			o.ClientID = "$portal"
		}
		b, err := newBroker(s, o.Username, o.Password, o.ClientID)
		if err != nil {
			return err
		}
		if err := b.start(); err != nil {
			_ = b.close()
			return fmt.Errorf("mqtt broker: %w", err)
		}
		s.broker = b
		kick := b.kickDevice
		s.kick.Store(&kick)
		o.URL = "tcp://" + b.Addr()
		// One instance owns the embedded broker: a plain subscription,
		// which the broker queues for while the client reconnects.
		o.Filter = "t/+/d/+/#"
		s.log.Info("embedded MQTT broker listening", "addr", b.Addr())
	}
	s.ingest = newIngest(s, o)
	if err := s.ingest.start(ctx); err != nil {
		s.Stop(ctx)
		return err
	}
	return nil
}

// Stop stops taking messages, commits and acknowledges what the writer
// holds, then closes the embedded broker.
func (s *Service) Stop(ctx context.Context) error {
	if s.ingest != nil {
		s.ingest.stopIngest(ctx)
		s.ingest = nil
	}
	s.kick.Store(nil)
	if s.broker != nil {
		err := s.broker.close()
		s.broker = nil
		return err
	}
	return nil
}

// Ready reports whether the ingest is connected to the broker (for
// /readyz).
func (s *Service) Ready(ctx context.Context) error {
	in := s.ingest
	if in == nil {
		return nil // not started in this process (CLI, or before Start)
	}
	if !in.Connected() {
		return errors.New("not connected to the MQTT broker")
	}
	return nil
}

// BrokerAddr is the embedded broker's address, or "" with an external
// broker or before Start.
func (s *Service) BrokerAddr() string {
	if s.broker == nil {
		return ""
	}
	return s.broker.Addr()
}
