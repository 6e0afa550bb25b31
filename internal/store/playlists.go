package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/cloudflix/cloudflix/internal/playlist"
	"github.com/cloudflix/cloudflix/internal/video"
)

// Playlists is the part of the store that keeps users' playlists: ordered
// lists of videos at dense positions 0..n-1, each playlist with the count
// of its items kept in its row. Every change of a playlist's items holds
// its row locked for the change, so concurrent changes of one playlist
// apply one after another and never leave a gap or a repeat in the
// positions. Which playlists and videos a principal may see or change is
// the caller's business.
type Playlists interface {
	// CreatePlaylist inserts pl (normalized by the caller, with an id
	// from NewPlaylist) and returns it as stored, with its owner's name.
	// An owner who is no user gives ErrNotFound; one who has maxPerOwner
	// playlists already, a playlist.ErrLimit.
	CreatePlaylist(ctx context.Context, pl playlist.Playlist, maxPerOwner int) (playlist.Playlist, error)
	// Playlist returns the playlist with id, or ErrNotFound.
	Playlist(ctx context.Context, id string) (playlist.Playlist, error)
	// UpdatePlaylist applies change and returns the playlist as it now is.
	UpdatePlaylist(ctx context.Context, id string, change playlist.Change) (playlist.Playlist, error)
	// DeletePlaylist removes a playlist and its items; ErrNotFound when
	// there is none.
	DeletePlaylist(ctx context.Context, id string) error
	// UserPlaylists returns up to limit playlists of the user with id
	// owner, newest first (created_at, then id, descending), strictly
	// after the position `after` (one without an id is the start): with
	// everything false only the public ones, with everything true all of
	// them.
	UserPlaylists(ctx context.Context, owner string, everything bool, limit int, after playlist.ListPosition) ([]playlist.Playlist, error)

	// PlaylistItems returns up to limit items of a playlist at positions
	// after `after` (-1 starts at the first), in order, each with its
	// video in whatever state and privacy it is, deleted ones included.
	// An absent playlist has no items.
	PlaylistItems(ctx context.Context, id string, limit, after int) ([]playlist.Item, error)
	// AddPlaylistItem appends a video that is not deleted to the end of a
	// playlist, at at, and reports that it was added; a video the
	// playlist holds already stays where it is, and is returned with
	// false. A playlist that holds maxItems already gives a
	// playlist.ErrLimit; an absent playlist, or an absent or deleted
	// video, ErrNotFound.
	AddPlaylistItem(ctx context.Context, id, videoID string, maxItems int, at time.Time) (playlist.Item, bool, error)
	// RemovePlaylistItem takes a video out of a playlist, and those after
	// it move up one; ErrNotFound when the playlist does not hold it.
	RemovePlaylistItem(ctx context.Context, id, videoID string) error
	// MovePlaylistItem moves a video of a playlist to position (a
	// position past the end is the end), and those between its old and
	// new place one step the other way; it returns the item at its new
	// place. A negative position is invalid input; a video the playlist
	// does not hold, ErrNotFound.
	MovePlaylistItem(ctx context.Context, id, videoID string, position int) (playlist.Item, error)
}

// NewPlaylist gives pl a fresh id when it has none, and checks the ids it
// names.
func NewPlaylist(pl playlist.Playlist) (playlist.Playlist, error) {
	if pl.ID == "" {
		pl.ID = uuid.NewString()
	}
	if !ValidID(pl.ID) {
		return playlist.Playlist{}, video.Invalid("playlist id %q is not a canonical UUID", pl.ID)
	}
	if !ValidID(pl.OwnerID) {
		return playlist.Playlist{}, fmt.Errorf("owner %q of a playlist: %w", pl.OwnerID, video.ErrNotFound)
	}
	if pl.Privacy == "" {
		pl.Privacy = video.PrivacyPublic
	}
	return pl, nil
}

// CheckPlaylistItem refuses ids that cannot name a playlist or a video:
// neither exists.
func CheckPlaylistItem(id, videoID string) error {
	if !ValidID(id) || !ValidID(videoID) {
		return fmt.Errorf("item %s of playlist %s: %w", videoID, id, video.ErrNotFound)
	}
	return nil
}

// CheckPlaylistPosition refuses a UserPlaylists position whose id cannot
// name a playlist: it is the caller's mistake.
func CheckPlaylistPosition(after playlist.ListPosition) error {
	if after.ID != "" && !ValidID(after.ID) {
		return video.Invalid("list position id %q is not a playlist id", after.ID)
	}
	return nil
}

// ItemTime is at as stores keep it, to the microsecond.
func ItemTime(at time.Time) time.Time { return at.UTC().Truncate(time.Microsecond) }

// MoveSpan is what a move of the item at from to position to (within a
// playlist of count items, to clamped to its end) rewrites: the positions
// lo..hi, each of the others shifting by shift (+1 or -1), and the item's
// final position. A move to where it is rewrites nothing (lo > hi).
func MoveSpan(from, to, count int) (lo, hi, shift, final int) {
	if to >= count {
		to = count - 1
	}
	switch {
	case to > from:
		return from, to, -1, to
	case to < from:
		return to, from, +1, to
	}
	return 1, 0, 0, from
}
