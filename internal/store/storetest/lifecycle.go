package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudflix/cloudflix/internal/video"
)

func testPing(t *testing.T, s Store) {
	if err := s.Ping(ctxFor(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

func testCreateAndRead(t *testing.T, s Store) {
	ctx := ctxFor(t)
	before := time.Now().Add(-time.Minute)
	v := create(t, s, draft{title: "Hello", description: "First upload", tags: []string{"intro", "demo"}})

	got := wantState(t, s, v.ID, video.StateUploading)
	if got.ID != v.ID || got.Title != "Hello" || got.Description != "First upload" ||
		!slices.Equal(got.Tags, []string{"intro", "demo"}) ||
		got.SizeBytes != v.SizeBytes || got.ContentType != "video/mp4" ||
		got.Views != 0 || got.Progress != 0 || len(got.Renditions) != 0 {
		t.Fatalf("Video = %+v, want what was created: %+v", got, v)
	}
	if got.CreatedAt.Before(before) || got.UpdatedAt.Before(got.CreatedAt) {
		t.Fatalf("CreatedAt %v, UpdatedAt %v: want set at creation", got.CreatedAt, got.UpdatedAt)
	}

	u, err := s.UploadSession(ctx, v.ID)
	if err != nil {
		t.Fatalf("UploadSession: %v", err)
	}
	if u.VideoID != v.ID || u.UploadID != "upload-"+v.ID || u.ObjectKey != video.SourceKey(v.ID) ||
		u.SizeBytes != v.SizeBytes || u.PartSize != 5<<20 || u.PartCount() != 2 {
		t.Fatalf("UploadSession = %+v", u)
	}
	if d := time.Until(u.ExpiresAt); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("UploadSession.ExpiresAt = %v, want an hour from now", u.ExpiresAt)
	}

	// A given CreatedAt is kept (imports, and the latest-list tests).
	at := time.Date(2024, 5, 17, 10, 30, 0, 0, time.UTC)
	old := create(t, s, draft{title: "Old", createdAt: at})
	if got := get(t, s, old.ID); !got.CreatedAt.Equal(at) {
		t.Fatalf("CreatedAt = %v, want %v", got.CreatedAt, at)
	}

	// The same id twice is refused, and the first video is untouched.
	dup := video.Video{ID: v.ID, Title: "Other"}
	if err := s.CreateVideo(ctx, dup, video.UploadSession{VideoID: v.ID, UploadID: "x", ObjectKey: "x", ExpiresAt: time.Now()}); err == nil {
		t.Fatal("CreateVideo with an existing id succeeded")
	}
	if got := get(t, s, v.ID); got.Title != "Hello" {
		t.Fatalf("title after refused duplicate = %q", got.Title)
	}
	// An id that is not a UUID is bad input, not a server error.
	bad := video.Video{ID: "not-a-uuid", Title: "Bad"}
	if err := s.CreateVideo(ctx, bad, video.UploadSession{VideoID: bad.ID, ExpiresAt: time.Now()}); !video.IsInvalid(err) {
		t.Fatalf("CreateVideo with id %q: got %v, want an invalid-input error", bad.ID, err)
	}
}

func testUnknownAndMalformedIDs(t *testing.T, s Store) {
	ctx := ctxFor(t)
	for _, id := range []string{uuid.NewString(), "not-a-uuid", "", "'; DROP TABLE videos; --", "6F9619FF-8B86-D011-B42D-00CF4FC964FF"} {
		_, err := s.Video(ctx, id)
		wantErr(t, fmt.Sprintf("Video(%q)", id), err, video.ErrNotFound)
		_, err = s.UploadSession(ctx, id)
		wantErr(t, fmt.Sprintf("UploadSession(%q)", id), err, video.ErrNotFound)
		_, err = s.MarkUploaded(ctx, id)
		wantErr(t, fmt.Sprintf("MarkUploaded(%q)", id), err, video.ErrNotFound)
		_, err = s.DeleteVideo(ctx, id)
		wantErr(t, fmt.Sprintf("DeleteVideo(%q)", id), err, video.ErrNotFound)
		_, err = s.ClaimEncode(ctx, id, "w1", longLease)
		wantErr(t, fmt.Sprintf("ClaimEncode(%q)", id), err, video.ErrNotFound)
		_, err = s.Reencode(ctx, id)
		wantErr(t, fmt.Sprintf("Reencode(%q)", id), err, video.ErrNotFound)
		wantErr(t, fmt.Sprintf("RenewLease(%q)", id), s.RenewLease(ctx, id, "w1", longLease), video.ErrLeaseLost)
		wantErr(t, fmt.Sprintf("SetProgress(%q)", id), s.SetProgress(ctx, id, "w1", 0.5), video.ErrLeaseLost)
		_, err = s.MarkReady(ctx, id, "w1", testEncoded)
		wantErr(t, fmt.Sprintf("MarkReady(%q)", id), err, video.ErrLeaseLost)
		_, err = s.MarkFailed(ctx, id, "w1", "x")
		wantErr(t, fmt.Sprintf("MarkFailed(%q)", id), err, video.ErrLeaseLost)
		wantErr(t, fmt.Sprintf("ReleaseEncode(%q)", id), s.ReleaseEncode(ctx, id, "w1", 0), video.ErrLeaseLost)
	}
	// The store still works after all that.
	v := create(t, s, draft{title: "Still fine"})
	wantState(t, s, v.ID, video.StateUploading)
}

func testDeleteVideo(t *testing.T, s Store) {
	ctx := ctxFor(t)
	up := create(t, s, draft{title: "Half uploaded"})
	was, err := s.DeleteVideo(ctx, up.ID)
	if err != nil {
		t.Fatalf("DeleteVideo: %v", err)
	}
	if was.State != video.StateUploading || was.ID != up.ID || was.Title != "Half uploaded" {
		t.Fatalf("DeleteVideo returned %+v, want the video as it was", was)
	}
	_, err = s.Video(ctx, up.ID)
	wantErr(t, "Video after delete", err, video.ErrNotFound)
	_, err = s.UploadSession(ctx, up.ID)
	wantErr(t, "UploadSession after delete", err, video.ErrNotFound)
	_, err = s.DeleteVideo(ctx, up.ID)
	wantErr(t, "second DeleteVideo", err, video.ErrNotFound)
	_, err = s.MarkUploaded(ctx, up.ID)
	wantErr(t, "MarkUploaded after delete", err, video.ErrNotFound)
	_, err = s.Reencode(ctx, up.ID)
	wantErr(t, "Reencode after delete", err, video.ErrNotFound)

	// A job already queued for a deleted video finds nothing to encode.
	queued := uploaded(t, s, draft{title: "Queued"})
	if _, err := s.DeleteVideo(ctx, queued.ID); err != nil {
		t.Fatalf("DeleteVideo: %v", err)
	}
	_, err = s.ClaimEncode(ctx, queued.ID, "w1", longLease)
	wantErr(t, "ClaimEncode after delete", err, video.ErrWrongState)
	if n := len(outboxFor(t, s, queued.ID)); n != 0 {
		t.Fatalf("outbox holds %d unsent jobs for a deleted video, want 0", n)
	}

	// A worker encoding a deleted video loses its lease.
	busy := uploaded(t, s, draft{title: "Busy"})
	if _, err := s.ClaimEncode(ctx, busy.ID, "w1", longLease); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	if was, err := s.DeleteVideo(ctx, busy.ID); err != nil || was.State != video.StateProcessing {
		t.Fatalf("DeleteVideo = %+v, %v", was, err)
	}
	wantErr(t, "RenewLease after delete", s.RenewLease(ctx, busy.ID, "w1", longLease), video.ErrLeaseLost)
	_, err = s.MarkReady(ctx, busy.ID, "w1", testEncoded)
	wantErr(t, "MarkReady after delete", err, video.ErrLeaseLost)

	// A deleted ready video leaves every list.
	r := ready(t, s, draft{title: "Gone soon", description: "ephemeral"})
	if was, err := s.DeleteVideo(ctx, r.ID); err != nil || was.State != video.StateReady {
		t.Fatalf("DeleteVideo = %+v, %v", was, err)
	}
	if vs, err := s.LatestVideos(ctx, 10, video.ListPosition{}); err != nil || len(vs) != 0 {
		t.Fatalf("LatestVideos after deleting the only ready video = %v, %v", vs, err)
	}
	if hits, err := s.Search(ctx, "ephemeral", 10, 0); err != nil || len(hits) != 0 {
		t.Fatalf("Search for a deleted video = %v, %v", hits, err)
	}
}
