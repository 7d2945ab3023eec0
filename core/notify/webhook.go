package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
)

// Webhook headers.
const (
	// HeaderSignature carries "t=<unix seconds>,v1=<hex HMAC-SHA256 of
	// "<t>.<body>" keyed by the endpoint's secret>".
	HeaderSignature = "Portal-Signature"
	// HeaderIdempotency carries the delivery's idempotency key, the same on
	// every retry; receivers drop keys they have processed.
	HeaderIdempotency = "Idempotency-Key"
	// HeaderEvent carries the notification kind.
	HeaderEvent = "Portal-Event"
)

// DefaultTolerance is the replay window receivers should allow between the
// signature's timestamp and their clock.
const DefaultTolerance = 5 * time.Minute

// HTTPDoer sends HTTP requests (an *http.Client).
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

func newHTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse // a redirect is an answer, not an invitation
	}}
}

// WebhookPayload is the JSON body of every webhook request.
type WebhookPayload struct {
	// ID is the idempotency key (also in the Idempotency-Key header).
	ID             string         `json:"id"`
	Type           string         `json:"type"`
	OrgID          uint           `json:"org_id"`
	UserID         uint           `json:"user_id"`
	NotificationID uint           `json:"notification_id"`
	CreatedAt      time.Time      `json:"created_at"`
	Data           map[string]any `json:"data"`
}

type webhookChannel struct{ s *Service }

func (c *webhookChannel) Name() string { return ChannelWebhook }

func (c *webhookChannel) Deliver(ctx context.Context, d *Delivery) error {
	var h Webhook
	err := store.Org(c.s.st.DB.WithContext(ctx), d.Notification.OrgID).Where("id = ?", d.EndpointID).Take(&h).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Permanent(fmt.Errorf("webhook endpoint %d was deleted", d.EndpointID))
	}
	if err != nil {
		return err
	}
	if !h.Active {
		return Permanent(fmt.Errorf("webhook endpoint %d is disabled", d.EndpointID))
	}
	r := d.Notification
	body, err := json.Marshal(WebhookPayload{ID: d.Key, Type: r.Kind, OrgID: r.OrgID, UserID: r.UserID,
		NotificationID: r.ID, CreatedAt: r.CreatedAt, Data: d.Data})
	if err != nil {
		return Permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return Permanent(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "PortalKit-Webhooks/1")
	req.Header.Set(HeaderIdempotency, d.Key)
	req.Header.Set(HeaderEvent, r.Kind)
	req.Header.Set(HeaderSignature, Sign(h.Secret, c.s.now(), body))
	res, err := c.s.http.Do(req)
	if err != nil {
		return fmt.Errorf("webhook %s: %w", redactURL(h.URL), err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return nil
	case res.StatusCode == http.StatusGone:
		return Permanent(fmt.Errorf("webhook %s answered 410 Gone", redactURL(h.URL)))
	}
	return fmt.Errorf("webhook %s answered %d", redactURL(h.URL), res.StatusCode)
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

// Sign returns the signature header value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Errors returned by VerifySignature.
var (
	ErrSignatureFormat   = errors.New("webhook signature: malformed header")
	ErrSignatureExpired  = errors.New("webhook signature: timestamp outside the replay window")
	ErrSignatureMismatch = errors.New("webhook signature: no matching signature")
)

// VerifySignature checks a webhook request as a receiver should: the header
// parses, its timestamp is within tolerance of now (the replay window), and
// one of its v1 signatures is the HMAC-SHA256 of "<t>.<body>" under secret.
// Receivers should also drop repeated Idempotency-Keys.
func VerifySignature(secret, header string, body []byte, tolerance time.Duration, now time.Time) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrSignatureFormat
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrSignatureFormat
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return ErrSignatureExpired
	}
	want := mac(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return ErrSignatureMismatch
}

// WebhookInput creates an endpoint.
type WebhookInput struct {
	URL         string   `json:"url" doc:"HTTPS (or HTTP) URL that receives POSTs" maxLength:"500"`
	Kinds       []string `json:"kinds,omitempty" doc:"Kind IDs to send; empty means every kind"`
	Description string   `json:"description,omitempty" maxLength:"200"`
}

// CreateWebhook adds an endpoint for the organisation and returns it with
// its signing secret (shown only now).
func (s *Service) CreateWebhook(ctx context.Context, orgID uint, in WebhookInput) (*Webhook, string, error) {
	u, err := url.Parse(strings.TrimSpace(in.URL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return nil, "", errs.InvalidField("body.url", "must be an http(s) URL without credentials")
	}
	for i, k := range in.Kinds {
		if _, ok := s.kind(k); !ok {
			return nil, "", errs.InvalidField(fmt.Sprintf("body.kinds[%d]", i), fmt.Sprintf("%q is not a notification kind", k))
		}
	}
	secret := "whsec_" + randomKey() + randomKey()
	h := &Webhook{URL: u.String(), Secret: secret, Kinds: strings.Join(in.Kinds, ","), Description: strings.TrimSpace(in.Description),
		Active: true, CreatedAt: s.now().UTC()}
	if err := store.Org(s.st.DB.WithContext(ctx), orgID).Create(h).Error; err != nil {
		return nil, "", err
	}
	return h, secret, nil
}

// Webhooks lists the organisation's endpoints.
func (s *Service) Webhooks(ctx context.Context, orgID uint) ([]Webhook, error) {
	var out []Webhook
	err := store.Org(s.st.DB.WithContext(ctx), orgID).Order("id").Find(&out).Error
	return out, err
}

// DeleteWebhook removes an endpoint and the deliveries still waiting for it.
func (s *Service) DeleteWebhook(ctx context.Context, orgID, id uint) error {
	return s.st.Tx(ctx, func(tx *gorm.DB) error {
		db := store.Org(tx, orgID)
		res := db.Where("id = ?", id).Delete(&Webhook{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return errs.NotFoundf("webhook %d not found", id)
		}
		return db.Where("channel = ? AND endpoint_id = ? AND status = ?", ChannelWebhook, id, StatusPending).Delete(&OutboxRow{}).Error
	})
}
