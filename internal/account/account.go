// Package account is CloudFlix's model of the people who use it: users with
// a role and quotas, their browser sessions, their API tokens, invitations
// and the accounts of outside OpenID providers linked to them, with the
// rules a username, an e-mail address and a password must follow. Secrets
// appear here only as hashes. It never imports a transport or a backend.
package account

import (
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/video"
)

// User is one account.
type User struct {
	ID       string
	Username string // shown on the channel page, /@username; unique, any case
	Email    string // unique, any case; "" for an account made by an OpenID provider that gave none
	Role     auth.Role
	Disabled bool // a disabled user cannot sign in, and their credentials stop working
	// Quotas in bytes: 0 takes the operator's default, Unlimited lifts it.
	StorageQuota int64
	DailyQuota   int64
	CreatedAt    time.Time
}

// Unlimited is a quota with no bound.
const Unlimited int64 = -1

// Change is an admin's change to a user; nil fields stay as they are.
type Change struct {
	Role         *auth.Role
	Disabled     *bool
	StorageQuota *int64
	DailyQuota   *int64
}

// Session is a signed-in browser.
type Session struct {
	ID         string
	UserID     string
	Hash       string // of the cookie's secret
	UserAgent  string
	IP         string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// Token is a personal API token.
type Token struct {
	ID         string
	UserID     string
	Name       string
	Hash       string // of the secret
	Scopes     []auth.Scope
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until first used
}

// Invite lets one person sign up when sign-up needs an invitation.
type Invite struct {
	Hash      string // of the code
	CreatedBy string // user id
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Identity links an account at an OpenID provider to a user.
type Identity struct {
	Issuer  string
	Subject string
	UserID  string
}

// Errors the stores and the account service speak in.
var (
	// ErrTaken: the username or e-mail belongs to another account.
	ErrTaken = errors.New("already taken")
	// ErrBadCredentials: no such account, a wrong password, or a disabled
	// account; the three are one answer so that it tells nothing.
	ErrBadCredentials = errors.New("the user name or password is wrong")
	// ErrQuotaExceeded: an upload would take the user over a quota.
	ErrQuotaExceeded = errors.New("quota exceeded")
)

// Bounds of what a person types.
const (
	MinUsernameRunes = 3
	MaxUsernameRunes = 30
	MaxEmailBytes    = 254 // RFC 5321's longest path
	MaxTokenName     = 100
)

var usernamePattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9_.-]*[a-z0-9])?$`)

// reservedNames are paths and words a channel must not shadow.
var reservedNames = map[string]bool{
	"admin": true, "api": true, "media": true, "static": true, "storage": true, "auth": true,
	"me": true, "root": true, "system": true, "cloudflix": true, "moderator": true, "support": true,
}

// NormalizeUsername lower-cases a username and checks it: 3 to 30 letters,
// digits, dots, dashes or underscores, starting and ending with a letter or
// digit, and not a reserved word.
func NormalizeUsername(s string) (string, error) {
	u := strings.ToLower(strings.TrimSpace(s))
	switch n := utf8.RuneCountInString(u); {
	case n == 0:
		return "", video.Invalid("username is required")
	case n < MinUsernameRunes || n > MaxUsernameRunes:
		return "", video.Invalid("username must be %d to %d characters", MinUsernameRunes, MaxUsernameRunes)
	case !usernamePattern.MatchString(u):
		return "", video.Invalid("username may hold only letters a-z, digits, dots, dashes and underscores, and must start and end with a letter or digit")
	case reservedNames[u]:
		return "", video.Invalid("username %q is reserved", u)
	}
	return u, nil
}

// NormalizeEmail checks an e-mail address and lower-cases it.
func NormalizeEmail(s string) (string, error) {
	e := strings.TrimSpace(s)
	if e == "" {
		return "", video.Invalid("e-mail is required")
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || len(e) > MaxEmailBytes || !strings.Contains(e[strings.LastIndexByte(e, '@')+1:], ".") {
		return "", video.Invalid("e-mail %q is not an address", e)
	}
	return strings.ToLower(e), nil
}

// CheckPassword checks a new password's length. Composition rules are left
// out on purpose (NIST SP 800-63B): length is what resists guessing.
func CheckPassword(pw string) error {
	switch {
	case utf8.RuneCountInString(pw) < auth.MinPasswordRunes:
		return video.Invalid("password must be at least %d characters", auth.MinPasswordRunes)
	case len(pw) > auth.MaxPasswordBytes:
		return video.Invalid("password must be at most %d bytes", auth.MaxPasswordBytes)
	}
	return nil
}

// SignUpMode is who may make an account.
type SignUpMode string

const (
	SignUpOpen   SignUpMode = "open"   // anyone
	SignUpInvite SignUpMode = "invite" // whoever has an invitation
	SignUpClosed SignUpMode = "closed" // only admins make accounts
)

// ParseSignUpMode reads a sign-up mode's name.
func ParseSignUpMode(s string) (SignUpMode, error) {
	switch m := SignUpMode(s); m {
	case SignUpOpen, SignUpInvite, SignUpClosed:
		return m, nil
	}
	return "", fmt.Errorf("sign-up mode %q: choose open, invite or closed", s)
}

// Quota is what a user may store and upload, with what they have used.
type Quota struct {
	Storage       int64 // bytes a user's videos may take; Unlimited for none
	Daily         int64 // bytes a user may upload in a day; Unlimited for none
	Stored        int64 // bytes their videos take now
	UploadedToday int64 // bytes of uploads opened in the last 24 hours
}

// Allows reports whether an upload of size bytes fits, and if not, says
// which quota it would break in words a person reads.
func (q Quota) Allows(size int64) error {
	if q.Storage != Unlimited && q.Stored+size > q.Storage {
		return fmt.Errorf("this upload of %s would exceed your storage quota (%s of %s used): %w", video.HumanBytes(size), video.HumanBytes(q.Stored), video.HumanBytes(q.Storage), ErrQuotaExceeded)
	}
	if q.Daily != Unlimited && q.UploadedToday+size > q.Daily {
		return fmt.Errorf("this upload of %s would exceed your daily upload quota (%s of %s uploaded in the last 24 hours): %w", video.HumanBytes(size), video.HumanBytes(q.UploadedToday), video.HumanBytes(q.Daily), ErrQuotaExceeded)
	}
	return nil
}

// Effective is the user's quota with the operator's defaults filled in.
func (u User) Effective(defaultStorage, defaultDaily int64) (storage, daily int64) {
	storage, daily = u.StorageQuota, u.DailyQuota
	if storage == 0 {
		storage = defaultStorage
	}
	if daily == 0 {
		daily = defaultDaily
	}
	return storage, daily
}
