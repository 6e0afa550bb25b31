package video

import (
	"errors"

	"github.com/cloudflix/cloudflix/internal/auth"
)

// Who may do what with a video: one rule per action, decided from the
// principal and the video alone, so that every service that acts on a
// video asks the same question.

// Errors of a refused action; transports map them to codes.
var (
	// ErrUnauthenticated: the action needs someone signed in.
	ErrUnauthenticated = errors.New("sign in first")
	// ErrForbidden: the principal may see the video but not do this to it.
	ErrForbidden = errors.New("not allowed")
)

// CanView reports whether p may see v: anyone a public or unlisted video
// (an unlisted one only by its link, since lists never show it), its owner
// and moderators a private or hidden one.
func CanView(p auth.Principal, v Video) bool {
	if v.Privacy != PrivacyPrivate && !v.Hidden() {
		return true
	}
	return owns(p, v, auth.ScopeRead) || owns(p, v, auth.ScopeUpload) || p.Moderates()
}

// Listed reports whether v shows in the latest, trending and channel
// lists, in search and in suggestions: ready, public and not hidden. The
// stores say the same in SQL (store.ListedSQL), and their partial indexes
// are built on it.
func Listed(v Video) bool {
	return v.Privacy == PrivacyPublic && v.State == StateReady && !v.Hidden()
}

// CanLike reports whether p may like v, or take the like back: any
// signed-in user who may see it. A like is the user's own small act, so
// any credential of theirs may do it, whatever its scopes.
func CanLike(p auth.Principal, v Video) bool { return !p.Anonymous() && CanView(p, v) }

// CanUpload reports whether p may upload a video.
func CanUpload(p auth.Principal) bool { return p.Allows(auth.ScopeUpload) }

// CanEdit reports whether p may change v's details or privacy, or delete
// it: its owner, moderators and admins.
func CanEdit(p auth.Principal, v Video) bool {
	return owns(p, v, auth.ScopeUpload) || p.Moderates()
}

// CanManageEncode reports whether p may re-encode v or abort its upload:
// its owner and admins, since both take the video offline.
func CanManageEncode(p auth.Principal, v Video) bool {
	return owns(p, v, auth.ScopeUpload) || p.Administers()
}

// SeesEverything reports whether p sees every state and privacy of the
// videos of the user with id owner: the owner and moderators.
func SeesEverything(p auth.Principal, owner string) bool {
	return p.Is(owner, auth.ScopeRead) || p.Is(owner, auth.ScopeUpload) || p.Moderates()
}

func owns(p auth.Principal, v Video, s auth.Scope) bool { return p.Is(v.OwnerID, s) }

// Refusal is the error for p being refused an action on v: not found when p
// may not even see it (so its existence does not leak), sign in when
// nobody is, forbidden otherwise.
func Refusal(p auth.Principal, v Video) error {
	switch {
	case !CanView(p, v):
		return ErrNotFound
	case p.Anonymous():
		return ErrUnauthenticated
	}
	return ErrForbidden
}

// CanReadComments reports whether p may read v's comments: whoever may see
// v, whether or not its comments are off.
func CanReadComments(p auth.Principal, v Video) bool { return CanView(p, v) }

// CanComment reports whether p may comment on v or reply there: a
// signed-in user who may see it, with a credential that writes in their
// name (a browser session, or a token with the upload scope: a read token
// only reads). Whether v takes comments at all (CommentsOff) is v's
// owner's choice, checked where the comment is stored, so that turning
// them off and posting cannot cross.
func CanComment(p auth.Principal, v Video) bool { return p.Allows(auth.ScopeUpload) && CanView(p, v) }

// CanEditComment reports whether p may change the text of c: its author
// alone, since the words are theirs, on a video p may still see, while c
// shows: a hidden comment keeps the words a moderator judged until it is
// restored.
func CanEditComment(p auth.Principal, v Video, c Comment) bool {
	return writes(p, v, c) && !c.Hidden()
}

// CanRemoveComment reports whether p may remove c from v: its author (on a
// video they may still see, hidden or not), v's owner, who keeps the page,
// and moderators and admins.
func CanRemoveComment(p auth.Principal, v Video, c Comment) bool {
	return writes(p, v, c) || owns(p, v, auth.ScopeUpload) || p.Moderates()
}

// writes reports whether p is c's author, acting with a credential that
// writes in their name, on a video p may see.
func writes(p auth.Principal, v Video, c Comment) bool {
	return p.Is(c.AuthorID, auth.ScopeUpload) && CanView(p, v)
}

// CanReadHiddenComment reports whether p may read a comment a moderator
// hid: its author, who is shown why, and moderators and admins, who judge
// it and may restore it. The video's owner is not among them: hiding is
// the moderators' word on what the page shows, the owner's included.
func CanReadHiddenComment(p auth.Principal, c Comment) bool {
	return p.Is(c.AuthorID, auth.ScopeRead) || p.Is(c.AuthorID, auth.ScopeUpload) || p.Moderates()
}

// CommentAsSeen is c as p is shown it: whole while it shows or when p may
// read it hidden (CanReadHiddenComment), else its Placeholder, which keeps
// the thread around it readable. The why of a hiding is for those who may
// read the comment. Counts (the video's comments, a thread's replies) keep
// counting a hidden comment, since its placeholder keeps its place.
func CommentAsSeen(p auth.Principal, c Comment) Comment {
	if !c.Hidden() || CanReadHiddenComment(p, c) {
		return c
	}
	return c.Placeholder()
}
