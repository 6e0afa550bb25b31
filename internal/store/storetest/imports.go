package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/video"
)

// imported is a ready video as a catalogue import brings it.
func imported(title, description string, tags []string, owner string, privacy video.Privacy, createdAt time.Time) video.Video {
	return video.Video{
		ID:              uuid.NewString(),
		OwnerID:         owner,
		Privacy:         privacy,
		Title:           title,
		Description:     description,
		Tags:            tags,
		DurationSeconds: testEncoded.DurationSeconds,
		Width:           testEncoded.Width,
		Height:          testEncoded.Height,
		Renditions:      testEncoded.Renditions,
		Views:           7,
		SizeBytes:       1 << 20,
		ContentType:     "video/mp4",
		CreatedAt:       createdAt,
	}
}

func testImportVideos(t *testing.T, s Store) {
	ctx := ctxFor(t)
	alice := NewUser(t, s, "alice", auth.RoleUser)
	base := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	batch := []video.Video{
		imported("Glacier Walk", "Ice and snow on the ridge.", []string{"hiking"}, alice.ID, video.PrivacyPublic, base),
		imported("Harbour Lights", "Boats at dusk.", nil, "", "", base.Add(time.Minute)),
		imported("Secret Recipe", "Only for me.", []string{"cooking"}, alice.ID, video.PrivacyPrivate, base.Add(2*time.Minute)),
		imported("Unlisted Orchard", "Apples.", nil, alice.ID, video.PrivacyUnlisted, time.Time{}),
	}
	if err := s.ImportVideos(ctx, batch); err != nil {
		t.Fatalf("ImportVideos: %v", err)
	}
	for _, want := range batch {
		got := get(t, s, want.ID)
		if got.State != video.StateReady || got.Progress != 1 || got.Title != want.Title ||
			got.OwnerID != want.OwnerID || got.Views != 7 || got.Width != 1280 ||
			!slices.Equal(got.Renditions, testEncoded.Renditions) {
			t.Fatalf("imported video reads %+v, want it ready as imported: %+v", got, want)
		}
		if !want.CreatedAt.IsZero() && !got.CreatedAt.Equal(want.CreatedAt) {
			t.Fatalf("imported video created at %v, want %v", got.CreatedAt, want.CreatedAt)
		}
		if want.CreatedAt.IsZero() && time.Since(got.CreatedAt) > time.Minute {
			t.Fatalf("imported video without a time created at %v, want the import's", got.CreatedAt)
		}
	}
	if p := get(t, s, batch[1].ID).Privacy; p != video.PrivacyPublic {
		t.Fatalf("imported video without a privacy is %s, want public", p)
	}

	// Public ones are searched, suggested, corrected to and listed; the
	// others are not.
	wantFound(t, s, "glacier", "Glacier Walk")
	wantFound(t, s, "glaceir", "Glacier Walk")
	wantFound(t, s, "hiking", "Glacier Walk")
	wantFound(t, s, "harb", "Harbour Lights")
	wantFound(t, s, "recipe")
	wantFound(t, s, "orchard")
	if got, err := s.Suggest(ctx, "gla", 10); err != nil || !slices.Equal(got, []string{"Glacier Walk"}) {
		t.Fatalf("Suggest(gla) = %q, %v", got, err)
	}
	latest, err := s.LatestVideos(ctx, 10, video.ListPosition{})
	if err != nil {
		t.Fatalf("LatestVideos: %v", err)
	}
	if want := []string{batch[1].ID, batch[0].ID}; !slices.Equal(ids(latest), want) {
		t.Fatalf("LatestVideos = %v, want the public imports newest first %v", ids(latest), want)
	}
	// Imported videos are what their owner stores.
	if stored, _, err := s.UploadUsage(ctx, alice.ID, base); err != nil || stored != 3<<20 {
		t.Fatalf("UploadUsage = %d, %v; want the three imported videos' sizes", stored, err)
	}

	// A batch with a bad video imports nothing.
	fresh := imported("Fresh Meadow", "", nil, "", "", time.Time{})
	for name, bad := range map[string][]video.Video{
		"an existing id":     {fresh, batch[0]},
		"an id twice":        {fresh, fresh},
		"an unknown owner":   {fresh, imported("Nobody's", "", nil, uuid.NewString(), "", time.Time{})},
		"a malformed id":     {fresh, {ID: "not-a-uuid", Title: "Bad"}},
		"a malformed owner":  {fresh, imported("Bad Owner", "", nil, "someone", "", time.Time{})},
		"an unknown privacy": {fresh, imported("Bad Privacy", "", nil, "", "secret", time.Time{})},
	} {
		if err := s.ImportVideos(ctx, bad); !video.IsInvalid(err) {
			t.Fatalf("ImportVideos with %s: %v, want invalid input", name, err)
		}
	}
	wantFound(t, s, "meadow")
	if _, err := s.Video(ctx, fresh.ID); err == nil {
		t.Fatal("a video of a refused batch was imported")
	}
	if err := s.ImportVideos(ctx, nil); err != nil {
		t.Fatalf("ImportVideos of nothing: %v", err)
	}

	// Imported words are counted like uploaded ones: when the last video
	// using a word leaves search, typos are no longer corrected to it.
	if _, err := s.DeleteVideo(ctx, batch[0].ID); err != nil {
		t.Fatalf("DeleteVideo: %v", err)
	}
	wantFound(t, s, "glaceir")
}
