package webhook

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The headers of a delivery.
const (
	// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256 of
	// "<t>.<body>" keyed with the endpoint's secret>", as Stripe's and
	// Mux's do.
	SignatureHeader = "CloudFlix-Signature"
	// EventIDHeader carries the event's id, the same on every attempt and
	// for every endpoint: receivers drop a delivery they have seen.
	EventIDHeader = "CloudFlix-Event-Id"
	// EventTypeHeader carries the event's type.
	EventTypeHeader = "CloudFlix-Event-Type"
)

// secretPrefix starts every signing secret, so that one found in a log or
// a repository is recognised for what it is.
const secretPrefix = "whsec_"

// NewSecret is a fresh signing secret: 32 random bytes.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return secretPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// Sign is the signature header's value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + signature(secret, ts, body)
}

func signature(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header as a receiver does: one of its v1
// signatures is body's under secret (compared in constant time), and its
// time is within tolerance of now, so that a delivery captured on the way
// cannot be replayed later. The README's snippet is this function.
func Verify(header, secret string, body []byte, tolerance time.Duration, now time.Time) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("webhook signature: no timestamp")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("webhook signature: timestamp %s is outside the tolerance", ts)
	}
	want := []byte(signature(secret, ts, body))
	for _, s := range sigs {
		if hmac.Equal([]byte(s), want) {
			return nil
		}
	}
	return errors.New("webhook signature: no signature matches")
}

// KeyPurpose is what the sealer's key is derived from the internal key
// for.
const KeyPurpose = "webhook secrets"

// Sealer keeps signing secrets encrypted at rest (AES-256-GCM), under a
// key derived from the install's internal key: a copy of the database
// alone signs nothing. A secret must be readable to sign with, so it
// cannot be stored as a hash like a password.
type Sealer struct{ aead cipher.AEAD }

// NewSealer returns a sealer with key (32 bytes).
func NewSealer(key []byte) (*Sealer, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("webhook secrets: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("webhook secrets: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts a secret: a random nonce, then the ciphertext.
func (s *Sealer) Seal(secret string) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(secret)+s.aead.Overhead())
	_, _ = rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, []byte(secret), nil)
}

// Open decrypts what Seal made.
func (s *Sealer) Open(sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("webhook secret: sealed value too short")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	return string(plain), nil
}
