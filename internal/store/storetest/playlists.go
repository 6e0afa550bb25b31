package storetest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/playlist"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
)

// NewPlaylist makes a playlist of the user with id owner, titled title,
// with the given privacy, for the tests of what stands on a store.
func NewPlaylist(t testing.TB, s Store, owner string, privacy video.Privacy, title string) playlist.Playlist {
	t.Helper()
	pl, err := s.CreatePlaylist(ctxFor(t), playlist.Playlist{OwnerID: owner, Title: title, Privacy: privacy}, playlist.MaxPerOwner)
	if err != nil {
		t.Fatalf("create playlist %q: %v", title, err)
	}
	return pl
}

// AddToPlaylist appends videos to a playlist.
func AddToPlaylist(t testing.TB, s Store, id string, videoIDs ...string) {
	t.Helper()
	for _, v := range videoIDs {
		if _, _, err := s.AddPlaylistItem(ctxFor(t), id, v, playlist.MaxItems, time.Now()); err != nil {
			t.Fatalf("add %s to playlist %s: %v", v, id, err)
		}
	}
}

// itemOrder reads a playlist's items whole, checks that their positions
// are 0..n-1 and that the playlist's count is n, and returns their
// videos' ids in order.
func itemOrder(t *testing.T, s Store, id string) []string {
	t.Helper()
	ctx := ctxFor(t)
	items, err := s.PlaylistItems(ctx, id, playlist.MaxItems, -1)
	if err != nil {
		t.Fatalf("PlaylistItems: %v", err)
	}
	ids := make([]string, len(items))
	for i, it := range items {
		if it.Position != i {
			t.Fatalf("item %d of %d is at position %d: %+v", i, len(items), it.Position, items)
		}
		ids[i] = it.Video.ID
	}
	pl, err := s.Playlist(ctx, id)
	if err != nil || pl.ItemCount != len(items) {
		t.Fatalf("Playlist = %+v, %v; want %d items counted", pl, err, len(items))
	}
	return ids
}

func wantOrder(t *testing.T, what string, s Store, id string, want ...string) {
	t.Helper()
	if got := itemOrder(t, s, id); !slices.Equal(got, want) {
		t.Fatalf("%s: items %v, want %v", what, got, want)
	}
}

func testPlaylists(t *testing.T, s Store) {
	ctx := ctxFor(t)
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	pl, err := s.CreatePlaylist(ctx, playlist.Playlist{OwnerID: ada.ID, Title: "Road trip", Description: "Songs"}, playlist.MaxPerOwner)
	if err != nil {
		t.Fatal(err)
	}
	if !store.ValidID(pl.ID) || pl.OwnerID != ada.ID || pl.OwnerName != ada.Username || pl.Title != "Road trip" ||
		pl.Description != "Songs" || pl.Privacy != video.PrivacyPublic || pl.ItemCount != 0 || pl.CreatedAt.IsZero() {
		t.Fatalf("created %+v", pl)
	}
	got, err := s.Playlist(ctx, pl.ID)
	if err != nil || got.ID != pl.ID || got.OwnerName != ada.Username || !got.CreatedAt.Equal(pl.CreatedAt) {
		t.Fatalf("Playlist = %+v, %v; want %+v", got, err, pl)
	}

	title, private := "Road trip, 2026", video.PrivacyPrivate
	got, err = s.UpdatePlaylist(ctx, pl.ID, playlist.Change{Title: &title, Privacy: &private})
	if err != nil || got.Title != title || got.Privacy != private || got.Description != "Songs" || got.UpdatedAt.Before(pl.UpdatedAt) {
		t.Fatalf("UpdatePlaylist = %+v, %v", got, err)
	}

	// A channel lists the public ones, newest first; its owner sees all.
	unlisted := NewPlaylist(t, s, ada.ID, video.PrivacyUnlisted, "Unlisted")
	public := []playlist.Playlist{NewPlaylist(t, s, ada.ID, video.PrivacyPublic, "First")}
	public = append(public, NewPlaylist(t, s, ada.ID, video.PrivacyPublic, "Second"))
	NewPlaylist(t, s, NewUser(t, s, testenv.Name("bob"), auth.RoleUser).ID, video.PrivacyPublic, "Bob's")
	listed, err := s.UserPlaylists(ctx, ada.ID, false, 10, playlist.ListPosition{})
	if err != nil || len(listed) != 2 || listed[0].ID != public[1].ID || listed[1].ID != public[0].ID {
		t.Fatalf("public playlists = %+v, %v; want Second, First", listed, err)
	}
	all, err := s.UserPlaylists(ctx, ada.ID, true, 10, playlist.ListPosition{})
	if err != nil || len(all) != 4 || all[2].ID != unlisted.ID || all[3].ID != pl.ID {
		t.Fatalf("all playlists = %+v, %v", all, err)
	}
	page, err := s.UserPlaylists(ctx, ada.ID, true, 2, playlist.ListPosition{CreatedAt: all[1].CreatedAt, ID: all[1].ID})
	if err != nil || len(page) != 2 || page[0].ID != unlisted.ID || page[1].ID != pl.ID {
		t.Fatalf("second page = %+v, %v", page, err)
	}
	if _, err := s.UserPlaylists(ctx, ada.ID, true, 2, playlist.ListPosition{ID: "nope"}); !video.IsInvalid(err) {
		t.Fatalf("a position that names no playlist: %v, want invalid", err)
	}

	if err := s.DeletePlaylist(ctx, pl.ID); err != nil {
		t.Fatal(err)
	}
	_, err = s.Playlist(ctx, pl.ID)
	wantErr(t, "a deleted playlist", err, video.ErrNotFound)
	wantErr(t, "deleting it again", s.DeletePlaylist(ctx, pl.ID), video.ErrNotFound)
	_, err = s.UpdatePlaylist(ctx, pl.ID, playlist.Change{Title: &title})
	wantErr(t, "updating a deleted playlist", err, video.ErrNotFound)
	for _, bad := range []string{"", "not-a-uuid", uuid.NewString()} {
		_, err = s.Playlist(ctx, bad)
		wantErr(t, fmt.Sprintf("playlist %q", bad), err, video.ErrNotFound)
		_, err = s.CreatePlaylist(ctx, playlist.Playlist{OwnerID: bad, Title: "x"}, playlist.MaxPerOwner)
		wantErr(t, fmt.Sprintf("a playlist of user %q", bad), err, video.ErrNotFound)
		if items, err := s.PlaylistItems(ctx, bad, 10, -1); err != nil || len(items) != 0 {
			t.Fatalf("items of playlist %q = %v, %v; want none", bad, items, err)
		}
	}
}

// A user keeps at most the bound of playlists, however many are made at
// once.
func testPlaylistsPerOwner(t *testing.T, s Store) {
	ctx := ctxFor(t)
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	const bound, tries = 5, 12
	errs := concurrently(tries, func(i int) error {
		_, err := s.CreatePlaylist(ctx, playlist.Playlist{OwnerID: ada.ID, Title: fmt.Sprint("List ", i)}, bound)
		return err
	})
	made := 0
	for _, err := range errs {
		switch {
		case err == nil:
			made++
		case !playlist.IsLimit(err) || !errors.Is(err, account.ErrQuotaExceeded):
			t.Fatalf("a creation past the bound failed with %v, want the limit", err)
		}
	}
	all, err := s.UserPlaylists(ctx, ada.ID, true, 100, playlist.ListPosition{})
	if made != bound || err != nil || len(all) != bound {
		t.Fatalf("%d of %d creations succeeded and %d playlists are kept (%v); want %d", made, tries, len(all), err, bound)
	}
}

func testPlaylistItems(t *testing.T, s Store) {
	ctx := ctxFor(t)
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	pl := NewPlaylist(t, s, ada.ID, video.PrivacyPublic, "Mix")
	a, b, c := Ready(t, s, "A"), ReadyBy(t, s, ada.ID, video.PrivacyPrivate, "B"), Uploaded(t, s, "C")

	at := time.Now()
	for i, v := range []video.Video{a, b, c} {
		it, added, err := s.AddPlaylistItem(ctx, pl.ID, v.ID, playlist.MaxItems, at)
		if err != nil || !added || it.Position != i || it.Video.ID != v.ID || it.Video.Title != v.Title || !it.AddedAt.Equal(at.Truncate(time.Microsecond)) {
			t.Fatalf("add %s = %+v, %v, %v; want it at %d", v.Title, it, added, err, i)
		}
	}
	it, added, err := s.AddPlaylistItem(ctx, pl.ID, a.ID, playlist.MaxItems, time.Now())
	if err != nil || added || it.Position != 0 {
		t.Fatalf("adding A again = %+v, %v, %v; want it where it is, not added", it, added, err)
	}
	wantOrder(t, "after adding", s, pl.ID, a.ID, b.ID, c.ID)

	it, err = s.MovePlaylistItem(ctx, pl.ID, c.ID, 0)
	if err != nil || it.Position != 0 || it.Video.ID != c.ID {
		t.Fatalf("move C to the top = %+v, %v", it, err)
	}
	wantOrder(t, "C moved to the top", s, pl.ID, c.ID, a.ID, b.ID)
	if it, err = s.MovePlaylistItem(ctx, pl.ID, c.ID, 99); err != nil || it.Position != 2 {
		t.Fatalf("move C past the end = %+v, %v; want it last", it, err)
	}
	wantOrder(t, "C moved past the end", s, pl.ID, a.ID, b.ID, c.ID)
	if _, err = s.MovePlaylistItem(ctx, pl.ID, a.ID, 1); err != nil {
		t.Fatal(err)
	}
	wantOrder(t, "A moved down one", s, pl.ID, b.ID, a.ID, c.ID)
	if _, err = s.MovePlaylistItem(ctx, pl.ID, a.ID, 1); err != nil {
		t.Fatal(err)
	}
	wantOrder(t, "A moved where it is", s, pl.ID, b.ID, a.ID, c.ID)
	_, err = s.MovePlaylistItem(ctx, pl.ID, a.ID, -1)
	if !video.IsInvalid(err) {
		t.Fatalf("a move to -1: %v, want invalid", err)
	}

	// Pages follow the positions.
	page, err := s.PlaylistItems(ctx, pl.ID, 2, 0)
	if err != nil || len(page) != 2 || page[0].Video.ID != a.ID || page[1].Video.ID != c.ID || page[1].Position != 2 {
		t.Fatalf("items after position 0 = %+v, %v; want A, C", page, err)
	}

	if err := s.RemovePlaylistItem(ctx, pl.ID, b.ID); err != nil {
		t.Fatal(err)
	}
	wantOrder(t, "B removed", s, pl.ID, a.ID, c.ID)
	wantErr(t, "removing B again", s.RemovePlaylistItem(ctx, pl.ID, b.ID), video.ErrNotFound)
	_, err = s.MovePlaylistItem(ctx, pl.ID, b.ID, 0)
	wantErr(t, "moving what the playlist does not hold", err, video.ErrNotFound)

	// A video deleted after it was added stays an item, read as deleted:
	// what a viewer sees of it is the caller's business.
	if _, err := s.DeleteVideo(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	items, err := s.PlaylistItems(ctx, pl.ID, 10, -1)
	if err != nil || len(items) != 2 || items[0].Video.State != video.StateDeleted {
		t.Fatalf("items with a deleted video = %+v, %v", items, err)
	}
	_, _, err = s.AddPlaylistItem(ctx, pl.ID, a.ID, playlist.MaxItems, time.Now())
	if err != nil {
		t.Fatalf("adding a deleted video it holds: %v, want it as it is", err)
	}
	d := Ready(t, s, "D")
	if _, err := s.DeleteVideo(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.AddPlaylistItem(ctx, pl.ID, d.ID, playlist.MaxItems, time.Now())
	wantErr(t, "adding a deleted video", err, video.ErrNotFound)
	_, _, err = s.AddPlaylistItem(ctx, pl.ID, uuid.NewString(), playlist.MaxItems, time.Now())
	wantErr(t, "adding a video that does not exist", err, video.ErrNotFound)
	_, _, err = s.AddPlaylistItem(ctx, uuid.NewString(), c.ID, playlist.MaxItems, time.Now())
	wantErr(t, "adding to a playlist that does not exist", err, video.ErrNotFound)
	for _, bad := range []string{"", "not-a-uuid"} {
		_, _, err = s.AddPlaylistItem(ctx, pl.ID, bad, playlist.MaxItems, time.Now())
		wantErr(t, fmt.Sprintf("adding video %q", bad), err, video.ErrNotFound)
		wantErr(t, fmt.Sprintf("removing video %q", bad), s.RemovePlaylistItem(ctx, bad, c.ID), video.ErrNotFound)
		_, err = s.MovePlaylistItem(ctx, bad, c.ID, 0)
		wantErr(t, fmt.Sprintf("moving in playlist %q", bad), err, video.ErrNotFound)
	}

	// The bound: a full playlist takes no more, but still answers for
	// what it holds.
	e := Ready(t, s, "E")
	_, _, err = s.AddPlaylistItem(ctx, pl.ID, e.ID, 2, time.Now())
	if !playlist.IsLimit(err) {
		t.Fatalf("adding to a full playlist: %v, want the limit", err)
	}
	if _, added, err := s.AddPlaylistItem(ctx, pl.ID, c.ID, 2, time.Now()); err != nil || added {
		t.Fatalf("adding what a full playlist holds = %v, %v; want it as it is", added, err)
	}
	wantOrder(t, "after the refusals", s, pl.ID, a.ID, c.ID)

	// Deleting the playlist deletes its items; the videos stay.
	if err := s.DeletePlaylist(ctx, pl.ID); err != nil {
		t.Fatal(err)
	}
	if items, err := s.PlaylistItems(ctx, pl.ID, 10, -1); err != nil || len(items) != 0 {
		t.Fatalf("items of a deleted playlist = %+v, %v", items, err)
	}
	get(t, s, c.ID)
}

// Concurrent changes of one playlist's items apply one after another:
// however moves, additions and removals interleave, the positions end
// 0..n-1 with each video once, and the count is n.
func testConcurrentPlaylistChanges(t *testing.T, s Store) {
	ctx := ctxFor(t)
	ada := NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	pl := NewPlaylist(t, s, ada.ID, video.PrivacyPublic, "Raced")
	const kept, workers, moves = 8, 10, 10
	var base []string
	for i := range kept {
		base = append(base, Ready(t, s, fmt.Sprint("Kept ", i)).ID)
	}
	AddToPlaylist(t, s, pl.ID, base...)
	extra := make([]string, workers)
	for i := range extra {
		extra[i] = Ready(t, s, fmt.Sprint("Extra ", i)).ID
	}
	errs := concurrently(workers, func(i int) error {
		r := rand.New(rand.NewPCG(uint64(i), 11))
		for m := range moves {
			// Each worker moves kept videos about, and adds and removes a
			// video of its own; its last change adds it for even workers.
			if _, err := s.MovePlaylistItem(ctx, pl.ID, base[r.IntN(kept)], r.IntN(kept+workers)); err != nil {
				return err
			}
			var err error
			if m%2 == 0 || m == moves-1 && i%2 == 0 {
				_, _, err = s.AddPlaylistItem(ctx, pl.ID, extra[i], playlist.MaxItems, time.Now())
			} else {
				err = s.RemovePlaylistItem(ctx, pl.ID, extra[i])
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent changes: %v", err)
		}
	}
	got := itemOrder(t, s, pl.ID)
	want := slices.Clone(base)
	for i, id := range extra {
		if i%2 == 0 {
			want = append(want, id)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("after concurrent changes the playlist holds %v, want %v", got, want)
	}
}
