package store

import (
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/video"
)

// FoldName is the form in which a store keeps and looks up usernames and
// e-mail addresses (account.NormalizeUsername and NormalizeEmail make them
// so already): lower case, folded in Go so that any case names one account
// in every store, whatever its database's lower() does beyond ASCII.
func FoldName(s string) string { return strings.ToLower(s) }

// NewUser checks a user as CreateUser (or UseInvite) is given it and
// completes it for the insert: a new id when it has none, the username and
// e-mail folded (FoldName), the role user when it has none, and the
// creation at now when it is zero.
func NewUser(u account.User, now time.Time) (account.User, error) {
	if u.ID == "" {
		u.ID = uuid.NewString()
	}
	if !ValidID(u.ID) {
		return account.User{}, video.Invalid("user id %q is not a canonical UUID", u.ID)
	}
	u.Username, u.Email = FoldName(u.Username), FoldName(u.Email)
	if u.Username == "" {
		return account.User{}, video.Invalid("a user needs a username")
	}
	if u.Role == "" {
		u.Role = auth.RoleUser
	}
	if err := checkUserFields(&u.Role, &u.StorageQuota, &u.DailyQuota); err != nil {
		return account.User{}, err
	}
	u.CreatedAt = Stored(u.CreatedAt, now)
	return u, nil
}

// Stored is a time as every store keeps it, to the microsecond, or now
// when t is zero: what a store returns of what it wrote then reads back the
// same.
func Stored(t, now time.Time) time.Time {
	if t.IsZero() {
		t = now
	}
	return t.Truncate(time.Microsecond)
}

// CheckUserChange checks an UpdateUser change: a known role, and quotas of
// zero or more bytes, or Unlimited.
func CheckUserChange(c account.Change) error {
	return checkUserFields(c.Role, c.StorageQuota, c.DailyQuota)
}

func checkUserFields(role *auth.Role, quotas ...*int64) error {
	if role != nil && !slices.Contains(auth.Roles, *role) {
		return video.Invalid("role %q: choose user, moderator or admin", *role)
	}
	for _, q := range quotas {
		if q != nil && *q < account.Unlimited {
			return video.Invalid("quota %d: give bytes, 0 for the default or %d for none", *q, account.Unlimited)
		}
	}
	return nil
}

// NewSession checks a session as CreateSession is given it and completes it:
// a new id when it has none, and the creation and last use at now when they
// are zero. A user id that is not a UUID names nobody (ErrNotFound).
func NewSession(s account.Session, now time.Time) (account.Session, error) {
	var err error
	if s.ID, err = newCredentialID("session", s.ID, s.UserID, s.Hash); err != nil {
		return account.Session{}, err
	}
	if s.ExpiresAt.IsZero() {
		return account.Session{}, video.Invalid("a session needs an expiry")
	}
	s.CreatedAt = Stored(s.CreatedAt, now)
	s.LastSeenAt = Stored(s.LastSeenAt, s.CreatedAt)
	s.ExpiresAt = Stored(s.ExpiresAt, now)
	return s, nil
}

// NewToken checks a token as CreateToken is given it and completes it: a
// new id when it has none, and the creation at now when it is zero. Its
// scopes must be known ones (auth.Scopes).
func NewToken(t account.Token, now time.Time) (account.Token, error) {
	var err error
	if t.ID, err = newCredentialID("token", t.ID, t.UserID, t.Hash); err != nil {
		return account.Token{}, err
	}
	for _, s := range t.Scopes {
		if !slices.Contains(auth.Scopes, s) {
			return account.Token{}, video.Invalid("scope %q: choose read, upload or admin", s)
		}
	}
	t.CreatedAt = Stored(t.CreatedAt, now)
	if !t.LastUsedAt.IsZero() {
		t.LastUsedAt = Stored(t.LastUsedAt, now)
	}
	return t, nil
}

func newCredentialID(kind, id, userID, hash string) (string, error) {
	if id == "" {
		id = uuid.NewString()
	}
	switch {
	case !ValidID(id):
		return "", video.Invalid("%s id %q is not a canonical UUID", kind, id)
	case !ValidID(userID):
		return "", video.ErrNotFound
	case hash == "":
		return "", video.Invalid("a %s needs the hash of its secret", kind)
	}
	return id, nil
}

// NewInvite checks an invitation as CreateInvite is given it and completes
// it: the creation at now when it is zero. CreatedBy may be "" for one the
// operator makes; otherwise an id that is not a UUID names nobody
// (ErrNotFound).
func NewInvite(inv account.Invite, now time.Time) (account.Invite, error) {
	switch {
	case inv.Hash == "":
		return account.Invite{}, video.Invalid("an invitation needs the hash of its code")
	case inv.ExpiresAt.IsZero():
		return account.Invite{}, video.Invalid("an invitation needs an expiry")
	case inv.CreatedBy != "" && !ValidID(inv.CreatedBy):
		return account.Invite{}, video.ErrNotFound
	}
	inv.CreatedAt = Stored(inv.CreatedAt, now)
	inv.ExpiresAt = Stored(inv.ExpiresAt, now)
	return inv, nil
}

// UseInterval is how often at most a session's or a token's last use is
// written: finding one by its hash on every request must stay a read.
const UseInterval = time.Minute

// Used reports whether a credential last used at last (zero for never) is
// to be recorded as used at now.
func Used(last, now time.Time) bool {
	return last.IsZero() || now.Sub(last) >= UseInterval
}

// ScopeNames is the stored form of a token's scopes; a token's column is
// never NULL.
func ScopeNames(scopes []auth.Scope) []string {
	out := make([]string, len(scopes))
	for i, s := range scopes {
		out[i] = string(s)
	}
	return out
}

// ScannedScopes is a token's scopes as stored, back as scopes; none is nil,
// so that a token reads the same from every store.
func ScannedScopes(names []string) []auth.Scope {
	if len(names) == 0 {
		return nil
	}
	out := make([]auth.Scope, len(names))
	for i, n := range names {
		out[i] = auth.Scope(n)
	}
	return out
}

// CheckVideoChange checks an UpdateVideo change and completes it: a
// privacy must be a known one ("" is public, as at creation), and tags set
// to none are an empty list, never NULL.
func CheckVideoChange(c video.Change) (video.Change, error) {
	if c.Privacy != nil {
		p, err := video.ParsePrivacy(string(*c.Privacy))
		if err != nil {
			return video.Change{}, err
		}
		c.Privacy = &p
	}
	if c.Tags != nil && *c.Tags == nil {
		c.Tags = &[]string{}
	}
	return c, nil
}

// ChangedVideo is v with a checked change (CheckVideoChange) applied.
func ChangedVideo(v video.Video, c video.Change) video.Video {
	if c.Title != nil {
		v.Title = *c.Title
	}
	if c.Description != nil {
		v.Description = *c.Description
	}
	if c.Tags != nil {
		v.Tags = *c.Tags
	}
	if c.Privacy != nil {
		v.Privacy = *c.Privacy
	}
	if c.CommentsOff != nil {
		v.CommentsOff = *c.CommentsOff
	}
	return v
}

// CheckIdentity checks a link as LinkIdentity is given it: an issuer and a
// subject, and a user id that may name a user (else ErrNotFound).
func CheckIdentity(id account.Identity) error {
	switch {
	case id.Issuer == "" || id.Subject == "":
		return video.Invalid("an identity needs an issuer and a subject")
	case !ValidID(id.UserID):
		return video.ErrNotFound
	}
	return nil
}
