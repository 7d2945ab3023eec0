package devices

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// Command publishes a command to a device on t/{org}/d/{device}/cmd/{name}
// (QoS 1, JSON payload) and records it. Admins and staff send commands;
// modules call it with the actor of the request or job.
func (s *Service) Command(ctx context.Context, a Actor, deviceID, name string, payload any) (*Command, error) {
	return s.command(ctx, a, deviceID, name, payload, false)
}

// OwnerCommand is Command for a command a module lets the device's owner
// trigger, such as the automotive "Refresh diagnostics": the device's
// owner may send it as well as staff and admins. The module decides which
// commands are safe for owners; the raw API never lets a customer command.
func (s *Service) OwnerCommand(ctx context.Context, a Actor, deviceID, name string, payload any) (*Command, error) {
	return s.command(ctx, a, deviceID, name, payload, true)
}

func (s *Service) command(ctx context.Context, a Actor, deviceID, name string, payload any, ownerMay bool) (*Command, error) {
	d, err := s.manage(ctx, a, deviceID, ownerMay)
	if err != nil {
		return nil, err
	}
	if name == "" || len(name) > 80 || strings.ContainsAny(name, "/+#") {
		return nil, errs.InvalidField("name", "a command name is 1 to 80 characters without / + #")
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return nil, errs.InvalidField("payload", "not JSON-encodable")
	}
	if d.Status != StatusActive {
		return nil, errs.Conflictf("the device is disabled")
	}
	topic := "t/" + d.OrgSlug + "/d/" + d.ID + "/cmd/" + name
	switch b, in := s.broker.Load(), s.ingest; {
	case b != nil:
		if err := b.publish(topic, body); err != nil {
			return nil, err
		}
	case in != nil:
		t := in.client.Publish(topic, 1, false, body)
		if !t.WaitTimeout(10 * time.Second) {
			return nil, errors.New("devices: publishing the command timed out")
		}
		if t.Error() != nil {
			return nil, t.Error()
		}
	default:
		return nil, errs.New(errs.Unavailable, "the MQTT gateway is not running")
	}
	c := &Command{DeviceID: d.ID, Name: name, Payload: string(body), SentBy: a.UserID, At: s.now().UTC()}
	if err := store.Org(s.st.DB.WithContext(ctx), d.OrgID).Create(c).Error; err != nil {
		return nil, err
	}
	return c, nil
}
