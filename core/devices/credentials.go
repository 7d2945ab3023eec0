package devices

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Secrets carry 160 random bits, so the hash's work factor does not guard
// them against guessing; Mosquitto's default of 101 PBKDF2 rounds keeps
// connection storms cheap while matching what mosquitto_passwd writes.
const (
	hashIterations = 101
	hashSaltBytes  = 12
	hashKeyBytes   = 64
)

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newDeviceID returns a random device ID, safe as a topic segment and an
// MQTT username.
func newDeviceID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return "dv" + idEncoding.EncodeToString(b[:])
}

// newSecret returns a random device secret (shown once).
func newSecret() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return idEncoding.EncodeToString(b[:])
}

// HashSecret returns secret in Mosquitto's password-file format:
// $7$<iterations>$<base64 salt>$<base64 PBKDF2-SHA512>.
func HashSecret(secret string) (string, error) {
	salt := make([]byte, hashSaltBytes)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key, err := pbkdf2.Key(sha512.New, secret, salt, hashIterations, hashKeyBytes)
	if err != nil {
		return "", err
	}
	return "$7$" + strconv.Itoa(hashIterations) + "$" + base64.StdEncoding.EncodeToString(salt) + "$" + base64.StdEncoding.EncodeToString(key), nil
}

// errBadHash is a stored hash that is not in the $7$ format.
var errBadHash = errors.New("devices: secret hash is not in mosquitto $7$ format")

// VerifySecret reports whether secret matches a $7$ hash.
func VerifySecret(hash, secret string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 5 || parts[0] != "" || parts[1] != "7" {
		return false, errBadHash
	}
	iter, err := strconv.Atoi(parts[2])
	if err != nil || iter < 1 || iter > 10_000_000 {
		return false, errBadHash
	}
	salt, err1 := base64.StdEncoding.DecodeString(parts[3])
	want, err2 := base64.StdEncoding.DecodeString(parts[4])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false, errBadHash
	}
	got, err := pbkdf2.Key(sha512.New, secret, salt, iter, len(want))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// authCache remembers successful device logins for a short while, so a
// device reconnecting in a loop does not cost a database read and a hash
// each time. Entries are keyed by a digest of (id, hash, secret) and
// dropped when the device changes.
type authCache struct {
	s  *Service
	mu sync.Mutex
	ok map[string]authEntry
}

type authEntry struct {
	digest  [32]byte
	orgSlug string
	expires time.Time
}

const authCacheTTL = 30 * time.Second

func newAuthCache(s *Service) *authCache { return &authCache{s: s, ok: map[string]authEntry{}} }

func (c *authCache) forget(id string) {
	c.mu.Lock()
	delete(c.ok, id)
	c.mu.Unlock()
}

// check returns the device's org slug when id/secret are the credentials
// of an active device.
func (c *authCache) check(id, secret string) (string, bool) {
	d := sha256.Sum256([]byte(id + "\x00" + secret))
	now := time.Now()
	c.mu.Lock()
	e, hit := c.ok[id]
	c.mu.Unlock()
	if hit && e.digest == d && now.Before(e.expires) {
		return e.orgSlug, true
	}
	dev, err := c.s.lookup(id)
	if err != nil || dev.Status != StatusActive {
		return "", false
	}
	ok, err := VerifySecret(dev.SecretHash, secret)
	if err != nil || !ok {
		return "", false
	}
	c.mu.Lock()
	if len(c.ok) > 100_000 {
		c.ok = map[string]authEntry{}
	}
	c.ok[id] = authEntry{digest: d, orgSlug: dev.OrgSlug, expires: now.Add(authCacheTTL)}
	c.mu.Unlock()
	return dev.OrgSlug, true
}
