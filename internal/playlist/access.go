package playlist

import (
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/video"
)

// Who may do what with a playlist: one rule per action, decided from the
// principal and the playlist alone. A playlist's privacy means what a
// video's does: a public one is listed on its owner's channel, an unlisted
// one is found by its link, a private one is seen by its owner and
// moderators only. Which of its videos a viewer sees is video.CanView's
// question, asked of each.

// CanView reports whether p may see pl and its items.
func CanView(p auth.Principal, pl Playlist) bool {
	if pl.Privacy != video.PrivacyPrivate {
		return true
	}
	return p.Is(pl.OwnerID, auth.ScopeRead) || p.Is(pl.OwnerID, auth.ScopeUpload) || p.Moderates()
}

// CanCreate reports whether p may make a playlist: a signed-in user whose
// credential may write as them.
func CanCreate(p auth.Principal) bool { return p.Allows(auth.ScopeUpload) }

// CanEdit reports whether p may rename pl, describe it, change its
// privacy or delete it: its owner, and moderators and admins, as for a
// video.
func CanEdit(p auth.Principal, pl Playlist) bool {
	return p.Is(pl.OwnerID, auth.ScopeUpload) || p.Moderates()
}

// CanArrange reports whether p may add, remove or move pl's items: its
// owner alone, since what it holds and in which order is theirs to say.
func CanArrange(p auth.Principal, pl Playlist) bool { return p.Is(pl.OwnerID, auth.ScopeUpload) }

// CanAdd reports whether p may put v into pl: they may arrange pl and see
// v.
func CanAdd(p auth.Principal, pl Playlist, v video.Video) bool {
	return CanArrange(p, pl) && video.CanView(p, v)
}

// SeesEverything reports whether p sees every playlist of the user with id
// owner, whatever its privacy: the owner and moderators.
func SeesEverything(p auth.Principal, owner string) bool { return video.SeesEverything(p, owner) }

// Refusal is the error for p being refused an action on pl: not found when
// p may not even see it, sign in when nobody is, forbidden otherwise.
func Refusal(p auth.Principal, pl Playlist) error {
	switch {
	case !CanView(p, pl):
		return video.ErrNotFound
	case p.Anonymous():
		return video.ErrUnauthenticated
	}
	return video.ErrForbidden
}
