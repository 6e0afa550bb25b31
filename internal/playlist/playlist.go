// Package playlist is CloudFlix's domain model of a playlist: a user's
// ordered list of videos with a title, a description and a privacy, the
// bounds on its size, and who may do what with it. It must never import a
// transport or a backend.
//
// A playlist's items hold dense positions 0..n-1 in the order it plays.
// Moving an item shifts those between its old and new place by one, and
// removing one closes the gap: with at most MaxItems items that is a
// bounded rewrite, done under a lock of the playlist's row, and it keeps
// positions meaningful (item 3 of 12) and the page cursor a plain number.
// Sortable keys (fractions, or strings between neighbours) would write one
// row per move, but grow without bound under repeated moves to one place
// and need rebalancing; a bounded list does not need them.
package playlist

import (
	"errors"
	"fmt"
	"time"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/video"
)

// Bounds on playlists.
const (
	// MaxItems is the most videos one playlist holds: a long course or
	// an album's worth of albums, and a bound on what a move rewrites.
	MaxItems = 5000
	// MaxPerOwner is the most playlists one user keeps.
	MaxPerOwner = 200
	// MaxTitleRunes and MaxDescriptionRunes bound a playlist's text.
	MaxTitleRunes       = 150
	MaxDescriptionRunes = 5000
)

// ErrLimit is a playlist or a user at one of the bounds above; it is a
// quota, as the platform's other per-user limits are.
var ErrLimit = fmt.Errorf("playlist limit reached: %w", account.ErrQuotaExceeded)

// Full is the error of adding to a playlist that holds max items already.
func Full(id string, max int) error {
	return fmt.Errorf("playlist %s holds %d videos, the most it may: %w", id, max, ErrLimit)
}

// TooMany is the error of making a playlist for a user who has max
// already.
func TooMany(owner string, max int) error {
	return fmt.Errorf("user %s has %d playlists, the most one may: %w", owner, max, ErrLimit)
}

// IsLimit reports whether err is a bound reached.
func IsLimit(err error) bool { return errors.Is(err, ErrLimit) }

// Playlist is one user's ordered list of videos.
type Playlist struct {
	ID          string
	OwnerID     string
	OwnerName   string // the owner's username, read with the playlist
	Title       string
	Description string
	Privacy     video.Privacy
	// ItemCount is how many items it holds, kept with the playlist's row
	// as items are added and removed. It counts every item, those a
	// viewer may not see included.
	ItemCount int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Item is one place in a playlist: its position (0 first) and the video
// there, as stored, in whatever state and privacy it now is.
type Item struct {
	Position int
	Video    video.Video
	AddedAt  time.Time
}

// Change is an edit of a playlist; nil fields stay as they are.
type Change struct {
	Title       *string
	Description *string
	Privacy     *video.Privacy
}

// Empty reports whether the change changes nothing.
func (c Change) Empty() bool { return c.Title == nil && c.Description == nil && c.Privacy == nil }

// ListPosition is a keyset position in a newest-first list of playlists;
// the zero value is the start of the list.
type ListPosition struct {
	CreatedAt time.Time
	ID        string
}

// NormalizeTitle trims a title and checks it.
func NormalizeTitle(s string) (string, error) { return video.TrimTitle(s, MaxTitleRunes) }

// NormalizeDescription trims a description and checks it.
func NormalizeDescription(s string) (string, error) {
	return video.TrimDescription(s, MaxDescriptionRunes)
}

// Normalize checks a new playlist's text and privacy ("" is public) and
// returns it with them normalized.
func (p Playlist) Normalize() (Playlist, error) {
	var err error
	if p.Title, err = NormalizeTitle(p.Title); err != nil {
		return Playlist{}, err
	}
	if p.Description, err = NormalizeDescription(p.Description); err != nil {
		return Playlist{}, err
	}
	if p.Privacy, err = video.ParsePrivacy(string(p.Privacy)); err != nil {
		return Playlist{}, err
	}
	return p, nil
}

// Normalize checks an edit and returns it with its values normalized.
func (c Change) Normalize() (Change, error) {
	var out Change
	if c.Title != nil {
		t, err := NormalizeTitle(*c.Title)
		if err != nil {
			return Change{}, err
		}
		out.Title = &t
	}
	if c.Description != nil {
		d, err := NormalizeDescription(*c.Description)
		if err != nil {
			return Change{}, err
		}
		out.Description = &d
	}
	if c.Privacy != nil {
		p, err := video.ParsePrivacy(string(*c.Privacy))
		if err != nil {
			return Change{}, err
		}
		out.Privacy = &p
	}
	return out, nil
}
