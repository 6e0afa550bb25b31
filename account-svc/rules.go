package accountsvc

import (
	"fmt"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/video"
)

// Who may do what with accounts: one rule per kind of action, decided from
// the principal (and the user acted on) alone, each answering nil or the
// error to refuse with.

var (
	errTokenManages = fmt.Errorf("an API token cannot change a password, sessions or tokens; sign in with a browser: %w", video.ErrForbidden)
	errNotAdmin     = fmt.Errorf("only an admin may do this: %w", video.ErrForbidden)
)

// managesOwnAccount allows the caller's password, sessions and tokens to be
// managed from a browser session only (Scopes == nil). An API token must
// not mint other tokens, end its owner's sessions or change the password:
// a leaked token would otherwise become a credential that outlives its own
// revocation and locks the owner out.
func managesOwnAccount(p auth.Principal) error {
	switch {
	case p.Anonymous():
		return video.ErrUnauthenticated
	case p.Scopes != nil || p.SessionID == "":
		return errTokenManages
	}
	return nil
}

// administers allows the management of users (making, changing and
// listing them, and inviting people): an admin in a browser session, or
// an admin's API token with the admin scope, so that an operator can
// script it.
func administers(p auth.Principal) error {
	switch {
	case p.Anonymous():
		return video.ErrUnauthenticated
	case !p.Administers():
		return errNotAdmin
	}
	return nil
}

// seesPrivate reports whether p sees u's e-mail address, quotas and
// whether u is disabled: u themselves, with any credential of theirs that
// reads or uploads, and admins. Anybody else sees the public profile a
// channel page shows.
func seesPrivate(p auth.Principal, u account.User) bool {
	return p.Is(u.ID, auth.ScopeRead) || p.Is(u.ID, auth.ScopeUpload) || p.Administers()
}
