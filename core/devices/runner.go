package devices

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// Name implements the kernel's Runner.
func (s *Service) Name() string { return "devices" }

// Start starts the embedded broker, which ingests device messages itself,
// or, when mqtt.url names an external broker, the Paho ingest client.
func (s *Service) Start(ctx context.Context) error {
	m := s.cfg.MQTT
	if m.URL == "" {
		b, err := newBroker(s)
		if err != nil {
			return err
		}
		if err := b.start(); err != nil {
			_ = b.close()
			return fmt.Errorf("mqtt broker: %w", err)
		}
		s.broker.Store(b)
		s.startRefusalLog()
		s.log.Info("embedded MQTT broker listening", "addr", b.Addr())
		return nil
	}
	o := ingestOptions{URL: m.URL, Username: m.Username, Password: m.Password, ClientID: m.ClientID,
		Filter: IngestFilter(m.Group)}
	if o.ClientID == "" {
		o.ClientID = m.Username
	}
	if o.ClientID == "" {
		host, _ := os.Hostname()
		o.ClientID = "portal-" + host
	}
	// The broker must know the portal's own account before it connects.
	if err := s.startExporter(ctx); err != nil {
		return err
	}
	s.ingest = newIngest(s, o)
	if err := s.ingest.start(ctx); err != nil {
		s.Stop(ctx)
		return err
	}
	return nil
}

// Stop stops taking messages, commits and acknowledges what the writer
// holds, then disconnects from the external broker or closes the
// embedded one.
func (s *Service) Stop(ctx context.Context) error {
	if s.ingest != nil {
		s.ingest.stopIngest(ctx)
		s.ingest = nil
	}
	s.stopExporter()
	if b := s.broker.Swap(nil); b != nil {
		err := b.close()
		s.stopRefusalLog()
		return err
	}
	return nil
}

// Ready reports whether the gateway takes device messages (for /readyz):
// the embedded broker serves, or the ingest is connected to the external
// broker.
func (s *Service) Ready(ctx context.Context) error {
	if b := s.broker.Load(); b != nil {
		if !b.serving.Load() {
			return errors.New("the embedded MQTT broker is not serving")
		}
		return nil
	}
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
	if b := s.broker.Load(); b != nil {
		return b.Addr()
	}
	return ""
}

// IngestFilter is the portal's subscription at an external broker: every
// device topic, shared in group when one is set. Only a plain subscription
// survives a Mosquitto 2.0 restart with the portal's persistent session.
func IngestFilter(group string) string {
	if group == "" {
		return "t/+/d/+/#"
	}
	return "$share/" + group + "/t/+/d/+/#"
}
