// Package idempotency makes retried API requests safe. An operation declared
// with web.Idempotent accepts an Idempotency-Key header; the first request
// with a key claims it in the database and acts, and its successful
// response is stored (encrypted with the portal's secret key). A retry with
// the same key and the same request gets that response again, marked
// Idempotent-Replayed: true, without acting; the same key with another
// request is refused with 422. A retry that arrives while the first request
// is still being answered waits for its answer (api.idempotency_wait) and
// then replays it, or gets 409 with Retry-After. Keys belong to the caller
// (a person or an API token of one organisation) and expire after
// api.idempotency_ttl; the idempotency.purge job deletes expired ones.
//
// Only a 2xx response is kept: any other answer means nothing was done (a
// handler's writes are one transaction), so the key is released and a
// retry acts afresh.
//
// idempotency imports accounts, config, errs, store and web; never
// core/module or core/app.
package idempotency

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humafiber"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portalkit/portalkit/core/accounts"
	"github.com/portalkit/portalkit/core/config"
	"github.com/portalkit/portalkit/core/errs"
	"github.com/portalkit/portalkit/core/store"
	"github.com/portalkit/portalkit/core/web"
)

// Key is one Idempotency-Key of one caller and the first response to it.
type Key struct {
	ID uint `gorm:"primaryKey"`
	store.OrgOwned
	// Caller is "u:<user id>" or "t:<API token id>".
	Caller string `gorm:"size:40;not null"`
	Key    string `gorm:"column:idem_key;size:255;not null"`
	// Operation is the operation ID the key was first used with.
	Operation string `gorm:"size:120;not null"`
	// Fingerprint is the SHA-256 of the operation, the URL and the body.
	Fingerprint string `gorm:"size:64;not null"`
	// Status is 0 while the first request is being answered, then its HTTP
	// status.
	Status int `gorm:"not null"`
	// Sealed holds the response headers and body, AES-GCM-sealed.
	Sealed    []byte
	LockedAt  time.Time `gorm:"not null"`
	CreatedAt time.Time `gorm:"not null"`
	ExpiresAt time.Time `gorm:"not null;index"`
}

// TableName is idempotency_keys.
func (Key) TableName() string { return "idempotency_keys" }

// staleAfter is how long a claim may stay unanswered before a retry takes it
// over: the first request's instance died before it could store or release
// the key (its transaction rolled back with it).
const staleAfter = 2 * time.Minute

// maxStored bounds a stored response; a larger one is not kept (logged).
const maxStored = 1 << 20

// Options builds a Service.
type Options struct {
	Store *store.Store
	// Config supplies api.idempotency_* and the secret key.
	Config config.Config
	Log    *slog.Logger
	// Now overrides the clock (tests).
	Now func() time.Time
}

// Service keeps Idempotency-Keys.
type Service struct {
	st   *store.Store
	cfg  config.API
	log  *slog.Logger
	aead cipher.AEAD
	now  func() time.Time
	poll time.Duration
}

// New builds the service.
func New(o Options) (*Service, error) {
	k := sha256.Sum256([]byte("portalkit idempotency|" + o.Config.SecretKey))
	block, err := aes.NewCipher(k[:])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	s := &Service{st: o.Store, cfg: o.Config.API, log: o.Log, aead: aead, now: o.Now, poll: 20 * time.Millisecond}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s, nil
}

// Migrations creates idempotency_keys.
func (s *Service) Migrations() []store.Migration {
	return []store.Migration{{ID: "0001_keys", Up: func(tx *gorm.DB) error {
		if err := tx.Migrator().AutoMigrate(&Key{}); err != nil {
			return err
		}
		return tx.Exec("CREATE UNIQUE INDEX idempotency_keys_caller_key ON idempotency_keys (org_id, caller, idem_key)").Error
	}}}
}

// Purge deletes expired keys in every organisation.
func (s *Service) Purge(ctx context.Context) (int64, error) {
	res := store.AllOrgs(s.st.DB.WithContext(ctx)).Where("expires_at < ?", s.now().UTC()).Delete(&Key{})
	return res.RowsAffected, res.Error
}

// stored is what a kept response replays.
type stored struct {
	Header map[string][]string `json:"h,omitempty"`
	Body   []byte              `json:"b,omitempty"`
}

// replayed lists the response headers a replay repeats: those the
// operation itself sets. Request-specific headers (X-Request-ID, security
// headers) come fresh from the replaying request.
func keepHeader(name string) bool {
	switch http.CanonicalHeaderKey(name) {
	case "X-Request-Id", "Set-Cookie", "Date", "Content-Length":
		return false
	}
	return true
}

// Middleware is the huma middleware that honours Idempotency-Key on
// operations declared with web.Idempotent. Add it after the accounts guard.
func (s *Service) Middleware(api huma.API) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		key := ctx.Header(web.IdempotencyKeyHeader)
		op := ctx.Operation()
		if key == "" || !web.IsIdempotent(op) {
			next(ctx)
			return
		}
		p, ok := accounts.PrincipalFrom(ctx.Context())
		if !ok {
			next(ctx) // public operations: nobody to scope the key to
			return
		}
		if err := checkKey(key); err != nil {
			_ = huma.WriteErr(api, ctx, http.StatusUnprocessableEntity, "", err)
			return
		}
		s.serve(api, ctx, next, p, key)
	}
}

func checkKey(key string) error {
	if len(key) > web.MaxIdempotencyKeyLen {
		return errs.InvalidField("header."+web.IdempotencyKeyHeader, fmt.Sprintf("must be at most %d characters", web.MaxIdempotencyKeyLen))
	}
	for i := 0; i < len(key); i++ {
		if key[i] < 0x21 || key[i] > 0x7e {
			return errs.InvalidField("header."+web.IdempotencyKeyHeader, "must be printable ASCII without spaces (a UUID is a good key)")
		}
	}
	return nil
}

func callerOf(p *accounts.Principal) string {
	if p.TokenID != 0 {
		return "t:" + strconv.FormatUint(uint64(p.TokenID), 10)
	}
	return "u:" + strconv.FormatUint(uint64(p.UserID), 10)
}

func fingerprint(ctx huma.Context) string {
	c := humafiber.Unwrap(ctx)
	h := sha256.New()
	h.Write([]byte(ctx.Operation().OperationID))
	h.Write([]byte{0})
	h.Write(c.Request().RequestURI())
	h.Write([]byte{0})
	h.Write(c.Body())
	return hex.EncodeToString(h.Sum(nil))
}

func (s *Service) serve(api huma.API, ctx huma.Context, next func(huma.Context), p *accounts.Principal, key string) {
	rctx := ctx.Context()
	db := store.Org(s.st.DB.WithContext(rctx), p.OrgID)
	caller := callerOf(p)
	fp := fingerprint(ctx)
	deadline := s.now().Add(s.cfg.IdempotencyWait)
	for {
		now := s.now().UTC()
		claim := &Key{Caller: caller, Key: key, Operation: ctx.Operation().OperationID, Fingerprint: fp,
			LockedAt: now, CreatedAt: now, ExpiresAt: now.Add(s.cfg.IdempotencyTTL)}
		res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(claim)
		if res.Error != nil {
			s.fail(api, ctx, res.Error)
			return
		}
		if res.RowsAffected == 1 {
			s.act(api, ctx, next, db, claim)
			return
		}
		var k Key
		err := db.Where("caller = ? AND idem_key = ?", caller, key).Take(&k).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			continue // released in between: claim it again
		case err != nil:
			s.fail(api, ctx, err)
			return
		}
		if k.ExpiresAt.Before(now) {
			// An expired key the purge job has not reached yet is free.
			if err := db.Where("id = ? AND expires_at = ?", k.ID, k.ExpiresAt).Delete(&Key{}).Error; err != nil {
				s.fail(api, ctx, err)
				return
			}
			continue
		}
		if k.Fingerprint != fp {
			_ = huma.WriteErr(api, ctx, http.StatusUnprocessableEntity, "", errs.InvalidField("header."+web.IdempotencyKeyHeader,
				"this key was already used for a different request; use a new key for a new action"))
			return
		}
		if k.Status != 0 {
			s.replay(api, ctx, &k)
			return
		}
		if now.Sub(k.LockedAt) > staleAfter {
			// The first attempt died unanswered: take its claim over.
			res := db.Model(&Key{}).Where("id = ? AND status = 0 AND locked_at = ?", k.ID, k.LockedAt).Update("locked_at", now)
			if res.Error != nil {
				s.fail(api, ctx, res.Error)
				return
			}
			if res.RowsAffected == 1 {
				k.LockedAt = now
				s.act(api, ctx, next, db, &k)
				return
			}
			continue
		}
		if !s.now().Before(deadline) {
			busy := errs.Conflictf("a request with this Idempotency-Key is still being answered; retry in a moment")
			busy.RetryAfter = time.Second
			_ = huma.WriteErr(api, ctx, http.StatusConflict, "", busy)
			return
		}
		select {
		case <-rctx.Done():
			s.fail(api, ctx, rctx.Err())
			return
		case <-time.After(s.poll):
		}
	}
}

// act runs the operation for the request holding claim k, then keeps a 2xx
// response or releases the key.
func (s *Service) act(api huma.API, ctx huma.Context, next func(huma.Context), db *gorm.DB, k *Key) {
	rec := &recorder{inner: ctx, header: http.Header{}}
	completed := false
	defer func() {
		if !completed {
			// A panic (re-raised below) or an abort: release the key so a
			// retry acts; the handler's transaction did not commit.
			s.release(k)
		}
	}()
	next(rec)
	completed = true
	c := humafiber.Unwrap(ctx)
	status := c.Response().StatusCode()
	body := c.Response().Body()
	if status < 200 || status > 299 || len(body) > maxStored {
		if len(body) > maxStored {
			s.log.Warn("idempotency: response too large to keep; key released", "operation", k.Operation, "bytes", len(body))
		}
		s.release(k)
		return
	}
	st := stored{Header: map[string][]string{}, Body: append([]byte(nil), body...)}
	for name, vals := range rec.header {
		st.Header[name] = vals
	}
	if ct := c.Response().Header.ContentType(); len(ct) > 0 && len(body) > 0 {
		st.Header["Content-Type"] = []string{string(ct)}
	}
	sealed, err := s.seal(k, st)
	if err == nil {
		// A fresh context: the answer went out; keeping it must not depend
		// on the caller still listening.
		err = store.Org(s.st.DB.WithContext(context.Background()), k.OrgID).Model(&Key{}).
			Where("id = ? AND locked_at = ?", k.ID, k.LockedAt).
			Updates(map[string]any{"status": status, "sealed": sealed}).Error
	}
	if err != nil {
		// The operation acted; without its record a retry would act again.
		// Keep the claim (status 0): retries get 409 until it turns stale.
		s.log.Error("idempotency: storing the response failed", "operation", k.Operation, "err", err)
	}
}

func (s *Service) release(k *Key) {
	err := store.Org(s.st.DB.WithContext(context.Background()), k.OrgID).
		Where("id = ? AND status = 0 AND locked_at = ?", k.ID, k.LockedAt).Delete(&Key{}).Error
	if err != nil {
		s.log.Error("idempotency: releasing a key failed", "operation", k.Operation, "err", err)
	}
}

func (s *Service) replay(api huma.API, ctx huma.Context, k *Key) {
	st, err := s.open(k)
	if err != nil {
		s.fail(api, ctx, err)
		return
	}
	c := humafiber.Unwrap(ctx)
	for name, vals := range st.Header {
		c.Response().Header.Del(name)
		for _, v := range vals {
			c.Response().Header.Add(name, v)
		}
	}
	c.Set(web.IdempotencyReplayedHeader, "true")
	c.Status(k.Status)
	if len(st.Body) > 0 {
		_ = c.Send(st.Body)
	}
}

func (s *Service) fail(api huma.API, ctx huma.Context, err error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = errs.Wrap(errs.Unavailable, err, "the request was cancelled before it was answered")
	}
	_ = huma.WriteErr(api, ctx, http.StatusInternalServerError, "idempotency: "+err.Error(), err)
}

func (s *Service) aad(k *Key) []byte {
	return []byte(fmt.Sprintf("%d|%s|%s|%s", k.OrgID, k.Caller, k.Key, k.Fingerprint))
}

func (s *Service) seal(k *Key, st stored) ([]byte, error) {
	plain, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plain, s.aad(k)), nil
}

func (s *Service) open(k *Key) (*stored, error) {
	n := s.aead.NonceSize()
	if len(k.Sealed) < n {
		return nil, errors.New("idempotency: stored response is damaged")
	}
	plain, err := s.aead.Open(nil, k.Sealed[:n], k.Sealed[n:], s.aad(k))
	if err != nil {
		return nil, fmt.Errorf("idempotency: stored response cannot be opened (was the secret key changed?): %w", err)
	}
	var st stored
	if err := json.NewDecoder(bytes.NewReader(plain)).Decode(&st); err != nil {
		return nil, err
	}
	return &st, nil
}

// recorder is the huma context the operation writes through: it notes the
// headers the operation sets, so a replay repeats them.
type recorder struct {
	inner
	header http.Header
}

// inner names the embedded context so its Context method stays promoted.
type inner = huma.Context

func (r *recorder) Unwrap() huma.Context { return r.inner }

func (r *recorder) SetHeader(name, value string) {
	if keepHeader(name) {
		r.header.Set(name, value)
	}
	r.inner.SetHeader(name, value)
}

func (r *recorder) AppendHeader(name, value string) {
	if keepHeader(name) {
		r.header.Add(name, value)
	}
	r.inner.AppendHeader(name, value)
}
