package encodesvc

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/outbox"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/queue"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/transcode"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videocache"
)

type rig struct {
	store   store.Store
	objects blob.Store
	worker  *Worker
}

// newRig makes a worker on the backends of p.
func newRig(t *testing.T, p *platform.Process, maxAttempts int) rig {
	t.Helper()
	testenv.RequireFFmpeg(t)
	ctx := t.Context()
	db, err := p.Store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	objects, _, err := p.Objects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Cache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := NewWorker(db, objects, videocache.New(c, time.Minute, nil), testSettings(t, "worker-", time.Minute, maxAttempts), nil)
	return rig{store: db, objects: objects, worker: w}
}

// testSettings are the production defaults, with the fastest preset.
func testSettings(t *testing.T, name string, lease time.Duration, maxAttempts int) Settings {
	t.Helper()
	var cfg config.Encode
	if err := config.Defaults(&cfg); err != nil {
		t.Fatal(err)
	}
	return Settings{
		WorkerID: testenv.Name(name), WorkDir: t.TempDir(), Lease: lease, MaxAttempts: maxAttempts,
		Limits: limits(cfg), Options: transcode.Options{Preset: "ultrafast", Nice: cfg.Nice},
	}
}

// uploaded stores source as a video's original and marks it uploaded; a
// nil source stores nothing.
func (r rig) uploaded(t *testing.T, source string) string {
	t.Helper()
	v := storetest.Uploaded(t, r.store, "Worker test")
	if source != "" {
		if err := r.objects.PutFile(t.Context(), video.SourceKey(v.ID), source, "video/mp4"); err != nil {
			t.Fatal(err)
		}
	}
	return v.ID
}

// settle hands the video's job to the worker once and returns the video
// as that left it, and how long the job took.
func (r rig) settle(t *testing.T, id string) (video.Video, time.Duration) {
	t.Helper()
	start := time.Now()
	if err := r.worker.Handle(t.Context(), delivery(id)); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	took := time.Since(start)
	v, err := r.store.Video(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return v, took
}

func delivery(id string) queue.Delivery {
	return queue.Delivery{Message: outbox.Message(video.OutboxEntry{ID: 1, VideoID: id}), Attempt: 1}
}

func TestEncodeToReadyAndIgnoreDuplicates(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testEncodeToReadyAndIgnoreDuplicates)
}

func testEncodeToReadyAndIgnoreDuplicates(t *testing.T, p *platform.Process) {
	r := newRig(t, p, 3)
	ctx := t.Context()
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	testenv.GenerateClip(t, clip, 640, 360, 3, true)
	id := r.uploaded(t, clip)

	if err := r.worker.Handle(ctx, delivery(id)); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	v, err := r.store.Video(ctx, id)
	if err != nil || v.State != video.StateReady || v.Progress != 1 || len(v.Renditions) == 0 {
		t.Fatalf("after encode: %+v, %v", v, err)
	}
	for _, key := range []string{video.MasterPlaylistKey(id), video.ThumbnailKey(id), video.StoryboardKey(id), video.StoryboardVTTKey(id),
		video.HLSPrefix(id) + v.Renditions[0].Name + "/index.m3u8"} {
		if _, err := r.objects.Stat(ctx, key); err != nil {
			t.Errorf("%s not stored: %v", key, err)
		}
	}
	before := v.UpdatedAt

	// A duplicate or late message finds nothing to claim and changes nothing.
	if err := r.worker.Handle(ctx, delivery(id)); err != nil {
		t.Fatalf("duplicate Handle: %v", err)
	}
	if v, _ := r.store.Video(ctx, id); v.State != video.StateReady || !v.UpdatedAt.Equal(before) {
		t.Fatalf("duplicate delivery changed the video: %+v", v)
	}
}

// A one-frame video is a video: it becomes ready on its first attempt, its
// thumbnail and storyboard made of its only frame.
func TestOneFrameVideoIsReady(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testOneFrameVideoIsReady)
}

func testOneFrameVideoIsReady(t *testing.T, p *platform.Process) {
	r := newRig(t, p, 1)
	ctx := t.Context()
	clip := filepath.Join(t.TempDir(), "one-frame.mp4")
	testenv.GenerateClip(t, clip, 640, 360, 1.0/30, true)
	id := r.uploaded(t, clip)
	if err := r.worker.Handle(ctx, delivery(id)); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if v, err := r.store.Video(ctx, id); err != nil || v.State != video.StateReady {
		t.Fatalf("after encode: %s %q, %v", v.State, v.FailureReason, err)
	}
}

func TestFileThatIsNotAVideoFails(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testFileThatIsNotAVideoFails)
}

func testFileThatIsNotAVideoFails(t *testing.T, p *platform.Process) {
	r := newRig(t, p, 3)
	ctx := t.Context()
	garbage := filepath.Join(t.TempDir(), "garbage.mp4")
	b := make([]byte, 64<<10)
	_, _ = rand.Read(b)
	if err := os.WriteFile(garbage, b, 0o644); err != nil {
		t.Fatal(err)
	}
	id := r.uploaded(t, garbage)
	if err := r.worker.Handle(ctx, delivery(id)); err != nil {
		t.Fatalf("Handle must record the failure, not return it: %v", err)
	}
	v, _ := r.store.Video(ctx, id)
	if v.State != video.StateFailed || !strings.Contains(v.FailureReason, "not a video") {
		t.Fatalf("video = %s %q", v.State, v.FailureReason)
	}
}

func TestTransientFailuresAreRetriedThenGivenUp(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testTransientFailuresAreRetriedThenGivenUp)
}

func testTransientFailuresAreRetriedThenGivenUp(t *testing.T, p *platform.Process) {
	r := newRig(t, p, 1)
	ctx := t.Context()
	id := r.uploaded(t, "") // no source object: every attempt fails

	if err := r.worker.Handle(ctx, delivery(id)); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	v, _ := r.store.Video(ctx, id)
	if v.State != video.StateUploaded {
		t.Fatalf("after a transient failure the video is %s, want uploaded (back in line)", v.State)
	}
	pending, err := r.store.PendingOutbox(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 { // the upload's job; the retry's waits for its delay
		t.Fatalf("pending jobs = %d", len(pending))
	}

	if err := r.worker.Handle(ctx, delivery(id)); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	v, _ = r.store.Video(ctx, id)
	if v.State != video.StateFailed || !strings.Contains(v.FailureReason, "giving up") {
		t.Fatalf("after the last attempt: %s %q", v.State, v.FailureReason)
	}
}

func TestShutdownMidEncodeHandsTheVideoBack(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testShutdownMidEncodeHandsTheVideoBack)
}

func testShutdownMidEncodeHandsTheVideoBack(t *testing.T, p *platform.Process) {
	r := newRig(t, p, 3)
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	testenv.GenerateClip(t, clip, 1280, 720, 20, true)
	id := r.uploaded(t, clip)
	first, err := r.store.PendingOutbox(t.Context(), 10)
	if err != nil || len(first) != 1 {
		t.Fatalf("pending = %v, %v", first, err)
	}
	if err := r.store.MarkOutboxSent(t.Context(), []int64{first[0].ID}); err != nil {
		t.Fatal(err)
	}

	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- r.worker.Handle(ctx, delivery(id)) }()
	deadline := time.Now().Add(time.Minute)
	for {
		v, _ := r.store.Video(t.Context(), id)
		if v.State == video.StateProcessing && v.Progress > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("encode did not start: %+v", v)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Handle on shutdown: %v", err)
	}
	v, _ := r.store.Video(t.Context(), id)
	if v.State != video.StateUploaded {
		t.Fatalf("after shutdown the video is %s, want uploaded", v.State)
	}
	if pending, _ := r.store.PendingOutbox(t.Context(), 10); len(pending) != 1 {
		t.Fatalf("no job waits for the next worker: %v", pending)
	}
	if _, err := r.objects.Stat(t.Context(), video.MasterPlaylistKey(id)); err == nil {
		t.Fatal("an interrupted encode left a master playlist behind")
	}
}

// An encode that runs longer than its video's duration allows is stopped:
// ffmpeg is killed, the video fails naming the limit, and the worker is
// free for the next job.
func TestEncodeOverItsTimeIsStopped(t *testing.T) {
	t.Parallel()
	r := newRig(t, platformtest.Process(t, platformtest.Embedded), 3)
	set := testSettings(t, "worker-slow-", time.Minute, 3)
	set.Limits.TimeFactor, set.Limits.TimeBase = 0.1, 0 // a second for a 10 s video
	set.Options.Preset = "veryslow"                     // many times that
	r.worker = NewWorker(r.store, r.objects, r.worker.cache, set, nil)
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	testenv.GenerateClip(t, clip, 640, 360, 10, true)
	v, took := r.settle(t, r.uploaded(t, clip))
	t.Logf("settled in %v: %s %q", took.Round(time.Millisecond), v.State, v.FailureReason)
	if want := "the video took too long to encode: a video of 10s may take at most 1.0s"; v.State != video.StateFailed || v.FailureReason != want {
		t.Fatalf("%s %q, want failed: %q", v.State, v.FailureReason, want)
	}
	// The download and the probe come before the limit's second starts.
	if took > 15*time.Second {
		t.Errorf("the encode was stopped after %v", took)
	}
	if got := testutil.ToFloat64(r.worker.m.failures.WithLabelValues("over_limit")); got != 1 {
		t.Errorf("over_limit failures = %v, want 1", got)
	}
}
