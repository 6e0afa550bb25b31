package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudflix/cloudflix/internal/video"
)

func testCaptions(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := Ready(t, s, "Captioned")
	before := time.Now().Add(-time.Minute)

	if got, err := s.Captions(ctx, v.ID); err != nil || len(got) != 0 {
		t.Fatalf("Captions of a video without = %+v, %v; want none", got, err)
	}
	for _, c := range []video.Caption{
		{Language: "pt-BR", Label: "Português (Brasil)", SizeBytes: 300},
		{Language: "en", Label: "English", SizeBytes: 100},
	} {
		got, err := s.PutCaption(ctx, v.ID, c)
		if err != nil || got.Language != c.Language || got.Label != c.Label || got.SizeBytes != c.SizeBytes || got.UpdatedAt.Before(before) {
			t.Fatalf("PutCaption(%+v) = %+v, %v", c, got, err)
		}
	}
	// Replacing keeps one row per language, with the new label and size.
	replaced, err := s.PutCaption(ctx, v.ID, video.Caption{Language: "en", Label: "English (CC)", SizeBytes: 120})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Captions(ctx, v.ID)
	if err != nil || len(got) != 2 {
		t.Fatalf("Captions = %+v, %v; want 2", got, err)
	}
	if got[0].Language != "en" || got[0].Label != "English (CC)" || got[0].SizeBytes != 120 || !got[0].UpdatedAt.Equal(replaced.UpdatedAt) ||
		got[1].Language != "pt-BR" || got[1].SizeBytes != 300 {
		t.Fatalf("Captions = %+v; want en (replaced) then pt-BR", got)
	}

	if err := s.DeleteCaption(ctx, v.ID, "en"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "deleting captions again", s.DeleteCaption(ctx, v.ID, "en"), video.ErrNotFound)
	wantErr(t, "deleting a language without captions", s.DeleteCaption(ctx, v.ID, "fr"), video.ErrNotFound)
	if got, err := s.Captions(ctx, v.ID); err != nil || len(got) != 1 || got[0].Language != "pt-BR" {
		t.Fatalf("Captions after a delete = %+v, %v; want pt-BR alone", got, err)
	}

	// Another video's captions are its own.
	other := Ready(t, s, "Other")
	if got, err := s.Captions(ctx, other.ID); err != nil || len(got) != 0 {
		t.Fatalf("Captions of another video = %+v, %v; want none", got, err)
	}
}

func testCaptionsRefused(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := Ready(t, s, "Refusing")
	for _, c := range []video.Caption{
		{Language: "EN", Label: "English"},      // not canonical
		{Language: "english", Label: "English"}, // not a tag
		{Language: "en", Label: `Say "hi"`},     // a quote in the label
		{Language: "en", Label: " English"},     // untrimmed
		{Language: "en", Label: "English", SizeBytes: -1},
	} {
		_, err := s.PutCaption(ctx, v.ID, c)
		if !video.IsInvalid(err) {
			t.Errorf("PutCaption(%+v) = %v; want invalid", c, err)
		}
	}
	good := video.Caption{Language: "en", Label: "English", SizeBytes: 1}
	for _, id := range []string{"", "not-a-uuid", uuid.NewString()} {
		_, err := s.PutCaption(ctx, id, good)
		wantErr(t, fmt.Sprintf("captions of video %q", id), err, video.ErrNotFound)
		wantErr(t, fmt.Sprintf("deleting captions of video %q", id), s.DeleteCaption(ctx, id, "en"), video.ErrNotFound)
		if got, err := s.Captions(ctx, id); err != nil || len(got) != 0 {
			t.Fatalf("Captions of video %q = %+v, %v; want none", id, got, err)
		}
	}
	if _, err := s.PutCaption(ctx, v.ID, good); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteVideo(ctx, v.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.PutCaption(ctx, v.ID, good)
	wantErr(t, "captions of a deleted video", err, video.ErrNotFound)
	if got, err := s.Captions(ctx, v.ID); err != nil || len(got) != 0 {
		t.Fatalf("Captions of a deleted video = %+v, %v; want none", got, err)
	}
}

// testConcurrentCaptionLimit races new languages for a video's last free
// places: exactly as many win as there are places.
func testConcurrentCaptionLimit(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := Ready(t, s, "Many languages")
	const free, racers = 3, 12
	for i := range video.MaxCaptions - free {
		if _, err := s.PutCaption(ctx, v.ID, video.Caption{Language: fmt.Sprintf("en-x-%d", i), Label: "English"}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, racers)
	for i := range racers {
		wg.Go(func() {
			_, errs[i] = s.PutCaption(ctx, v.ID, video.Caption{Language: fmt.Sprintf("fr-x-%d", i), Label: "Français"})
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !video.IsInvalid(err):
			t.Fatalf("a racer got %v; want success or a refusal", err)
		}
	}
	got, err := s.Captions(ctx, v.ID)
	if err != nil || won != free || len(got) != video.MaxCaptions {
		t.Fatalf("%d racers won and the video has %d captions (%v); want %d and %d", won, len(got), err, free, video.MaxCaptions)
	}
	// A language it has already may still be replaced when full.
	if _, err := s.PutCaption(ctx, v.ID, video.Caption{Language: "en-x-0", Label: "English again"}); err != nil {
		t.Fatalf("replacing captions of a full video: %v", err)
	}
}
