package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/video"
)

// testPlayable: a processing video becomes playable as its encode
// publishes, only ever further within one claim, by its lease holder only,
// and starts again from nothing with the next claim.
func testPlayable(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := uploaded(t, s, draft{title: "Watch me early"})
	if got := get(t, s, v.ID); got.Playable() || got.PlayableSeconds != 0 {
		t.Fatalf("uploaded video is playable: %+v", got)
	}
	if _, err := s.ClaimEncode(ctx, v.ID, "w1", time.Millisecond); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	if got := get(t, s, v.ID); got.Playable() {
		t.Fatalf("claimed video is playable before anything is published: %+v", got)
	}
	if err := s.SetPlayable(ctx, v.ID, "w1", 4, 30.5); err != nil {
		t.Fatalf("SetPlayable: %v", err)
	}
	got := get(t, s, v.ID)
	if !got.Playable() || got.PlayableSeconds != 4 || got.DurationSeconds != 30.5 || got.State != video.StateProcessing {
		t.Fatalf("after SetPlayable(4 of 30.5): %+v", got)
	}
	// A late, smaller figure does not shrink what players were told.
	if err := s.SetPlayable(ctx, v.ID, "w1", 2, 30.5); err != nil {
		t.Fatalf("SetPlayable(2): %v", err)
	}
	if got := get(t, s, v.ID); got.PlayableSeconds != 4 {
		t.Fatalf("PlayableSeconds went back to %v, want 4", got.PlayableSeconds)
	}
	wantErr(t, "SetPlayable by another worker", s.SetPlayable(ctx, v.ID, "w2", 8, 30.5), video.ErrLeaseLost)
	wantErr(t, "SetPlayable of a malformed id", s.SetPlayable(ctx, "not-an-id", "w1", 8, 30.5), video.ErrLeaseLost)

	// w1's lease ran out: w2's claim publishes files of its own, and the
	// video is not playable again until w2 has published some.
	var c video.Claim
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		if c, err = s.ClaimEncode(ctx, v.ID, "w2", longLease); err == nil {
			break
		}
		if !errors.Is(err, video.ErrWrongState) || time.Now().After(deadline) {
			t.Fatalf("ClaimEncode after the lease ran out: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if c.Video.Playable() || c.Video.PlayableSeconds != 0 {
		t.Fatalf("takeover claim = %+v, want nothing playable", c.Video)
	}
	wantErr(t, "SetPlayable by the old holder", s.SetPlayable(ctx, v.ID, "w1", 8, 30.5), video.ErrLeaseLost)
	if err := s.SetPlayable(ctx, v.ID, "w2", 2, 30.5); err != nil {
		t.Fatalf("SetPlayable by the new holder: %v", err)
	}
	if got := get(t, s, v.ID); got.PlayableSeconds != 2 {
		t.Fatalf("PlayableSeconds = %v after the new holder's 2", got.PlayableSeconds)
	}
	r, err := s.MarkReady(ctx, v.ID, "w2", testEncoded)
	if err != nil {
		t.Fatalf("MarkReady: %v", err)
	}
	if !r.Playable() {
		t.Fatalf("ready video is not playable: %+v", r)
	}
	wantErr(t, "SetPlayable after MarkReady", s.SetPlayable(ctx, v.ID, "w2", 30, 30.5), video.ErrLeaseLost)
}
