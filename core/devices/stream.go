package devices

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Handler decodes and validates one stream's payloads. Stream[T] is the
// usual implementation; modules declare it with Host.Topic.
type Handler interface {
	// Decode checks a payload and returns what is stored. An error is the
	// reason the message is rejected, shown in the device's reject log.
	Decode(payload []byte) (Decoded, error)
	// Sample returns a realistic payload for the simulator, or nil when the
	// stream has none.
	Sample(r *rand.Rand, now time.Time) []byte
}

// Applier is a Handler whose module acts on each stored reading (updates
// a vehicle, raises an alert). Apply runs after the batch that stored the
// reading committed and before the message is acknowledged; it may run
// again for the same reading (a QoS 1 redelivery, a retry), so it must be
// idempotent. A failing Apply is retried a few times; the reading itself
// stays stored whatever Apply does.
type Applier interface {
	Apply(ctx context.Context, r Reading) error
}

// Decoded is an accepted payload.
type Decoded struct {
	// TS is when the device measured the reading (zero: on receipt).
	TS time.Time
	// Value is the number rolled up into hourly aggregates, if any.
	Value *float64
}

// Stream is a typed device stream: payloads are JSON objects decoded into
// T (unknown fields and wrong types are rejected), then checked by
// Validate.
type Stream[T any] struct {
	// Validate returns why a decoded payload is out of range, or nil.
	Validate func(T) error
	// Time returns when the reading was taken (optional).
	Time func(T) time.Time
	// Value returns the number kept in hourly roll-ups (optional).
	Value func(T) float64
	// Simulate returns a realistic payload (optional; used by `portal
	// simulate`).
	Simulate func(r *rand.Rand, now time.Time) T
	// OnStored acts on a stored reading (optional; see Applier).
	OnStored func(ctx context.Context, r Reading, v T) error
}

// Apply implements Applier: it decodes the stored payload and calls the
// stream's OnStored, if any.
func (s Stream[T]) Apply(ctx context.Context, r Reading) error {
	if s.OnStored == nil {
		return nil
	}
	var v T
	if err := json.Unmarshal([]byte(r.Payload), &v); err != nil {
		return fmt.Errorf("decoding a stored %s reading: %w", r.Stream, err)
	}
	return s.OnStored(ctx, r, v)
}

var (
	_ Handler = Stream[struct{}]{}
	_ Applier = Stream[struct{}]{}
)

// Decode implements Handler.
func (s Stream[T]) Decode(payload []byte) (Decoded, error) {
	var v T
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return Decoded{}, describeJSONError(err)
	}
	if dec.More() {
		return Decoded{}, errors.New("bad JSON: more than one value")
	}
	if s.Validate != nil {
		if err := s.Validate(v); err != nil {
			return Decoded{}, fmt.Errorf("out of range: %w", err)
		}
	}
	var d Decoded
	if s.Time != nil {
		d.TS = s.Time(v)
	}
	if s.Value != nil {
		x := s.Value(v)
		d.Value = &x
	}
	return d, nil
}

// Sample implements Handler.
func (s Stream[T]) Sample(r *rand.Rand, now time.Time) []byte {
	if s.Simulate == nil {
		return nil
	}
	b, err := json.Marshal(s.Simulate(r, now))
	if err != nil {
		return nil
	}
	return b
}

// describeJSONError names what is wrong with a payload in one line.
func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Errorf("wrong type: field %q wants %s, got %s", te.Field, te.Type, te.Value)
		}
		return fmt.Errorf("wrong type: want a JSON object, got %s", te.Value)
	case errors.As(err, &se):
		return fmt.Errorf("bad JSON at byte %d: %v", se.Offset, se)
	}
	return fmt.Errorf("bad JSON: %v", err)
}
