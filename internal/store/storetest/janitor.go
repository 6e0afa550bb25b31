package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/video"
)

func testTakeLease(t *testing.T, s Store) {
	ctx := ctxFor(t)
	take := func(name, holder string, ttl time.Duration) bool {
		t.Helper()
		ok, err := s.TakeLease(ctx, name, holder, ttl)
		if err != nil {
			t.Fatalf("TakeLease(%s, %s): %v", name, holder, err)
		}
		return ok
	}
	if !take("janitor", "a", time.Hour) {
		t.Fatal("a free lease was refused")
	}
	if take("janitor", "b", time.Hour) {
		t.Fatal("b took a lease a holds")
	}
	if !take("janitor", "a", time.Hour) {
		t.Fatal("a could not renew its own lease")
	}
	if !take("other work", "b", time.Hour) {
		t.Fatal("a lease of another name was refused")
	}
	// A lease that runs out is free for another, and lost to its holder.
	if !take("short", "a", 50*time.Millisecond) {
		t.Fatal("a free lease was refused")
	}
	deadline := time.Now().Add(10 * time.Second)
	for !take("short", "b", time.Hour) {
		if time.Now().After(deadline) {
			t.Fatal("a lease of 50ms was still held 10s later")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if take("short", "a", time.Hour) {
		t.Fatal("a took back a lease b took over")
	}
	// Holders race for a free lease: one wins.
	errs := concurrently(8, func(i int) error {
		ok, err := s.TakeLease(ctx, "raced", fmt.Sprint("holder-", i), time.Hour)
		if err == nil && !ok {
			err = errLeaseHeld
		}
		return err
	})
	exactlyOne(t, "holders racing for a free lease", errs, errLeaseHeld)
}

var errLeaseHeld = errors.New("lease held by another")

func testExpiredUploads(t *testing.T, s Store) {
	ctx := ctxFor(t)
	if got, err := s.ExpiredUploads(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("ExpiredUploads of an empty store = %v, %v", got, err)
	}
	owner := NewUser(t, s, "uploader", auth.RoleUser)
	now := time.Now()
	var expired []video.Video
	for i, ago := range []time.Duration{time.Hour, 3 * time.Hour, 2 * time.Hour} {
		expired = append(expired, create(t, s, draft{title: fmt.Sprint("Expired ", i), owner: owner.ID, expires: now.Add(-ago)}))
	}
	create(t, s, draft{title: "Still open"})
	completed := create(t, s, draft{title: "Completed late", expires: now.Add(-4 * time.Hour)})
	if _, err := s.MarkUploaded(ctx, completed.ID); err != nil {
		t.Fatal(err)
	}
	aborted := create(t, s, draft{title: "Aborted", expires: now.Add(-4 * time.Hour)})
	if _, err := s.DeleteVideo(ctx, aborted.ID); err != nil {
		t.Fatal(err)
	}

	first, err := s.ExpiredUploads(ctx, 2)
	if err != nil {
		t.Fatalf("ExpiredUploads: %v", err)
	}
	if len(first) != 2 || first[0].VideoID != expired[1].ID || first[1].VideoID != expired[2].ID {
		t.Fatalf("ExpiredUploads(2) = %+v, want the two expired longest, longest first", first)
	}
	u := first[0]
	if u.UploadID != "upload-"+expired[1].ID || u.ObjectKey != video.SourceKey(expired[1].ID) || u.OwnerID != owner.ID ||
		u.SizeBytes != 10<<20 || u.PartSize != 5<<20 || u.ExpiresAt.After(now) {
		t.Fatalf("expired session = %+v, want it as created, with its owner", u)
	}
	all, err := s.ExpiredUploads(ctx, 10)
	if err != nil {
		t.Fatalf("ExpiredUploads: %v", err)
	}
	if len(all) != 3 || all[2].VideoID != expired[0].ID {
		t.Fatalf("ExpiredUploads(10) = %+v, want the three expired sessions and no other", all)
	}
}

func testPurgeOutbox(t *testing.T, s Store) {
	ctx := ctxFor(t)
	var sent []string
	for i := range 3 {
		sent = append(sent, uploaded(t, s, draft{title: fmt.Sprint("Sent ", i)}).ID)
	}
	drainOutbox(t, s)
	pending := uploaded(t, s, draft{title: "Not sent yet"})
	if n, err := s.PurgeOutbox(ctx, time.Hour, 10); err != nil || n != 0 {
		t.Fatalf("PurgeOutbox of jobs sent within the hour = %d, %v; want 0", n, err)
	}
	if n, err := s.PurgeOutbox(ctx, 0, 2); err != nil || n != 2 {
		t.Fatalf("PurgeOutbox(limit 2) = %d, %v; want 2", n, err)
	}
	if n, err := s.PurgeOutbox(ctx, 0, 10); err != nil || n != 1 {
		t.Fatalf("PurgeOutbox of the rest = %d, %v; want 1", n, err)
	}
	if n, err := s.PurgeOutbox(ctx, 0, 10); err != nil || n != 0 {
		t.Fatalf("PurgeOutbox with nothing sent left = %d, %v; want 0", n, err)
	}
	if jobs := outboxFor(t, s, pending.ID); len(jobs) != 1 {
		t.Fatalf("the unsent job after purging: %+v, want it pending", jobs)
	}
	// The purged jobs' videos are untouched, and a job for them is
	// written again as ever.
	for _, id := range sent {
		wantState(t, s, id, video.StateUploaded)
	}
}

func testDropFailedSources(t *testing.T, s Store) {
	ctx := ctxFor(t)
	f := failed(t, s, draft{title: "Unplayable"}, "not a video: no video stream")
	r := ready(t, s, draft{title: "Fine"})
	open := create(t, s, draft{title: "Uploading"})
	if ids, err := s.DropFailedSources(ctx, time.Hour, 10); err != nil || len(ids) != 0 {
		t.Fatalf("DropFailedSources of videos failed within the hour = %v, %v; want none", ids, err)
	}
	ids, err := s.DropFailedSources(ctx, 0, 10)
	if err != nil || len(ids) != 1 || ids[0] != f.ID {
		t.Fatalf("DropFailedSources = %v, %v; want the failed video only", ids, err)
	}
	if ids, err := s.DropFailedSources(ctx, 0, 10); err != nil || len(ids) != 0 {
		t.Fatalf("DropFailedSources again = %v, %v; want none: it was dropped already", ids, err)
	}
	got := wantState(t, s, f.ID, video.StateFailed)
	if got.FailureReason != f.FailureReason {
		t.Fatalf("failure reason after its source was dropped = %q, want %q", got.FailureReason, f.FailureReason)
	}
	_, err = s.Reencode(ctx, f.ID)
	wantErr(t, "Reencode of a video without its source", err, video.ErrWrongState)
	wantState(t, s, f.ID, video.StateFailed)
	live, err := s.LiveVideos(ctx, []string{f.ID, r.ID, open.ID})
	if err != nil {
		t.Fatalf("LiveVideos: %v", err)
	}
	if kept, ok := live[f.ID]; !ok || kept {
		t.Fatalf("LiveVideos says of the failed video %v, %v; want live, without its source", kept, ok)
	}
	if !live[r.ID] || !live[open.ID] {
		t.Fatalf("LiveVideos = %v, want the others with their sources", live)
	}
	if _, err := s.Reencode(ctx, r.ID); err != nil {
		t.Fatalf("Reencode of a ready video: %v", err)
	}
}

func testLiveVideos(t *testing.T, s Store) {
	ctx := ctxFor(t)
	r := ready(t, s, draft{title: "Ready"})
	u := uploaded(t, s, draft{title: "Uploaded"})
	gone := ready(t, s, draft{title: "Deleted"})
	if _, err := s.DeleteVideo(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}
	unknown := uuid.NewString()
	// A stray key's name may be 36 characters without being a UUID.
	stray := "0123456789abcdef0123456789abcdef0123"
	live, err := s.LiveVideos(ctx, []string{r.ID, u.ID, gone.ID, unknown, "not-an-id", stray})
	if err != nil {
		t.Fatalf("LiveVideos: %v", err)
	}
	var ids []string
	for id, kept := range live {
		ids = append(ids, id)
		if !kept {
			t.Errorf("LiveVideos says %s keeps no source", id)
		}
	}
	slices.Sort(ids)
	want := []string{r.ID, u.ID}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Fatalf("LiveVideos = %v, want exactly the ready and the uploaded video", live)
	}
	if live, err := s.LiveVideos(ctx, nil); err != nil || len(live) != 0 {
		t.Fatalf("LiveVideos(nil) = %v, %v", live, err)
	}
}
