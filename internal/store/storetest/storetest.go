// Package storetest is the contract of a CloudFlix metadata store, written
// once as a test suite that every adapter (PostgreSQL, SQLite) runs against a
// real database of its kind. It must never depend on an adapter: what it
// asserts is what services may rely on, whichever store they are given.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

// Store is the port the suite holds adapters to.
type Store = store.Store

// Run runs the contract against stores made by open, one fresh, empty and
// migrated store per subtest; open registers its own cleanup with t.
func Run(t *testing.T, open func(t *testing.T) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"Ping", testPing},
		{"CreateAndRead", testCreateAndRead},
		{"UnknownAndMalformedIDs", testUnknownAndMalformedIDs},
		{"EncodeLifecycle", testEncodeLifecycle},
		{"NoMovingBackwards", testNoMovingBackwards},
		{"FailAndReencode", testFailAndReencode},
		{"LeaseTakeover", testLeaseTakeover},
		{"ReleaseEncode", testReleaseEncode},
		{"Outbox", testOutbox},
		{"RequeueStuck", testRequeueStuck},
		{"ExpireLeases", testExpireLeases},
		{"DeleteVideo", testDeleteVideo},
		{"LatestVideos", testLatestVideos},
		{"AddViews", testAddViews},
		{"SearchWords", testSearchWords},
		{"SearchPrefix", testSearchPrefix},
		{"SearchTypo", testSearchTypo},
		{"SearchRanking", testSearchRanking},
		{"SearchReadyOnly", testSearchReadyOnly},
		{"SearchSanitisesQuery", testSearchSanitisesQuery},
		{"SearchPaging", testSearchPaging},
		{"Suggest", testSuggest},
		{"OutboxCarriesTrace", testOutboxCarriesTrace},
		{"EncodeBacklog", testEncodeBacklog},
		{"ConcurrentMarkUploaded", testConcurrentMarkUploaded},
		{"ConcurrentClaimEncode", testConcurrentClaimEncode},
		{"ConcurrentAddViews", testConcurrentAddViews},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

// Long enough that no lease in these tests runs out unless it is meant to.
const longLease = time.Hour

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// Uploaded adds a video titled title to s and takes it to UPLOADED, as a
// completed upload does, for the tests of what stands on a store.
func Uploaded(t testing.TB, s Store, title string) video.Video {
	t.Helper()
	return uploaded(t, s, draft{title: title})
}

// Ready adds a video titled title to s and takes it through an encode to
// READY.
func Ready(t testing.TB, s Store, title string) video.Video {
	t.Helper()
	return ready(t, s, draft{title: title})
}

// draft is a video as an upload service creates it.
type draft struct {
	title, description string
	tags               []string
	createdAt          time.Time
}

func create(t testing.TB, s Store, d draft) video.Video {
	t.Helper()
	v := video.Video{
		ID:          uuid.NewString(),
		Title:       d.title,
		Description: d.description,
		Tags:        d.tags,
		SizeBytes:   10 << 20,
		ContentType: "video/mp4",
		CreatedAt:   d.createdAt,
	}
	u := video.UploadSession{
		VideoID:   v.ID,
		UploadID:  "upload-" + v.ID,
		ObjectKey: video.SourceKey(v.ID),
		SizeBytes: v.SizeBytes,
		PartSize:  5 << 20,
		ExpiresAt: time.Now().Add(time.Hour).Truncate(time.Second),
	}
	if err := s.CreateVideo(ctxFor(t), v, u); err != nil {
		t.Fatalf("CreateVideo: %v", err)
	}
	return v
}

func uploaded(t testing.TB, s Store, d draft) video.Video {
	t.Helper()
	v := create(t, s, d)
	if _, err := s.MarkUploaded(ctxFor(t), v.ID); err != nil {
		t.Fatalf("MarkUploaded: %v", err)
	}
	return v
}

var testEncoded = video.Encoded{
	DurationSeconds: 12.5,
	Width:           1280,
	Height:          720,
	Renditions: []video.Rendition{
		{Name: "720p", Width: 1280, Height: 720, Bandwidth: 3_000_000, AverageBandwidth: 2_400_000, Codecs: "avc1.64001f,mp4a.40.2", FrameRate: 30},
		{Name: "360p", Width: 640, Height: 360, Bandwidth: 900_000, AverageBandwidth: 700_000, Codecs: "avc1.64001e,mp4a.40.2", FrameRate: 29.97},
	},
}

func ready(t testing.TB, s Store, d draft) video.Video {
	t.Helper()
	v := uploaded(t, s, d)
	ctx := ctxFor(t)
	if _, err := s.ClaimEncode(ctx, v.ID, "w-setup", longLease); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	r, err := s.MarkReady(ctx, v.ID, "w-setup", testEncoded)
	if err != nil {
		t.Fatalf("MarkReady: %v", err)
	}
	return r
}

func get(t *testing.T, s Store, id string) video.Video {
	t.Helper()
	v, err := s.Video(ctxFor(t), id)
	if err != nil {
		t.Fatalf("Video(%s): %v", id, err)
	}
	return v
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func wantState(t *testing.T, s Store, id string, want video.State) video.Video {
	t.Helper()
	v := get(t, s, id)
	if v.State != want {
		t.Fatalf("video %s is %s, want %s", id, v.State, want)
	}
	return v
}

func outboxFor(t *testing.T, s Store, id string) []video.OutboxEntry {
	t.Helper()
	all, err := s.PendingOutbox(ctxFor(t), 1000)
	if err != nil {
		t.Fatalf("PendingOutbox: %v", err)
	}
	var mine []video.OutboxEntry
	for _, e := range all {
		if e.VideoID == id {
			mine = append(mine, e)
		}
	}
	return mine
}

func drainOutbox(t *testing.T, s Store) {
	t.Helper()
	ctx := ctxFor(t)
	all, err := s.PendingOutbox(ctx, 1000)
	if err != nil {
		t.Fatalf("PendingOutbox: %v", err)
	}
	ids := make([]int64, len(all))
	for i, e := range all {
		ids[i] = e.ID
	}
	if err := s.MarkOutboxSent(ctx, ids); err != nil {
		t.Fatalf("MarkOutboxSent: %v", err)
	}
}

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

func testOutbox(t *testing.T, s Store) {
	ctx := ctxFor(t)
	if got, err := s.PendingOutbox(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("PendingOutbox of an empty store = %v, %v", got, err)
	}
	var ids []string
	for i := range 5 {
		ids = append(ids, uploaded(t, s, draft{title: fmt.Sprintf("Outbox %d", i)}).ID)
	}
	// Creating a video writes no job; only the upload's completion does.
	create(t, s, draft{title: "Still uploading"})

	first, err := s.PendingOutbox(ctx, 3)
	if err != nil {
		t.Fatalf("PendingOutbox: %v", err)
	}
	if len(first) != 3 {
		t.Fatalf("PendingOutbox(3) returned %d entries", len(first))
	}
	for i, e := range first {
		if e.VideoID != ids[i] {
			t.Fatalf("entry %d is for %s, want %s (oldest first)", i, e.VideoID, ids[i])
		}
		if e.ID == 0 || e.CreatedAt.IsZero() {
			t.Fatalf("entry %d = %+v, want an id and a creation time", i, e)
		}
	}
	if err := s.MarkOutboxSent(ctx, []int64{first[0].ID, first[1].ID, first[2].ID}); err != nil {
		t.Fatalf("MarkOutboxSent: %v", err)
	}
	rest, err := s.PendingOutbox(ctx, 10)
	if err != nil {
		t.Fatalf("PendingOutbox: %v", err)
	}
	if len(rest) != 2 || rest[0].VideoID != ids[3] || rest[1].VideoID != ids[4] {
		t.Fatalf("PendingOutbox after sending three = %+v, want the last two", rest)
	}
	// Marking twice, or nothing, is harmless.
	if err := s.MarkOutboxSent(ctx, []int64{first[0].ID, rest[0].ID, rest[1].ID}); err != nil {
		t.Fatalf("MarkOutboxSent: %v", err)
	}
	if err := s.MarkOutboxSent(ctx, nil); err != nil {
		t.Fatalf("MarkOutboxSent(nil): %v", err)
	}
	if got, err := s.PendingOutbox(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("PendingOutbox after sending all = %v, %v; want none", got, err)
	}
}

// The job written by a request carries that request's trace, so the encode
// joins it.
func testOutboxCarriesTrace(t *testing.T, s Store) {
	v := create(t, s, draft{title: "Traced"})
	traceID := trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: trace.SpanID{1, 2, 3, 4, 5, 6, 7, 8}, TraceFlags: trace.FlagsSampled})
	ctx := trace.ContextWithSpanContext(ctxFor(t), sc)
	if _, err := s.MarkUploaded(ctx, v.ID); err != nil {
		t.Fatalf("MarkUploaded: %v", err)
	}
	got, err := s.PendingOutbox(ctx, 10)
	if err != nil || len(got) != 1 {
		t.Fatalf("PendingOutbox = %v, %v", got, err)
	}
	if want := "00-" + traceID.String() + "-0102030405060708-01"; got[0].TraceParent != want {
		t.Fatalf("trace parent = %q, want %q", got[0].TraceParent, want)
	}
}

func testEncodeBacklog(t *testing.T, s Store) {
	ctx := ctxFor(t)
	if n, oldest, err := s.EncodeBacklog(ctx); err != nil || n != 0 || !oldest.IsZero() {
		t.Fatalf("backlog of an empty store = %d, %v, %v", n, oldest, err)
	}
	before := time.Now().Add(-time.Second)
	first := uploaded(t, s, draft{title: "First in line"})
	uploaded(t, s, draft{title: "Second in line"})
	create(t, s, draft{title: "Still uploading"})
	n, oldest, err := s.EncodeBacklog(ctx)
	if err != nil || n != 2 || oldest.Before(before) || oldest.After(time.Now().Add(time.Second)) {
		t.Fatalf("backlog = %d, %v, %v; want 2 waiting since just now", n, oldest, err)
	}
	if _, err := s.ClaimEncode(ctx, first.ID, "w1", longLease); err != nil {
		t.Fatal(err)
	}
	if n, _, err := s.EncodeBacklog(ctx); err != nil || n != 1 {
		t.Fatalf("backlog after a claim = %d, %v; want 1", n, err)
	}
}

func testRequeueStuck(t *testing.T, s Store) {
	ctx := ctxFor(t)
	requeue := func(uploadedFor time.Duration, want int) {
		t.Helper()
		n, err := s.RequeueStuck(ctx, uploadedFor)
		if err != nil {
			t.Fatalf("RequeueStuck: %v", err)
		}
		if n != want {
			t.Fatalf("RequeueStuck(%v) = %d, want %d", uploadedFor, n, want)
		}
	}
	lost := uploaded(t, s, draft{title: "Lost job"})
	expired := uploaded(t, s, draft{title: "Dead worker"})
	live := uploaded(t, s, draft{title: "Busy worker"})
	create(t, s, draft{title: "Uploading"})
	finished := ready(t, s, draft{title: "Done"})

	// Every uploaded video still has its unsent job: nothing to do.
	requeue(0, 0)
	drainOutbox(t, s)
	if _, err := s.ClaimEncode(ctx, expired.ID, "w1", time.Millisecond); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	if _, err := s.ClaimEncode(ctx, live.ID, "w2", longLease); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	// The last jobs were written just now: within an hour, they may just be slow.
	requeue(time.Hour, 0)

	// Past the deadline (0 here), the lost job and the dead worker's encode
	// are requeued; the live lease, the upload and the ready video are not.
	// The expired lease needs the clock to pass it first.
	deadline := time.Now().Add(10 * time.Second)
	for total := 0; total != 2; {
		n, err := s.RequeueStuck(ctx, 0)
		if err != nil {
			t.Fatalf("RequeueStuck: %v", err)
		}
		total += n
		if total > 2 || (total < 2 && time.Now().After(deadline)) {
			t.Fatalf("RequeueStuck(0) requeued %d videos in all, want 2", total)
		}
		if total < 2 {
			time.Sleep(5 * time.Millisecond)
		}
	}
	for _, v := range []video.Video{lost, expired} {
		if n := len(outboxFor(t, s, v.ID)); n != 1 {
			t.Fatalf("outbox holds %d entries for %q, want 1", n, v.Title)
		}
	}
	if n := len(outboxFor(t, s, live.ID)) + len(outboxFor(t, s, finished.ID)); n != 0 {
		t.Fatalf("outbox holds %d entries for the live encode or the ready video, want 0", n)
	}
	// Requeued jobs not yet sent are not requeued again.
	requeue(0, 0)
	// Sent just now, they may just be slow: not requeued within the hour,
	// but requeued again once past the deadline.
	drainOutbox(t, s)
	requeue(time.Hour, 0)
	requeue(0, 2)
	// The requeued job brings the encode back to a worker as a takeover.
	c, err := s.ClaimEncode(ctx, expired.ID, "w3", longLease)
	if err != nil {
		t.Fatalf("ClaimEncode of the requeued encode: %v", err)
	}
	if c.Attempt != 2 {
		t.Fatalf("Attempt = %d, want 2", c.Attempt)
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

func ids(vs []video.Video) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.ID
	}
	return out
}

func testLatestVideos(t *testing.T, s Store) {
	ctx := ctxFor(t)
	base := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	// Seven ready videos, two pairs sharing a creation time (the id breaks ties).
	var want []video.Video
	for i, minute := range []int{0, 1, 1, 2, 3, 3, 4} {
		want = append(want, ready(t, s, draft{title: fmt.Sprintf("Ready %d", i), createdAt: base.Add(time.Duration(minute) * time.Minute)}))
	}
	slices.SortFunc(want, func(a, b video.Video) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return compareStrings(b.ID, a.ID)
	})
	// Newer videos that are not ready never appear.
	newer := base.Add(time.Hour)
	create(t, s, draft{title: "Uploading", createdAt: newer})
	uploaded(t, s, draft{title: "Uploaded", createdAt: newer})
	gone := ready(t, s, draft{title: "Deleted", createdAt: newer})
	if _, err := s.DeleteVideo(ctx, gone.ID); err != nil {
		t.Fatalf("DeleteVideo: %v", err)
	}

	all, err := s.LatestVideos(ctx, 100, video.ListPosition{})
	if err != nil {
		t.Fatalf("LatestVideos: %v", err)
	}
	if !slices.Equal(ids(all), ids(want)) {
		t.Fatalf("LatestVideos = %v, want %v", ids(all), ids(want))
	}
	for _, v := range all {
		if v.State != video.StateReady || len(v.Renditions) != 2 {
			t.Fatalf("listed video %+v, want a ready video with its renditions", v)
		}
	}

	var paged []video.Video
	var after video.ListPosition
	for page := 0; ; page++ {
		vs, err := s.LatestVideos(ctx, 3, after)
		if err != nil {
			t.Fatalf("LatestVideos page %d: %v", page, err)
		}
		if len(vs) > 3 || page > 3 {
			t.Fatalf("page %d has %d videos", page, len(vs))
		}
		if len(vs) == 0 {
			break
		}
		paged = append(paged, vs...)
		last := vs[len(vs)-1]
		after = video.ListPosition{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	if !slices.Equal(ids(paged), ids(want)) {
		t.Fatalf("paged LatestVideos = %v, want %v", ids(paged), ids(want))
	}
	// A position taken from a video in the middle of a tie continues within the tie.
	mid := want[1] // created at minute 3, like want[2]
	vs, err := s.LatestVideos(ctx, 1, video.ListPosition{CreatedAt: mid.CreatedAt, ID: mid.ID})
	if err != nil || len(vs) != 1 || vs[0].ID != want[2].ID {
		t.Fatalf("LatestVideos after %s = %v, %v; want %s", mid.ID, ids(vs), err, want[2].ID)
	}
	if vs, err := s.LatestVideos(ctx, 0, video.ListPosition{}); err != nil || len(vs) != 0 {
		t.Fatalf("LatestVideos(0) = %v, %v; want none", vs, err)
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testAddViews(t *testing.T, s Store) {
	ctx := ctxFor(t)
	a := ready(t, s, draft{title: "Popular"})
	b := ready(t, s, draft{title: "Less popular"})
	c := ready(t, s, draft{title: "Unwatched"})
	if err := s.AddViews(ctx, map[string]int64{a.ID: 10, b.ID: 3}); err != nil {
		t.Fatalf("AddViews: %v", err)
	}
	// Ids that name no video do not spoil the batch.
	if err := s.AddViews(ctx, map[string]int64{a.ID: 5, uuid.NewString(): 7, "not-a-uuid": 1}); err != nil {
		t.Fatalf("AddViews with unknown ids: %v", err)
	}
	if err := s.AddViews(ctx, nil); err != nil {
		t.Fatalf("AddViews(nil): %v", err)
	}
	for _, w := range []struct {
		v    video.Video
		want int64
	}{{a, 15}, {b, 3}, {c, 0}} {
		if got := get(t, s, w.v.ID).Views; got != w.want {
			t.Fatalf("views of %q = %d, want %d", w.v.Title, got, w.want)
		}
	}
}

func titles(hits []video.SearchHit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Video.Title
	}
	return out
}

func search(t *testing.T, s Store, query string) []video.SearchHit {
	t.Helper()
	hits, err := s.Search(ctxFor(t), query, 20, 0)
	if err != nil {
		t.Fatalf("Search(%q): %v", query, err)
	}
	return hits
}

// wantFound checks that query finds exactly the titles, in any order.
func wantFound(t *testing.T, s Store, query string, want ...string) []video.SearchHit {
	t.Helper()
	hits := search(t, s, query)
	got := slices.Sorted(slices.Values(titles(hits)))
	w := slices.Sorted(slices.Values(want))
	if !slices.Equal(got, w) {
		t.Fatalf("Search(%q) found %q, want %q", query, titles(hits), want)
	}
	for _, h := range hits {
		if h.Video.State != video.StateReady {
			t.Fatalf("Search(%q) found a video in state %s", query, h.Video.State)
		}
	}
	return hits
}

// catalogue is what the search tests search in.
func catalogue(t *testing.T, s Store) {
	t.Helper()
	ready(t, s, draft{title: "Mountain Sunrise", description: "A calm morning over the hills.", tags: []string{"nature", "timelapse"}})
	ready(t, s, draft{title: "City Lights at Night", description: "A drive past the mountain road.", tags: []string{"urban"}})
	ready(t, s, draft{title: "Cooking Pasta", description: "Grandma's recipe, step by step.", tags: []string{"food", "italian"}})
	ready(t, s, draft{title: "Guitar Lesson", description: "Chords for beginners.", tags: []string{"music", "tutorial"}})
}

func testSearchWords(t *testing.T, s Store) {
	catalogue(t, s)
	wantFound(t, s, "sunrise", "Mountain Sunrise")
	wantFound(t, s, "SUNRISE", "Mountain Sunrise")
	wantFound(t, s, "timelapse", "Mountain Sunrise") // a tag
	wantFound(t, s, "recipe", "Cooking Pasta")       // the description
	wantFound(t, s, "grandma", "Cooking Pasta")      // "Grandma's"
	wantFound(t, s, "mountain", "Mountain Sunrise", "City Lights at Night")
	wantFound(t, s, "pasta italian", "Cooking Pasta")   // every word, anywhere
	wantFound(t, s, "pasta guitar")                     // every word must match
	wantFound(t, s, "cooking, pasta!", "Cooking Pasta") // punctuation separates words
	wantFound(t, s, "zzzqqxx")                          // no such word
	wantFound(t, s, "chords beginners", "Guitar Lesson")
}

func testSearchPrefix(t *testing.T, s Store) {
	catalogue(t, s)
	wantFound(t, s, "moun", "Mountain Sunrise", "City Lights at Night")
	wantFound(t, s, "mountain sun", "Mountain Sunrise") // the last word as typed so far
	wantFound(t, s, "moun sunr", "Mountain Sunrise")    // every word as a prefix
	wantFound(t, s, "gui", "Guitar Lesson")
	wantFound(t, s, "tutor", "Guitar Lesson") // a tag's prefix
	wantFound(t, s, "c", "City Lights at Night", "Cooking Pasta", "Mountain Sunrise", "Guitar Lesson")
}

func testSearchTypo(t *testing.T, s Store) {
	catalogue(t, s)
	wantFound(t, s, "mountian", "Mountain Sunrise", "City Lights at Night") // swapped letters
	wantFound(t, s, "mountan", "Mountain Sunrise", "City Lights at Night")  // a missing letter
	wantFound(t, s, "guitat", "Guitar Lesson")                              // a wrong letter
	wantFound(t, s, "pastta", "Cooking Pasta")                              // an extra letter
	wantFound(t, s, "sunrize", "Mountain Sunrise")
	wantFound(t, s, "cookng pasta", "Cooking Pasta") // one word of several
	wantFound(t, s, "lesson guiter", "Guitar Lesson")
	// A typo is corrected to a word of a READY video only.
	ready(t, s, draft{title: "Volcano Eruption"})
	wantFound(t, s, "volcanoe", "Volcano Eruption")
	hidden := uploaded(t, s, draft{title: "Glacier Walk"})
	wantFound(t, s, "glaceir")
	ctx := ctxFor(t)
	if _, err := s.ClaimEncode(ctx, hidden.ID, "w1", longLease); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	if _, err := s.MarkReady(ctx, hidden.ID, "w1", testEncoded); err != nil {
		t.Fatalf("MarkReady: %v", err)
	}
	wantFound(t, s, "glaceir", "Glacier Walk")
	if _, err := s.DeleteVideo(ctx, hidden.ID); err != nil {
		t.Fatalf("DeleteVideo: %v", err)
	}
	wantFound(t, s, "glaceir")
	wantFound(t, s, "glacier")
}

func testSearchRanking(t *testing.T, s Store) {
	// Created in the order least to most relevant, so that ranking, not
	// recency, has to put them right.
	ready(t, s, draft{title: "Sunset Drive", description: "We passed a river, then another river, and a river again."})
	ready(t, s, draft{title: "Fishing Trip", tags: []string{"river", "outdoors"}})
	ready(t, s, draft{title: "River Rapids", description: "White water."})
	hits := search(t, s, "river")
	want := []string{"River Rapids", "Fishing Trip", "Sunset Drive"}
	if !slices.Equal(titles(hits), want) {
		t.Fatalf("Search(river) = %q, want title > tag > description: %q", titles(hits), want)
	}
	for i := 1; i < len(hits); i++ {
		if hits[i].Score >= hits[i-1].Score || hits[i].Score <= 0 {
			t.Fatalf("scores %v and %v are not positive and decreasing", hits[i-1].Score, hits[i].Score)
		}
	}
	// A prefix match still ranks a title above a description.
	hits = search(t, s, "riv")
	if len(hits) != 3 || hits[0].Video.Title != "River Rapids" {
		t.Fatalf("Search(riv) = %q, want River Rapids first", titles(hits))
	}
	// A whole word ranks above a longer word it merely begins.
	ready(t, s, draft{title: "Cat Videos"})
	ready(t, s, draft{title: "Category Theory"})
	hits = search(t, s, "cat")
	if len(hits) != 2 || hits[0].Video.Title != "Cat Videos" {
		t.Fatalf("Search(cat) = %q, want Cat Videos first", titles(hits))
	}
}

func testSearchReadyOnly(t *testing.T, s Store) {
	ctx := ctxFor(t)
	d := draft{title: "Aurora Borealis", description: "northern lights", tags: []string{"sky"}}
	create(t, s, d)
	uploaded(t, s, d)
	busy := uploaded(t, s, d)
	if _, err := s.ClaimEncode(ctx, busy.ID, "w1", longLease); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	broken := uploaded(t, s, d)
	if _, err := s.ClaimEncode(ctx, broken.ID, "w1", longLease); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	if _, err := s.MarkFailed(ctx, broken.ID, "w1", "corrupt"); err != nil {
		t.Fatalf("MarkFailed: %v", err)
	}
	for _, q := range []string{"aurora", "auro", "aurorra", "northern", "sky"} {
		wantFound(t, s, q)
	}
	if sug, err := s.Suggest(ctx, "aur", 10); err != nil || len(sug) != 0 {
		t.Fatalf("Suggest(aur) = %q, %v; want none", sug, err)
	}
	r := ready(t, s, d)
	wantFound(t, s, "aurora", "Aurora Borealis")
	// Back to uploaded for a re-encode: out of search until ready again.
	if _, err := s.Reencode(ctx, r.ID); err != nil {
		t.Fatalf("Reencode: %v", err)
	}
	wantFound(t, s, "aurora")
}

func testSearchSanitisesQuery(t *testing.T, s Store) {
	catalogue(t, s)
	ctx := ctxFor(t)
	for _, q := range []string{
		"", "   ", "a & | ! ( ':*", "&", "!!!", "'", ":*", "()", `\`, "<->", "mountain & !", "moun:*A | x",
		"mountain' | 'sunrise", "((((", "--", "; DROP TABLE videos; --", "\x00", "🎸",
	} {
		if _, err := s.Search(ctx, q, 10, 0); err != nil {
			t.Fatalf("Search(%q): %v", q, err)
		}
		if _, err := s.Suggest(ctx, q, 10); err != nil {
			t.Fatalf("Suggest(%q): %v", q, err)
		}
	}
	for _, q := range []string{"", "   ", "&|!", "()"} {
		if hits := search(t, s, q); len(hits) != 0 {
			t.Fatalf("Search(%q) = %q, want no hits", q, titles(hits))
		}
	}
	// Operators in a query are just separators between its words.
	wantFound(t, s, "mountain & !sunrise", "Mountain Sunrise")
	wantFound(t, s, "(guitar|lesson)", "Guitar Lesson")
	wantFound(t, s, "moun:*", "Mountain Sunrise", "City Lights at Night")
}

func testSearchPaging(t *testing.T, s Store) {
	ctx := ctxFor(t)
	for i := range 7 {
		ready(t, s, draft{title: fmt.Sprintf("Episode %d", i+1), tags: []string{"series"}})
	}
	ready(t, s, draft{title: "Unrelated"})
	seen := map[string]bool{}
	for offset := 0; offset < 9; offset += 3 {
		hits, err := s.Search(ctx, "series", 3, offset)
		if err != nil {
			t.Fatalf("Search offset %d: %v", offset, err)
		}
		wantLen := min(3, 7-offset)
		if len(hits) != wantLen {
			t.Fatalf("Search offset %d returned %d hits, want %d", offset, len(hits), wantLen)
		}
		for _, h := range hits {
			if seen[h.Video.ID] {
				t.Fatalf("video %q on two pages", h.Video.Title)
			}
			seen[h.Video.ID] = true
		}
	}
	if len(seen) != 7 {
		t.Fatalf("pages held %d videos, want 7", len(seen))
	}
	if hits, err := s.Search(ctx, "series", 3, 7); err != nil || len(hits) != 0 {
		t.Fatalf("Search past the end = %v, %v", titles(hits), err)
	}
	if hits, err := s.Search(ctx, "series", 0, 0); err != nil || len(hits) != 0 {
		t.Fatalf("Search with limit 0 = %v, %v", titles(hits), err)
	}
}

func testSuggest(t *testing.T, s Store) {
	catalogue(t, s)
	ctx := ctxFor(t)
	// Two ready videos with one title: suggested once.
	ready(t, s, draft{title: "Cooking Pasta", description: "Second take."})
	ready(t, s, draft{title: "Cooking Rice"})
	suggest := func(prefix string, limit int) []string {
		t.Helper()
		got, err := s.Suggest(ctx, prefix, limit)
		if err != nil {
			t.Fatalf("Suggest(%q): %v", prefix, err)
		}
		return got
	}
	// Titles only: "mountain" is also in a description, which is not suggested.
	if got := suggest("moun", 10); !slices.Equal(got, []string{"Mountain Sunrise"}) {
		t.Fatalf("Suggest(moun) = %q", got)
	}
	if got := suggest("city li", 10); !slices.Equal(got, []string{"City Lights at Night"}) {
		t.Fatalf("Suggest(city li) = %q", got)
	}
	got := suggest("cook", 10)
	if !slices.Equal(slices.Sorted(slices.Values(got)), []string{"Cooking Pasta", "Cooking Rice"}) {
		t.Fatalf("Suggest(cook) = %q, want each title once", got)
	}
	if got := suggest("cook", 1); len(got) != 1 {
		t.Fatalf("Suggest(cook, 1) = %q, want one title", got)
	}
	if got := suggest("cooking r", 10); !slices.Equal(got, []string{"Cooking Rice"}) {
		t.Fatalf("Suggest(cooking r) = %q", got)
	}
	if got := suggest("", 10); len(got) != 0 {
		t.Fatalf("Suggest(\"\") = %q, want none", got)
	}
	if got := suggest("xyzzyq", 10); len(got) != 0 {
		t.Fatalf("Suggest(xyzzyq) = %q, want none", got)
	}
}

// concurrently runs fn n times at once and returns the errors.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = fn(i)
		}()
	}
	close(start)
	wg.Wait()
	return errs
}

// exactlyOne checks that one call succeeded and the others failed with want.
func exactlyOne(t *testing.T, what string, errs []error, want error) {
	t.Helper()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, want):
			t.Fatalf("%s: unexpected error %v", what, err)
		}
	}
	if ok != 1 {
		t.Fatalf("%s: %d of %d calls succeeded, want exactly 1", what, ok, len(errs))
	}
}

func testConcurrentMarkUploaded(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := create(t, s, draft{title: "Raced"})
	errs := concurrently(12, func(int) error {
		_, err := s.MarkUploaded(ctx, v.ID)
		return err
	})
	exactlyOne(t, "concurrent MarkUploaded", errs, video.ErrWrongState)
	wantState(t, s, v.ID, video.StateUploaded)
	if n := len(outboxFor(t, s, v.ID)); n != 1 {
		t.Fatalf("outbox holds %d jobs after concurrent MarkUploaded, want 1", n)
	}
}

func testConcurrentClaimEncode(t *testing.T, s Store) {
	ctx := ctxFor(t)
	v := uploaded(t, s, draft{title: "Wanted by all"})
	var (
		mu     sync.Mutex
		winner string
	)
	errs := concurrently(8, func(i int) error {
		worker := fmt.Sprintf("w%d", i)
		c, err := s.ClaimEncode(ctx, v.ID, worker, longLease)
		if err == nil {
			mu.Lock()
			winner = worker
			mu.Unlock()
			if c.Attempt != 1 {
				return fmt.Errorf("attempt %d, want 1", c.Attempt)
			}
		}
		return err
	})
	exactlyOne(t, "concurrent ClaimEncode", errs, video.ErrWrongState)
	// Only the winner holds the lease.
	for i := range 8 {
		worker := fmt.Sprintf("w%d", i)
		err := s.RenewLease(ctx, v.ID, worker, longLease)
		if worker == winner && err != nil {
			t.Fatalf("RenewLease by the winner %s: %v", worker, err)
		}
		if worker != winner {
			wantErr(t, "RenewLease by a loser", err, video.ErrLeaseLost)
		}
	}
}

func testConcurrentAddViews(t *testing.T, s Store) {
	ctx := ctxFor(t)
	var vs []video.Video
	for i := range 4 {
		vs = append(vs, ready(t, s, draft{title: fmt.Sprintf("Viral %d", i)}))
	}
	// Every flusher adds to every video at once: none may be lost, none may deadlock.
	errs := concurrently(8, func(int) error {
		counts := map[string]int64{}
		for _, v := range vs {
			counts[v.ID] = 2
		}
		return s.AddViews(ctx, counts)
	})
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent AddViews: %v", err)
		}
	}
	for _, v := range vs {
		if got := get(t, s, v.ID).Views; got != 16 {
			t.Fatalf("views of %q = %d, want 16", v.Title, got)
		}
	}
}
