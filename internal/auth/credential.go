package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Prefixes of the credentials CloudFlix hands out: they tell a leaked
// secret's kind at a glance and let secret scanners find them.
const (
	SessionPrefix = "cfs_"
	TokenPrefix   = "cft_"
	InvitePrefix  = "cfi_"
)

// NewSecret returns a new random credential starting with prefix (256 bits
// of randomness) and the hash that is stored in its place: the secret
// itself is shown once and kept nowhere.
func NewSecret(prefix string) (secret, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("new secret: %w", err)
	}
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, HashSecret(secret), nil
}

// HashSecret is the stored form of a credential, by which a presented one is
// looked up. A fast hash is right here, unlike for passwords: the secret
// has 256 random bits, so nothing can be guessed from its hash.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Argon2id parameters, the first set OWASP's Password Storage Cheat Sheet
// recommends: 19 MiB of memory, two passes, one thread.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16
)

// MinPasswordRunes and MaxPasswordBytes bound a password: long enough to
// resist guessing (NIST SP 800-63B asks for 8), short enough that hashing
// one is no way to make the server work.
const (
	MinPasswordRunes = 8
	MaxPasswordBytes = 1024
)

// HashPassword hashes pw with argon2id under a random salt, in the PHC
// string format ($argon2id$v=19$m=...,t=...,p=...$salt$hash), which keeps
// the parameters with the hash so they can be raised later.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// ErrBadHash is a stored password hash this package cannot read.
var ErrBadHash = errors.New("stored password hash is not argon2id")

// CheckPassword reports whether pw is the password encoded hashes, comparing
// in constant time.
func CheckPassword(encoded, pw string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrBadHash
	}
	var mem, passes uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &passes, &threads); err != nil || mem == 0 || passes == 0 || threads == 0 {
		return false, ErrBadHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, ErrBadHash
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, ErrBadHash
	}
	got := argon2.IDKey([]byte(pw), salt, passes, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// decoyHash is checked against when a sign-in names nobody, so that the
// answer takes as long as for a real account and does not tell the two
// apart.
var decoyHash = sync.OnceValue(func() string {
	h, err := HashPassword("decoy password, never anyone's")
	if err != nil {
		panic(err)
	}
	return h
})

// CheckNobody spends the time CheckPassword would on a real account.
func CheckNobody(pw string) {
	_, _ = CheckPassword(decoyHash(), pw)
}
