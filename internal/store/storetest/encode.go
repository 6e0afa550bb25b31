package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/video"
)

func testEncodeLifecycle(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := create(t, s, draft{title: "Lifecycle"})

	up, err := s.MarkUploaded(ctx, v.ID)
	if err != nil {
		t.Fatalf("MarkUploaded: %v", err)
	}
	if up.State != video.StateUploaded || up.ID != v.ID {
		t.Fatalf("MarkUploaded returned %+v", up)
	}
	_, err = s.UploadSession(ctx, v.ID)
	wantErr(t, "UploadSession after MarkUploaded", err, video.ErrNotFound)
	if got := outboxFor(t, s, v.ID); len(got) != 1 {
		t.Fatalf("outbox after MarkUploaded has %d entries for the video, want 1", len(got))
	}

	c, err := s.ClaimEncode(ctx, v.ID, "w1", longLease)
	if err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	if c.Attempt != 1 || c.Video.State != video.StateProcessing || c.Video.Progress != 0 || c.Video.ID != v.ID {
		t.Fatalf("ClaimEncode = %+v, want attempt 1 of a processing video", c)
	}
	wantState(t, s, v.ID, video.StateProcessing)

	if err := s.SetProgress(ctx, v.ID, "w1", 0.5); err != nil {
		t.Fatalf("SetProgress: %v", err)
	}
	if got := get(t, s, v.ID); got.Progress != 0.5 {
		t.Fatalf("Progress = %v, want 0.5", got.Progress)
	}
	if err := s.RenewLease(ctx, v.ID, "w1", longLease); err != nil {
		t.Fatalf("RenewLease by the holder: %v", err)
	}
	// Nobody else may touch the encode.
	wantErr(t, "SetProgress by another worker", s.SetProgress(ctx, v.ID, "w2", 0.9), video.ErrLeaseLost)
	wantErr(t, "RenewLease by another worker", s.RenewLease(ctx, v.ID, "w2", longLease), video.ErrLeaseLost)
	_, err = s.MarkReady(ctx, v.ID, "w2", testEncoded)
	wantErr(t, "MarkReady by another worker", err, video.ErrLeaseLost)
	_, err = s.MarkFailed(ctx, v.ID, "w2", "nope")
	wantErr(t, "MarkFailed by another worker", err, video.ErrLeaseLost)
	wantErr(t, "ReleaseEncode by another worker", s.ReleaseEncode(ctx, v.ID, "w2", 0), video.ErrLeaseLost)
	if got := get(t, s, v.ID); got.Progress != 0.5 || got.State != video.StateProcessing {
		t.Fatalf("after refused writes: %+v", got)
	}

	r, err := s.MarkReady(ctx, v.ID, "w1", testEncoded)
	if err != nil {
		t.Fatalf("MarkReady: %v", err)
	}
	got := wantState(t, s, v.ID, video.StateReady)
	for _, x := range []video.Video{r, got} {
		if x.Progress != 1 || x.DurationSeconds != 12.5 || x.Width != 1280 || x.Height != 720 ||
			!reflect.DeepEqual(x.Renditions, testEncoded.Renditions) {
			t.Fatalf("ready video = %+v, want the encode's facts and progress 1", x)
		}
	}
	if got.UpdatedAt.Before(got.CreatedAt) {
		t.Fatalf("UpdatedAt %v before CreatedAt %v", got.UpdatedAt, got.CreatedAt)
	}
	// The lease ended with the encode.
	wantErr(t, "SetProgress after MarkReady", s.SetProgress(ctx, v.ID, "w1", 0.1), video.ErrLeaseLost)
	wantErr(t, "RenewLease after MarkReady", s.RenewLease(ctx, v.ID, "w1", longLease), video.ErrLeaseLost)
	_, err = s.MarkReady(ctx, v.ID, "w1", testEncoded)
	wantErr(t, "second MarkReady", err, video.ErrLeaseLost)
}

func testNoMovingBackwards(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := create(t, s, draft{title: "Forward only"})

	// Not uploaded yet: nothing to encode or re-encode.
	_, err := s.ClaimEncode(ctx, v.ID, "w1", longLease)
	wantErr(t, "ClaimEncode while uploading", err, video.ErrWrongState)
	_, err = s.Reencode(ctx, v.ID)
	wantErr(t, "Reencode while uploading", err, video.ErrWrongState)

	if _, err := s.MarkUploaded(ctx, v.ID); err != nil {
		t.Fatalf("MarkUploaded: %v", err)
	}
	_, err = s.MarkUploaded(ctx, v.ID)
	wantErr(t, "repeated MarkUploaded", err, video.ErrWrongState)
	_, err = s.Reencode(ctx, v.ID)
	wantErr(t, "Reencode while uploaded", err, video.ErrWrongState)

	if _, err := s.ClaimEncode(ctx, v.ID, "w1", longLease); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	_, err = s.ClaimEncode(ctx, v.ID, "w2", longLease)
	wantErr(t, "second ClaimEncode under a live lease", err, video.ErrWrongState)
	_, err = s.ClaimEncode(ctx, v.ID, "w1", longLease)
	wantErr(t, "ClaimEncode again by the holder", err, video.ErrWrongState)
	_, err = s.MarkUploaded(ctx, v.ID)
	wantErr(t, "MarkUploaded while processing", err, video.ErrWrongState)
	_, err = s.Reencode(ctx, v.ID)
	wantErr(t, "Reencode while processing", err, video.ErrWrongState)

	if _, err := s.MarkReady(ctx, v.ID, "w1", testEncoded); err != nil {
		t.Fatalf("MarkReady: %v", err)
	}
	_, err = s.MarkUploaded(ctx, v.ID)
	wantErr(t, "MarkUploaded when ready", err, video.ErrWrongState)
	_, err = s.ClaimEncode(ctx, v.ID, "w3", longLease)
	wantErr(t, "ClaimEncode when ready", err, video.ErrWrongState)
	_, err = s.MarkFailed(ctx, v.ID, "w1", "late failure")
	wantErr(t, "MarkFailed when ready", err, video.ErrLeaseLost)
	wantState(t, s, v.ID, video.StateReady)
}

func testFailAndReencode(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := uploaded(t, s, draft{title: "Broken"})
	drainOutbox(t, s)
	if _, err := s.ClaimEncode(ctx, v.ID, "w1", longLease); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	f, err := s.MarkFailed(ctx, v.ID, "w1", "not a video: no video stream")
	if err != nil {
		t.Fatalf("MarkFailed: %v", err)
	}
	got := wantState(t, s, v.ID, video.StateFailed)
	if f.FailureReason != "not a video: no video stream" || got.FailureReason != f.FailureReason {
		t.Fatalf("FailureReason = %q / %q", f.FailureReason, got.FailureReason)
	}
	_, err = s.ClaimEncode(ctx, v.ID, "w2", longLease)
	wantErr(t, "ClaimEncode when failed", err, video.ErrWrongState)
	wantErr(t, "SetProgress when failed", s.SetProgress(ctx, v.ID, "w1", 0.2), video.ErrLeaseLost)

	r, err := s.Reencode(ctx, v.ID)
	if err != nil {
		t.Fatalf("Reencode failed video: %v", err)
	}
	if r.State != video.StateUploaded || r.FailureReason != "" {
		t.Fatalf("Reencode returned %+v, want uploaded without a failure reason", r)
	}
	if got := wantState(t, s, v.ID, video.StateUploaded); got.FailureReason != "" {
		t.Fatalf("FailureReason after Reencode = %q", got.FailureReason)
	}
	if n := len(outboxFor(t, s, v.ID)); n != 1 {
		t.Fatalf("outbox after Reencode has %d entries for the video, want 1", n)
	}
	_, err = s.Reencode(ctx, v.ID)
	wantErr(t, "repeated Reencode", err, video.ErrWrongState)
	c, err := s.ClaimEncode(ctx, v.ID, "w2", longLease)
	if err != nil {
		t.Fatalf("ClaimEncode after Reencode: %v", err)
	}
	if c.Attempt != 1 {
		t.Fatalf("Attempt after Reencode = %d, want 1 (attempts start over)", c.Attempt)
	}

	// A ready video may be re-encoded too.
	if _, err := s.MarkReady(ctx, v.ID, "w2", testEncoded); err != nil {
		t.Fatalf("MarkReady: %v", err)
	}
	if _, err := s.Reencode(ctx, v.ID); err != nil {
		t.Fatalf("Reencode ready video: %v", err)
	}
	wantState(t, s, v.ID, video.StateUploaded)
}

func testLeaseTakeover(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := uploaded(t, s, draft{title: "Crashy worker"})
	if _, err := s.ClaimEncode(ctx, v.ID, "w1", time.Millisecond); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	// Once w1's lease has run out, w2 takes the encode over.
	var c video.Claim
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		c, err = s.ClaimEncode(ctx, v.ID, "w2", longLease)
		if err == nil {
			break
		}
		if !errors.Is(err, video.ErrWrongState) || time.Now().After(deadline) {
			t.Fatalf("ClaimEncode after the lease ran out: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if c.Attempt != 2 || c.Video.State != video.StateProcessing || c.Video.Progress != 0 {
		t.Fatalf("takeover claim = %+v, want attempt 2 from progress 0", c)
	}
	// w1 has lost the encode, whatever it tries.
	wantErr(t, "RenewLease by the old holder", s.RenewLease(ctx, v.ID, "w1", longLease), video.ErrLeaseLost)
	wantErr(t, "SetProgress by the old holder", s.SetProgress(ctx, v.ID, "w1", 0.7), video.ErrLeaseLost)
	_, err := s.MarkReady(ctx, v.ID, "w1", testEncoded)
	wantErr(t, "MarkReady by the old holder", err, video.ErrLeaseLost)
	// w2's lease is live: nobody takes it from w2.
	_, err = s.ClaimEncode(ctx, v.ID, "w3", longLease)
	wantErr(t, "ClaimEncode under w2's live lease", err, video.ErrWrongState)
	if _, err := s.MarkReady(ctx, v.ID, "w2", testEncoded); err != nil {
		t.Fatalf("MarkReady by the new holder: %v", err)
	}
	wantState(t, s, v.ID, video.StateReady)
}

func testReleaseEncode(t *testing.T, s Store) {
	ctx := ctxFor(t)
	later := uploaded(t, s, draft{title: "Retry later"})
	now := uploaded(t, s, draft{title: "Retry now"})
	drainOutbox(t, s)
	for _, v := range []video.Video{later, now} {
		if _, err := s.ClaimEncode(ctx, v.ID, "w1", longLease); err != nil {
			t.Fatalf("ClaimEncode: %v", err)
		}
		if err := s.SetProgress(ctx, v.ID, "w1", 0.4); err != nil {
			t.Fatalf("SetProgress: %v", err)
		}
	}
	wantErr(t, "ReleaseEncode by another worker", s.ReleaseEncode(ctx, later.ID, "w2", 0), video.ErrLeaseLost)

	if err := s.ReleaseEncode(ctx, later.ID, "w1", time.Hour); err != nil {
		t.Fatalf("ReleaseEncode: %v", err)
	}
	if err := s.ReleaseEncode(ctx, now.ID, "w1", 0); err != nil {
		t.Fatalf("ReleaseEncode: %v", err)
	}
	wantState(t, s, later.ID, video.StateUploaded)
	wantState(t, s, now.ID, video.StateUploaded)
	wantErr(t, "SetProgress after release", s.SetProgress(ctx, now.ID, "w1", 0.5), video.ErrLeaseLost)
	wantErr(t, "repeated ReleaseEncode", s.ReleaseEncode(ctx, now.ID, "w1", 0), video.ErrLeaseLost)

	// The job for `later` is written but not due for an hour.
	if n := len(outboxFor(t, s, later.ID)); n != 0 {
		t.Fatalf("outbox holds %d due entries for a release with retryAfter=1h, want 0", n)
	}
	if n := len(outboxFor(t, s, now.ID)); n != 1 {
		t.Fatalf("outbox holds %d due entries for a release with retryAfter=0, want 1", n)
	}
	// The released encode can be claimed again, as a second attempt.
	c, err := s.ClaimEncode(ctx, now.ID, "w2", longLease)
	if err != nil {
		t.Fatalf("ClaimEncode after release: %v", err)
	}
	if c.Attempt != 2 || c.Video.Progress != 0 {
		t.Fatalf("claim after release = %+v, want attempt 2 from progress 0", c)
	}
	// A pending (not yet due) job counts as a job: the reconciler leaves `later` alone.
	n, err := s.RequeueStuck(ctx, 0)
	if err != nil {
		t.Fatalf("RequeueStuck: %v", err)
	}
	if n != 0 {
		t.Fatalf("RequeueStuck requeued %d videos, want 0 (later has a job waiting)", n)
	}
}

// A single-process install that restarts after a crash expires the leases
// its dead workers held, so their encodes are taken over at once.
func testExpireLeases(t *testing.T, s Store) {
	ctx := ctxFor(t)
	crashed := uploaded(t, s, draft{title: "Held by a dead process"})
	elsewhere := uploaded(t, s, draft{title: "Held by another process"})
	finished := ready(t, s, draft{title: "Done"})
	if _, err := s.ClaimEncode(ctx, crashed.ID, "embedded:a:1", longLease); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	if _, err := s.ClaimEncode(ctx, elsewhere.ID, "other:b:1", longLease); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	if n, err := s.ExpireLeases(ctx, "embedded:a:"); err != nil || n != 1 {
		t.Fatalf("ExpireLeases(embedded:a:) = %d, %v; want 1", n, err)
	}
	// The dead worker's lease has run out: another worker takes over at once.
	c, err := s.ClaimEncode(ctx, crashed.ID, "embedded:b:1", longLease)
	if err != nil {
		t.Fatalf("ClaimEncode after ExpireLeases: %v", err)
	}
	if c.Attempt != 2 || c.Video.State != video.StateProcessing {
		t.Fatalf("takeover claim = %+v, want attempt 2 of a processing video", c)
	}
	wantErr(t, "RenewLease by the dead worker", s.RenewLease(ctx, crashed.ID, "embedded:a:1", longLease), video.ErrLeaseLost)
	// Another owner's lease is untouched.
	_, err = s.ClaimEncode(ctx, elsewhere.ID, "embedded:b:2", longLease)
	wantErr(t, "ClaimEncode under another owner's live lease", err, video.ErrWrongState)
	if err := s.RenewLease(ctx, elsewhere.ID, "other:b:1", longLease); err != nil {
		t.Fatalf("RenewLease by the other owner: %v", err)
	}
	wantState(t, s, finished.ID, video.StateReady)
	// The prefix now names no holder: there is nothing more to expire.
	if n, err := s.ExpireLeases(ctx, "embedded:a:"); err != nil || n != 0 {
		t.Fatalf("second ExpireLeases(embedded:a:) = %d, %v; want 0", n, err)
	}
	if n, err := s.ExpireLeases(ctx, "nobody:"); err != nil || n != 0 {
		t.Fatalf("ExpireLeases(nobody:) = %d, %v; want 0", n, err)
	}
	if err := s.RenewLease(ctx, crashed.ID, "embedded:b:1", longLease); err != nil {
		t.Fatalf("RenewLease by the new holder: %v", err)
	}
}
