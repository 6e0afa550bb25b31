package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudflix/cloudflix/internal/account"
	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/video"
)

func wantOwner(t *testing.T, what string, v video.Video, owner account.User, privacy video.Privacy) {
	t.Helper()
	if v.OwnerID != owner.ID || v.OwnerName != owner.Username || v.Privacy != privacy {
		t.Fatalf("%s: owner %q (%q), privacy %q; want %q (%q), %q", what, v.OwnerID, v.OwnerName, v.Privacy, owner.ID, owner.Username, privacy)
	}
}

func testOwnerAndPrivacy(t *testing.T, s Store) {
	ctx := ctxFor(t)
	alice := NewUser(t, s, "alice", auth.RoleUser)
	unlisted := create(t, s, draft{title: "Mine", owner: alice.ID, privacy: video.PrivacyUnlisted})
	wantOwner(t, "Video", get(t, s, unlisted.ID), alice, video.PrivacyUnlisted)
	public := create(t, s, draft{title: "Public by default", owner: alice.ID})
	wantOwner(t, "Video with no privacy given", get(t, s, public.ID), alice, video.PrivacyPublic)
	ownerless := create(t, s, draft{title: "Nobody's"})
	wantOwner(t, "Video without an owner", get(t, s, ownerless.ID), account.User{}, video.PrivacyPublic)
	for _, tc := range []struct{ id, owner string }{{unlisted.ID, alice.ID}, {ownerless.ID, ""}} {
		if u, err := s.UploadSession(ctx, tc.id); err != nil || u.OwnerID != tc.owner {
			t.Fatalf("UploadSession(%s) = %+v, %v; want owner %q", tc.id, u, err, tc.owner)
		}
	}

	// Every way a video is read carries its owner.
	v := uploaded(t, s, draft{title: "Owned all along", owner: alice.ID})
	c, err := s.ClaimEncode(ctx, v.ID, "w1", longLease)
	if err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	wantOwner(t, "ClaimEncode", c.Video, alice, video.PrivacyPublic)
	r, err := s.MarkReady(ctx, v.ID, "w1", testEncoded)
	if err != nil {
		t.Fatalf("MarkReady: %v", err)
	}
	wantOwner(t, "MarkReady", r, alice, video.PrivacyPublic)
	latest, err := s.LatestVideos(ctx, 10, video.ListPosition{})
	if err != nil || len(latest) != 1 {
		t.Fatalf("LatestVideos = %v, %v", ids(latest), err)
	}
	wantOwner(t, "LatestVideos", latest[0], alice, video.PrivacyPublic)
	hits := wantFound(t, s, "owned", "Owned all along")
	wantOwner(t, "Search", hits[0].Video, alice, video.PrivacyPublic)
	channel, err := s.ChannelVideos(ctx, alice.ID, false, 10, video.ListPosition{})
	if err != nil || len(channel) != 1 {
		t.Fatalf("ChannelVideos = %v, %v", ids(channel), err)
	}
	wantOwner(t, "ChannelVideos", channel[0], alice, video.PrivacyPublic)
	was, err := s.DeleteVideo(ctx, unlisted.ID)
	if err != nil {
		t.Fatalf("DeleteVideo: %v", err)
	}
	wantOwner(t, "DeleteVideo", was, alice, video.PrivacyUnlisted)

	for _, bad := range []video.Video{
		{ID: uuid.NewString(), Title: "Secret", Privacy: "secret"},
		{ID: uuid.NewString(), Title: "Nobody's", OwnerID: uuid.NewString()},
		{ID: uuid.NewString(), Title: "Malformed", OwnerID: "alice"},
	} {
		err := s.CreateVideo(ctx, bad, video.UploadSession{UploadID: "u", ObjectKey: video.SourceKey(bad.ID), ExpiresAt: time.Now()})
		wantInvalid(t, fmt.Sprintf("CreateVideo(owner %q, privacy %q)", bad.OwnerID, bad.Privacy), err)
		_, err = s.Video(ctx, bad.ID)
		wantErr(t, "Video of a refused video", err, video.ErrNotFound)
	}
}

// Lists and search show READY public videos only; unlisted and private ones
// are read by id alone.
func testListedOnlyPublic(t *testing.T, s Store) {
	ctx := ctxFor(t)
	alice := NewUser(t, s, "alice", auth.RoleUser)
	public := ready(t, s, draft{title: "Public Sunrise", owner: alice.ID})
	var hidden []video.Video
	for _, p := range []video.Privacy{video.PrivacyUnlisted, video.PrivacyPrivate} {
		hidden = append(hidden, ready(t, s, draft{title: fmt.Sprintf("%s Sunrise", p), owner: alice.ID, privacy: p}))
	}
	for _, after := range []video.ListPosition{{}, {CreatedAt: time.Now().Add(time.Hour)}} {
		vs, err := s.LatestVideos(ctx, 10, after)
		if err != nil || !slices.Equal(ids(vs), []string{public.ID}) {
			t.Fatalf("LatestVideos after %v = %v, %v; want only the public video", after, ids(vs), err)
		}
	}
	wantFound(t, s, "sunrise", "Public Sunrise")
	wantFound(t, s, "unlisted")
	wantFound(t, s, "privat") // a prefix
	if got, err := s.Suggest(ctx, "sunr", 10); err != nil || !slices.Equal(got, []string{"Public Sunrise"}) {
		t.Fatalf("Suggest(sunr) = %q, %v", got, err)
	}
	if got, err := s.Suggest(ctx, "unlis", 10); err != nil || len(got) != 0 {
		t.Fatalf("Suggest(unlis) = %q, %v; want none", got, err)
	}
	for _, v := range hidden {
		wantOwner(t, "Video of a hidden video", get(t, s, v.ID), alice, v.Privacy)
	}
}

// The vocabulary that corrects typos and completes titles holds the words
// of READY public videos only: a correction or a suggestion must never give
// away a word of an unlisted or private video.
func testVocabularyOnlyPublic(t *testing.T, s Store) {
	ctx := ctxFor(t)
	alice := NewUser(t, s, "alice", auth.RoleUser)
	private := ready(t, s, draft{title: "Zeppelin Quarry", owner: alice.ID, privacy: video.PrivacyPrivate})
	ready(t, s, draft{title: "Quasar Marmalade", owner: alice.ID, privacy: video.PrivacyUnlisted})
	ready(t, s, draft{title: "Zeppelins Overhead"})
	suggest := func(prefix string, want ...string) {
		t.Helper()
		got, err := s.Suggest(ctx, prefix, 10)
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("Suggest(%q) = %q, %v; want %q", prefix, got, err, want)
		}
	}
	// "zepelin" is nearer to the private "zeppelin" (0.7) than to
	// "zeppelins" (0.5): corrected to the private word, it would find nothing.
	wantFound(t, s, "zepelin", "Zeppelins Overhead")
	suggest("zepelin", "Zeppelins Overhead")
	wantFound(t, s, "quary")
	wantFound(t, s, "marmalde")
	suggest("quar")
	suggest("qusar")

	public, private2 := video.PrivacyPublic, video.PrivacyPrivate
	if _, err := s.UpdateVideo(ctx, private.ID, video.Change{Privacy: &public}); err != nil {
		t.Fatalf("UpdateVideo to public: %v", err)
	}
	wantFound(t, s, "zepelin", "Zeppelin Quarry")
	wantFound(t, s, "quary", "Zeppelin Quarry")
	suggest("quar", "Zeppelin Quarry")
	if _, err := s.UpdateVideo(ctx, private.ID, video.Change{Privacy: &private2}); err != nil {
		t.Fatalf("UpdateVideo to private: %v", err)
	}
	wantFound(t, s, "zepelin", "Zeppelins Overhead")
	wantFound(t, s, "quary")
	suggest("quar")
}

func testUpdateVideo(t *testing.T, s Store) {
	ctx := ctxFor(t)
	alice := NewUser(t, s, "alice", auth.RoleUser)
	v := ready(t, s, draft{title: "Old Title", description: "stale words", tags: []string{"oldtag"}, owner: alice.ID})
	wantFound(t, s, "title", "Old Title")

	title := "Brand New"
	got, err := s.UpdateVideo(ctx, v.ID, video.Change{Title: &title})
	if err != nil {
		t.Fatalf("UpdateVideo(title): %v", err)
	}
	if got.Title != title || got.Description != "stale words" || !slices.Equal(got.Tags, []string{"oldtag"}) ||
		got.State != video.StateReady || len(got.Renditions) != 2 || got.UpdatedAt.Before(v.UpdatedAt) {
		t.Fatalf("UpdateVideo(title) = %+v", got)
	}
	wantOwner(t, "UpdateVideo", got, alice, video.PrivacyPublic)
	if again := get(t, s, v.ID); again.Title != title || !slices.Equal(again.Tags, got.Tags) {
		t.Fatalf("Video after UpdateVideo = %+v", again)
	}
	wantFound(t, s, "brand", "Brand New")
	wantFound(t, s, "title")
	wantFound(t, s, "titel") // nor is it a correction any more
	wantFound(t, s, "stale", "Brand New")

	description, tags := "fresh beginning", []string{"newtag", "Second"}
	if _, err := s.UpdateVideo(ctx, v.ID, video.Change{Description: &description, Tags: &tags}); err != nil {
		t.Fatalf("UpdateVideo(description, tags): %v", err)
	}
	wantFound(t, s, "stale")
	wantFound(t, s, "oldtag")
	wantFound(t, s, "fresh", "Brand New")
	wantFound(t, s, "newtag second", "Brand New")
	var none []string
	if got, err := s.UpdateVideo(ctx, v.ID, video.Change{Tags: &none}); err != nil || got.Tags != nil {
		t.Fatalf("UpdateVideo(no tags) = %q, %v", got.Tags, err)
	}
	wantFound(t, s, "second")
	if got, err := s.UpdateVideo(ctx, v.ID, video.Change{}); err != nil || got.Title != title || got.Description != description {
		t.Fatalf("UpdateVideo(nothing) = %+v, %v", got, err)
	}

	// A video in any state but deleted may be edited; one not ready stays
	// out of search.
	up := create(t, s, draft{title: "Still uploading"})
	edited := "Uploading, renamed"
	if got, err := s.UpdateVideo(ctx, up.ID, video.Change{Title: &edited}); err != nil || got.Title != edited || got.State != video.StateUploading {
		t.Fatalf("UpdateVideo of an uploading video = %+v, %v", got, err)
	}
	wantFound(t, s, "renamed")

	secret := video.Privacy("secret")
	_, err = s.UpdateVideo(ctx, v.ID, video.Change{Title: &edited, Privacy: &secret})
	wantInvalid(t, "UpdateVideo to privacy secret", err)
	if got := get(t, s, v.ID); got.Title != title || got.Privacy != video.PrivacyPublic {
		t.Fatalf("Video after a refused update = %+v", got)
	}
	if _, err := s.DeleteVideo(ctx, v.ID); err != nil {
		t.Fatalf("DeleteVideo: %v", err)
	}
	for _, id := range []string{v.ID, uuid.NewString(), "not-a-uuid"} {
		_, err := s.UpdateVideo(ctx, id, video.Change{Title: &edited})
		wantErr(t, fmt.Sprintf("UpdateVideo(%q)", id), err, video.ErrNotFound)
	}
}

func testChannelVideos(t *testing.T, s Store) {
	ctx := ctxFor(t)
	alice := NewUser(t, s, "alice", auth.RoleUser)
	bob := NewUser(t, s, "bob", auth.RoleUser)
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(minute int) time.Time { return base.Add(time.Duration(minute) * time.Minute) }
	a1 := ready(t, s, draft{title: "A1", owner: alice.ID, createdAt: at(0)})
	a2 := ready(t, s, draft{title: "A2", owner: alice.ID, privacy: video.PrivacyUnlisted, createdAt: at(1)})
	a3 := ready(t, s, draft{title: "A3", owner: alice.ID, privacy: video.PrivacyPrivate, createdAt: at(2)})
	a4 := uploaded(t, s, draft{title: "A4", owner: alice.ID, createdAt: at(3)})
	a5 := ready(t, s, draft{title: "A5", owner: alice.ID, createdAt: at(4)})
	gone := ready(t, s, draft{title: "Deleted", owner: alice.ID, createdAt: at(5)})
	if _, err := s.DeleteVideo(ctx, gone.ID); err != nil {
		t.Fatalf("DeleteVideo: %v", err)
	}
	b1 := ready(t, s, draft{title: "B1", owner: bob.ID, createdAt: at(6)})
	ready(t, s, draft{title: "Nobody's", createdAt: at(7)})

	list := func(owner string, everything bool, limit int, after video.ListPosition) []string {
		t.Helper()
		vs, err := s.ChannelVideos(ctx, owner, everything, limit, after)
		if err != nil {
			t.Fatalf("ChannelVideos: %v", err)
		}
		return ids(vs)
	}
	if got, want := list(alice.ID, false, 100, video.ListPosition{}), ids([]video.Video{a5, a1}); !slices.Equal(got, want) {
		t.Fatalf("alice's public channel = %v, want %v", got, want)
	}
	all := ids([]video.Video{a5, a4, a3, a2, a1})
	if got := list(alice.ID, true, 100, video.ListPosition{}); !slices.Equal(got, all) {
		t.Fatalf("all of alice's videos = %v, want %v", got, all)
	}
	var paged []string
	var after video.ListPosition
	for page := 0; page < 5; page++ {
		vs, err := s.ChannelVideos(ctx, alice.ID, true, 2, after)
		if err != nil {
			t.Fatalf("ChannelVideos page %d: %v", page, err)
		}
		if len(vs) == 0 {
			break
		}
		paged = append(paged, ids(vs)...)
		last := vs[len(vs)-1]
		after = video.ListPosition{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	if !slices.Equal(paged, all) {
		t.Fatalf("paged videos of alice = %v, want %v", paged, all)
	}
	if got := list(alice.ID, true, 100, video.ListPosition{CreatedAt: at(2)}); !slices.Equal(got, ids([]video.Video{a2, a1})) {
		t.Fatalf("alice's videos before minute 2 = %v", got)
	}
	if got := list(bob.ID, false, 100, video.ListPosition{}); !slices.Equal(got, []string{b1.ID}) {
		t.Fatalf("bob's channel = %v", got)
	}
	if got := list(alice.ID, true, 0, video.ListPosition{}); len(got) != 0 {
		t.Fatalf("ChannelVideos(limit 0) = %v", got)
	}
	_, err := s.ChannelVideos(ctx, alice.ID, true, 10, video.ListPosition{CreatedAt: base, ID: "not-a-uuid"})
	wantInvalid(t, "ChannelVideos after a malformed id", err)
}

func testUploadUsage(t *testing.T, s Store) {
	ctx := ctxFor(t)
	alice := NewUser(t, s, "alice", auth.RoleUser)
	bob := NewUser(t, s, "bob", auth.RoleUser)
	now := time.Now().Truncate(time.Second)
	del := func(v video.Video) {
		t.Helper()
		if _, err := s.DeleteVideo(ctx, v.ID); err != nil {
			t.Fatalf("DeleteVideo: %v", err)
		}
	}
	create(t, s, draft{title: "Two days old", owner: alice.ID, size: 100, createdAt: now.Add(-48 * time.Hour)})
	uploaded(t, s, draft{title: "An hour old", owner: alice.ID, size: 200, createdAt: now.Add(-time.Hour)})
	// Deleting a video frees its storage but not the day's uploads.
	del(ready(t, s, draft{title: "Deleted today", owner: alice.ID, size: 400, createdAt: now.Add(-30 * time.Minute)}))
	del(create(t, s, draft{title: "Deleted, old", owner: alice.ID, size: 800, createdAt: now.Add(-48 * time.Hour)}))
	create(t, s, draft{title: "Bob's", owner: bob.ID, size: 1600})
	create(t, s, draft{title: "Nobody's", size: 3200})

	for _, tc := range []struct {
		owner                  account.User
		since                  time.Time
		wantStored, wantUpload int64
	}{
		{alice, now.Add(-24 * time.Hour), 300, 600},
		{alice, time.Time{}, 300, 1500},
		{alice, now.Add(-time.Hour), 300, 600}, // at since counts
		{alice, now.Add(-time.Hour + time.Microsecond), 300, 400},
		{alice, now, 300, 0},
		{bob, now.Add(-24 * time.Hour), 1600, 1600},
	} {
		stored, up, err := s.UploadUsage(ctx, tc.owner.ID, tc.since)
		if err != nil || stored != tc.wantStored || up != tc.wantUpload {
			t.Fatalf("UploadUsage(%s, since %v) = %d, %d, %v; want %d, %d",
				tc.owner.Username, tc.since, stored, up, err, tc.wantStored, tc.wantUpload)
		}
	}
}

// The install's first admin adopts the videos without an owner: those of
// an install from before accounts.
func testFirstAdminAdopts(t *testing.T, s Store) {
	ctx := ctxFor(t)
	old := ready(t, s, draft{title: "From before accounts"})
	waiting := uploaded(t, s, draft{title: "Waiting for its encode"})
	NewUser(t, s, "plain", auth.RoleUser)
	NewUser(t, s, "mod", auth.RoleModerator)
	for _, v := range []video.Video{old, waiting} {
		wantOwner(t, "a video before any admin", get(t, s, v.ID), account.User{}, video.PrivacyPublic)
	}
	admin := NewUser(t, s, "first", auth.RoleAdmin)
	for _, v := range []video.Video{old, waiting} {
		wantOwner(t, "a video after the first admin", get(t, s, v.ID), admin, video.PrivacyPublic)
	}
	if vs, err := s.ChannelVideos(ctx, admin.ID, false, 10, video.ListPosition{}); err != nil || !slices.Equal(ids(vs), []string{old.ID}) {
		t.Fatalf("the first admin's channel = %v, %v", ids(vs), err)
	}
	// Later admins adopt nothing: a video without an owner now is one the
	// operator meant so.
	later := ready(t, s, draft{title: "Imported without an owner"})
	NewUser(t, s, "second", auth.RoleAdmin)
	wantOwner(t, "a video after a second admin", get(t, s, later.ID), account.User{}, video.PrivacyPublic)
}

// A user promoted to admin when there is none is the first admin too.
func testPromotedFirstAdminAdopts(t *testing.T, s Store) {
	ctx := ctxFor(t)
	old := ready(t, s, draft{title: "From before accounts"})
	u := NewUser(t, s, "promoted", auth.RoleUser)
	admin := auth.RoleAdmin
	got, err := s.UpdateUser(ctx, u.ID, account.Change{Role: &admin})
	if err != nil || got.Role != auth.RoleAdmin {
		t.Fatalf("UpdateUser to admin = %+v, %v", got, err)
	}
	wantOwner(t, "a video after a promotion to the first admin", get(t, s, old.ID), got, video.PrivacyPublic)
	later := ready(t, s, draft{title: "Imported without an owner"})
	other := NewUser(t, s, "other", auth.RoleUser)
	if _, err := s.UpdateUser(ctx, other.ID, account.Change{Role: &admin}); err != nil {
		t.Fatalf("UpdateUser to admin: %v", err)
	}
	wantOwner(t, "a video after a promotion to a second admin", get(t, s, later.ID), account.User{}, video.PrivacyPublic)
}

// Admins made at once: exactly one of them is the first.
func testConcurrentFirstAdmins(t *testing.T, s Store) {
	ctx := ctxFor(t)
	var old []video.Video
	for i := range 3 {
		old = append(old, ready(t, s, draft{title: fmt.Sprintf("Old %d", i)}))
	}
	errs := concurrently(8, func(i int) error {
		_, err := s.CreateUser(ctx, account.User{Username: fmt.Sprintf("admin%d", i), Role: auth.RoleAdmin}, "h")
		return err
	})
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent CreateUser: %v", err)
		}
	}
	owner := get(t, s, old[0].ID).OwnerID
	if owner == "" {
		t.Fatal("no admin adopted the old videos")
	}
	for _, v := range old {
		if got := get(t, s, v.ID).OwnerID; got != owner {
			t.Fatalf("old videos owned by %s and %s, want one admin", owner, got)
		}
	}
}

// LegacyTitle, LegacyDescription and LegacySize are those of the video that
// a database made before accounts holds in Upgrade.
const (
	LegacyTitle       = "Legacy Lighthouse"
	LegacyDescription = "A beacon on the cliffs"
	LegacySize        = 10 << 20
)

// Upgrade is the contract of a database made before accounts and migrated
// in place. legacy makes a database with the schema of that time (as on
// commit 0a97faf) holding one READY video with LegacyTitle,
// LegacyDescription and LegacySize, written by that schema's SQL; then it
// migrates the database to the current schema and returns a store on it
// with the video's id. The video must be there as it was, public and
// without an owner, searched as before, until the first admin adopts it.
func Upgrade(t *testing.T, legacy func(t *testing.T) (Store, string)) {
	s, id := legacy(t)
	ctx := ctxFor(t)
	v := wantState(t, s, id, video.StateReady)
	if v.Title != LegacyTitle || v.Description != LegacyDescription || v.SizeBytes != LegacySize {
		t.Fatalf("the legacy video after the upgrade = %+v", v)
	}
	wantOwner(t, "the legacy video after the upgrade", v, account.User{}, video.PrivacyPublic)
	if vs, err := s.LatestVideos(ctx, 10, video.ListPosition{}); err != nil || !slices.Equal(ids(vs), []string{id}) {
		t.Fatalf("LatestVideos after the upgrade = %v, %v", ids(vs), err)
	}
	wantFound(t, s, "lighthouse", LegacyTitle)
	wantFound(t, s, "beacn", LegacyTitle) // the vocabulary is the one from before
	if got, err := s.Suggest(ctx, "light", 10); err != nil || !slices.Equal(got, []string{LegacyTitle}) {
		t.Fatalf("Suggest after the upgrade = %q, %v", got, err)
	}
	// What is new works on the old rows.
	private, public := video.PrivacyPrivate, video.PrivacyPublic
	if _, err := s.UpdateVideo(ctx, id, video.Change{Privacy: &private}); err != nil {
		t.Fatalf("UpdateVideo: %v", err)
	}
	wantFound(t, s, "lighthouse")
	wantFound(t, s, "beacn")
	if _, err := s.UpdateVideo(ctx, id, video.Change{Privacy: &public}); err != nil {
		t.Fatalf("UpdateVideo: %v", err)
	}
	wantFound(t, s, "beacn", LegacyTitle)

	NewUser(t, s, "plain", auth.RoleUser)
	wantOwner(t, "the legacy video after a user signs up", get(t, s, id), account.User{}, video.PrivacyPublic)
	admin := NewUser(t, s, "admin1", auth.RoleAdmin)
	wantOwner(t, "the legacy video after the first admin", get(t, s, id), admin, video.PrivacyPublic)
	if vs, err := s.ChannelVideos(ctx, admin.ID, false, 10, video.ListPosition{}); err != nil || !slices.Equal(ids(vs), []string{id}) {
		t.Fatalf("the first admin's channel = %v, %v", ids(vs), err)
	}
	if stored, _, err := s.UploadUsage(ctx, admin.ID, time.Now().Add(-24*time.Hour)); err != nil || stored != LegacySize {
		t.Fatalf("the first admin's storage = %d, %v; want %d", stored, err, LegacySize)
	}
}
