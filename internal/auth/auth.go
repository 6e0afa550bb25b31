// Package auth is who is asking: the Principal that the edge makes of a
// session cookie or an API token and that every service reads from its
// request's context, with the roles and token scopes it carries. It says
// who someone is and what a credential allows at most; what they may do
// with a particular video is decided beside the video (video.Can...). It
// never reads a store or a request.
package auth

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Role is what a user is on the platform.
type Role string

const (
	RoleUser      Role = "user"
	RoleModerator Role = "moderator"
	RoleAdmin     Role = "admin"
)

// Roles are the roles, least first.
var Roles = []Role{RoleUser, RoleModerator, RoleAdmin}

// ParseRole reads a role's name.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !slices.Contains(Roles, r) {
		return "", fmt.Errorf("role %q: choose user, moderator or admin", s)
	}
	return r, nil
}

// Scope is what an API token may be used for. A signed-in browser session
// has every scope of its user.
type Scope string

const (
	// ScopeRead reads what the user may see, private videos included.
	ScopeRead Scope = "read"
	// ScopeUpload uploads videos and edits and deletes the user's own.
	ScopeUpload Scope = "upload"
	// ScopeAdmin uses the user's moderator or admin rights.
	ScopeAdmin Scope = "admin"
)

// Scopes are every scope, in the order they are listed.
var Scopes = []Scope{ScopeRead, ScopeUpload, ScopeAdmin}

// ParseScopes reads a list of scope names; an empty list is an error, since
// a token that allows nothing is a mistake.
func ParseScopes(names []string) ([]Scope, error) {
	var out []Scope
	for _, n := range names {
		s := Scope(strings.ToLower(strings.TrimSpace(n)))
		if !slices.Contains(Scopes, s) {
			return nil, fmt.Errorf("scope %q: choose read, upload or admin", n)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("a token needs at least one scope: read, upload or admin")
	}
	slices.SortFunc(out, func(a, b Scope) int { return slices.Index(Scopes, a) - slices.Index(Scopes, b) })
	return out, nil
}

// Principal is who a request acts for. The zero value is an anonymous
// visitor.
type Principal struct {
	UserID   string
	Username string
	Role     Role
	// Scopes bound what the credential allows; nil for a browser session,
	// which allows all the user's rights.
	Scopes []Scope
	// SessionID is the browser session the request came with; "" for an
	// API token.
	SessionID string
}

// Anonymous reports whether nobody is signed in.
func (p Principal) Anonymous() bool { return p.UserID == "" }

// Allows reports whether the credential allows s.
func (p Principal) Allows(s Scope) bool {
	return !p.Anonymous() && (p.Scopes == nil || slices.Contains(p.Scopes, s))
}

// Is reports whether p is signed in as userID and may act as them for s.
func (p Principal) Is(userID string, s Scope) bool {
	return userID != "" && p.UserID == userID && p.Allows(s)
}

// Moderates reports whether p may use moderator rights: a moderator or an
// admin, with a credential that allows admin work.
func (p Principal) Moderates() bool {
	return (p.Role == RoleModerator || p.Role == RoleAdmin) && p.Allows(ScopeAdmin)
}

// Administers reports whether p may use admin rights.
func (p Principal) Administers() bool {
	return p.Role == RoleAdmin && p.Allows(ScopeAdmin)
}

type principalKey struct{}

// NewContext returns ctx carrying p.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext is the principal of ctx: anonymous when there is none.
func FromContext(ctx context.Context) Principal {
	p, _ := ctx.Value(principalKey{}).(Principal)
	return p
}
