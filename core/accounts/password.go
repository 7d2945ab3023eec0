package accounts

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/portalkit/portalkit/core/errs"
)

// Argon2Params are the argon2id cost parameters. The defaults are OWASP's
// recommendation (19 MiB, 2 passes, 1 lane).
type Argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultArgon2 is OWASP's argon2id configuration.
var DefaultArgon2 = Argon2Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

// HashPassword returns a PHC-format argon2id hash of password.
func HashPassword(password string, p Argon2Params) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether password matches the PHC hash. It takes
// the parameters from the hash, so raising the defaults keeps old hashes
// valid (NeedsRehash tells when to upgrade them).
func VerifyPassword(password, hash string) bool {
	p, salt, key, err := parseHash(hash)
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1
}

// NeedsRehash reports whether hash was made with weaker parameters than p.
func NeedsRehash(hash string, p Argon2Params) bool {
	hp, _, _, err := parseHash(hash)
	return err != nil || hp.MemoryKiB < p.MemoryKiB || hp.Time < p.Time
}

func parseHash(hash string) (Argon2Params, []byte, []byte, error) {
	var p Argon2Params
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("not an argon2id hash")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, errors.New("unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, err
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, err
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return p, nil, nil, err
	}
	return p, salt, key, nil
}

//go:embed data/common-passwords-10k.txt
var commonPasswordsFile []byte

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 10000)
	sc := bufio.NewScanner(bytes.NewReader(commonPasswordsFile))
	for sc.Scan() {
		m[strings.ToLower(strings.TrimSpace(sc.Text()))] = struct{}{}
	}
	return m
})

// Password length limits. The maximum keeps hashing cost bounded.
const (
	MinPasswordLength = 10
	MaxPasswordLength = 128
)

// CheckPassword applies the password policy: length, not one of the 10,000
// most common passwords, not the e-mail address or its local part. The
// error names the field "password".
func CheckPassword(password, email string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLength:
		return errs.InvalidField("password", fmt.Sprintf("must be at least %d characters", MinPasswordLength))
	case n > MaxPasswordLength:
		return errs.InvalidField("password", fmt.Sprintf("must be at most %d characters", MaxPasswordLength))
	}
	lower := strings.ToLower(password)
	if _, common := commonPasswords()[lower]; common {
		return errs.InvalidField("password", "is one of the most common passwords; choose another")
	}
	email = strings.ToLower(email)
	local, _, _ := strings.Cut(email, "@")
	if lower == email || (len(local) >= 4 && lower == local) {
		return errs.InvalidField("password", "must not be your e-mail address")
	}
	return nil
}
