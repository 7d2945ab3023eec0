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
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
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

// MinPasswordScore is the lowest zxcvbn score (0–4) a new password may
// have: 3 means about 10^8 guesses or more ("safely unguessable" against
// an online attack, zxcvbn's own wording).
const MinPasswordScore = 3

// CheckPassword applies the password policy (ASVS 6.2): length; not one
// of the 10,000 most common passwords, also after normalisation (case,
// digits and symbols appended, leetspeak: "Password1!", "p@ssw0rd123");
// not the e-mail address or its local part; and a zxcvbn strength score of
// at least MinPasswordScore, with the e-mail address and name as words an
// attacker knows. The error names the field "password" and says why.
func CheckPassword(password, email string, knownWords ...string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLength:
		return errs.InvalidField("password", fmt.Sprintf("must be at least %d characters", MinPasswordLength))
	case n > MaxPasswordLength:
		return errs.InvalidField("password", fmt.Sprintf("must be at most %d characters", MaxPasswordLength))
	}
	lower := strings.ToLower(password)
	email = strings.ToLower(email)
	local, _, _ := strings.Cut(email, "@")
	if lower == email || (len(local) >= 4 && lower == local) {
		return errs.InvalidField("password", "must not be your e-mail address")
	}
	for _, c := range passwordVariants(lower) {
		if _, common := commonPasswords()[c]; common {
			return errs.InvalidField("password", "is one of the most common passwords, or one with digits, symbols or look-alike letters added; choose another")
		}
	}
	words := []string{email, local}
	for _, w := range knownWords {
		for _, f := range strings.Fields(strings.ToLower(w)) {
			if len(f) >= 3 {
				words = append(words, f)
			}
		}
	}
	if zxcvbn.PasswordStrength(password, words).Score < MinPasswordScore {
		return errs.InvalidField("password", "is too easy to guess (repeated or keyboard patterns, dates, names or common words); use a longer mix of unrelated words")
	}
	return nil
}

// passwordVariants are the forms of a lower-cased password looked up in
// the blocklist: as typed, without what is appended at the end (digits
// and symbols), and both with leetspeak undone.
func passwordVariants(lower string) []string {
	base := strings.TrimRightFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	out := []string{lower, base}
	for _, s := range []string{lower, base} {
		out = append(out, unleet.Replace(s))
	}
	deleeted := strings.TrimRightFunc(unleet.Replace(lower), func(r rune) bool { return !unicode.IsLetter(r) })
	return append(out, deleeted)
}

// unleet undoes the common look-alike substitutions.
var unleet = strings.NewReplacer("0", "o", "1", "i", "3", "e", "4", "a", "5", "s", "7", "t", "8", "b", "9", "g", "@", "a", "$", "s", "!", "i", "+", "t", "|", "l")
