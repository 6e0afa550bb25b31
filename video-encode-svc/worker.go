// Package encodesvc is the encode worker: it takes encode jobs from the
// queue, claims the video in the database with a lease it renews while it
// works, probes the source, encodes the whole HLS ladder in one ffmpeg run
// while publishing each segment as it is completed (the video is playable
// while it encodes: growing.go), makes the thumbnail and storyboard,
// publishes the on-demand playlists (the master playlist last) and marks
// the video ready, or failed with a reason a person can read. The claim,
// not the queue delivery, is what makes an encode happen once: a duplicate or late message finds nothing to claim. It never
// lets one bad file stop it from taking the next job.
package encodesvc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/captions"
	"github.com/cloudflix/cloudflix/internal/ladder"
	"github.com/cloudflix/cloudflix/internal/outbox"
	"github.com/cloudflix/cloudflix/internal/queue"
	"github.com/cloudflix/cloudflix/internal/transcode"
	"github.com/cloudflix/cloudflix/internal/video"
)

// Store is the encode side of the metadata store.
type Store interface {
	ClaimEncode(ctx context.Context, id, worker string, lease time.Duration) (video.Claim, error)
	RenewLease(ctx context.Context, id, worker string, lease time.Duration) error
	SetProgress(ctx context.Context, id, worker string, progress float64) error
	SetPlayable(ctx context.Context, id, worker string, playableSeconds, durationSeconds float64) error
	MarkReady(ctx context.Context, id, worker string, e video.Encoded) (video.Video, error)
	MarkFailed(ctx context.Context, id, worker, reason string) (video.Video, error)
	ReleaseEncode(ctx context.Context, id, worker string, retryAfter time.Duration) error
	captions.Store
	ChunkStore
}

// Objects is the object storage the worker reads sources from and writes
// renditions to.
type Objects interface {
	Download(ctx context.Context, key, path string) error
	PutFile(ctx context.Context, key, path, contentType string) error
	Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error
	List(ctx context.Context, prefix string, folders bool, fn func(blob.ObjectInfo) error) error
	Delete(ctx context.Context, keys []string) error
}

// Cache forgets a video's cached info after a change; it never fails the
// change, which is committed already.
type Cache interface {
	Forget(ctx context.Context, ids ...string)
}

// Settings tune the worker.
type Settings struct {
	WorkerID    string
	WorkDir     string
	Lease       time.Duration
	MaxAttempts int
	Limits      transcode.Limits
	Options     transcode.Options
	Chunks      ChunkSettings
}

// Worker encodes videos.
type Worker struct {
	store   Store
	objects Objects
	cache   Cache
	set     Settings
	m       workerMetrics
	shelf   *shelf
}

type workerMetrics struct {
	jobs     *prometheus.CounterVec
	failures *prometheus.CounterVec
	duration prometheus.Histogram
	speed    prometheus.Histogram
	running  prometheus.Gauge
}

// NewWorker returns a worker. reg may be nil.
func NewWorker(store Store, objects Objects, cache Cache, set Settings, reg prometheus.Registerer) *Worker {
	m := workerMetrics{
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloudflix_encode_jobs_total",
			Help: "Encode jobs by outcome: ready, failed, retried, skipped (nothing to claim), lease_lost; and chunks of encodes: chunk_done, chunk_failed (given back), chunk_lost (taken over).",
		}, []string{"outcome"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloudflix_encode_failures_total",
			Help: "Videos that ended failed, by reason class: unsupported_media, over_limit (a video over an encode limit), attempts_exhausted.",
		}, []string{"reason"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "cloudflix_encode_duration_seconds",
			Help:    "Wall time of a successful encode, download to ready.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 14),
		}),
		speed: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "cloudflix_encode_speed_ratio",
			Help:    "Seconds of video encoded per second of wall time (all rungs together).",
			Buckets: []float64{.1, .25, .5, 1, 2, 4, 8, 16, 32},
		}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "cloudflix_encode_running",
			Help: "Encodes running in this process.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.jobs, m.failures, m.duration, m.speed, m.running)
	}
	// A chunk job's source is kept for as long as a lease lasts after the
	// plan's last job here used it: the jobs of one plan are queued at
	// once, so a worker that takes several takes them within that.
	sources := newShelf(filepath.Join(set.WorkDir, "shelf"), set.Lease)
	return &Worker{store: store, objects: objects, cache: cache, set: set, m: m, shelf: sources}
}

// Handle is the queue handler for one encode job. It returns nil once the
// job's outcome is recorded in the database, an error when the job should be
// delivered again.
func (w *Worker) Handle(ctx context.Context, d queue.Delivery) error {
	job, err := outbox.ParseJob(d.Body)
	if err != nil {
		return queue.Permanent(err)
	}
	if job.Chunk != nil {
		return w.handleChunk(ctx, job)
	}
	id := job.VideoID
	asked := time.Now()
	claim, err := w.store.ClaimEncode(ctx, id, w.set.WorkerID, w.set.Lease)
	if errors.Is(err, video.ErrWrongState) || errors.Is(err, video.ErrNotFound) {
		// Already encoded, being encoded under a live lease, or deleted: a
		// duplicate message, nothing to do.
		w.m.jobs.WithLabelValues("skipped").Inc()
		slog.DebugContext(ctx, "encode job has nothing to claim", "video_id", id, "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("claim %s: %w", id, err)
	}
	w.cache.Forget(ctx, id)
	log := slog.With("video_id", id, "attempt", claim.Attempt)

	if claim.Attempt > w.set.MaxAttempts {
		reason := fmt.Sprintf("encoding failed %d times in a row; giving up", claim.Attempt-1)
		w.m.failures.WithLabelValues("attempts_exhausted").Inc()
		return w.fail(ctx, id, reason)
	}

	w.m.running.Inc()
	defer w.m.running.Dec()
	start := time.Now()
	jobCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	held := newTenure(asked, w.set.Lease)
	go w.renew(jobCtx, cancel, id, held)

	enc, err := w.encode(jobCtx, claim, held)
	var unsupported *transcode.Unsupported
	switch {
	case err == nil:
		if _, err := w.store.MarkReady(ctx, id, w.set.WorkerID, enc); err != nil {
			if errors.Is(err, video.ErrLeaseLost) {
				w.m.jobs.WithLabelValues("lease_lost").Inc()
				return nil
			}
			return w.retry(ctx, id, claim.Attempt, fmt.Errorf("mark ready: %w", err))
		}
		took := time.Since(start)
		w.m.jobs.WithLabelValues("ready").Inc()
		w.m.duration.Observe(took.Seconds())
		if took > 0 {
			w.m.speed.Observe(enc.DurationSeconds / took.Seconds())
		}
		w.cache.Forget(ctx, id)
		w.republishCaptions(ctx, id)
		// What earlier attempts' chunk plans left behind: this encode
		// removed its own already.
		if err := w.removeObjects(ctx, video.ChunksPrefix(id)); err != nil {
			log.WarnContext(ctx, "old chunk files not removed", "err", err)
		}
		log.InfoContext(ctx, "video ready", "renditions", len(enc.Renditions), "seconds", took.Seconds())
		return nil
	case errors.As(err, &unsupported):
		class := "unsupported_media"
		if unsupported.OverLimit {
			class = "over_limit"
		}
		w.m.failures.WithLabelValues(class).Inc()
		log.InfoContext(ctx, "video cannot be encoded", "reason", unsupported.Reason, "class", class)
		return w.fail(ctx, id, unsupported.Reason)
	case errors.Is(context.Cause(jobCtx), video.ErrLeaseLost), errors.Is(err, video.ErrLeaseLost):
		w.m.jobs.WithLabelValues("lease_lost").Inc()
		log.WarnContext(ctx, "encode lease lost to another worker; stopping")
		return nil
	default:
		return w.retry(ctx, id, claim.Attempt, err)
	}
}

func (w *Worker) fail(ctx context.Context, id, reason string) error {
	if _, err := w.store.MarkFailed(ctx, id, w.set.WorkerID, reason); err != nil && !errors.Is(err, video.ErrLeaseLost) {
		return fmt.Errorf("mark %s failed: %w", id, err)
	}
	w.m.jobs.WithLabelValues("failed").Inc()
	w.cache.Forget(ctx, id)
	return nil
}

// retry gives the video back to the queue through the outbox after a delay
// that grows with each attempt. On shutdown the video goes back at once.
func (w *Worker) retry(ctx context.Context, id string, attempt int, cause error) error {
	after := time.Duration(attempt) * 15 * time.Second
	if ctx.Err() != nil {
		after = 0
	}
	slog.WarnContext(ctx, "encode failed, will retry", "video_id", id, "attempt", attempt, "retry_after", after, "err", cause)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := w.store.ReleaseEncode(rctx, id, w.set.WorkerID, after); err != nil {
		if errors.Is(err, video.ErrLeaseLost) {
			return nil
		}
		// The lease will expire and the reconciler re-enqueues the video.
		return fmt.Errorf("release %s after %v: %w", id, cause, err)
	}
	w.m.jobs.WithLabelValues("retried").Inc()
	w.cache.Forget(rctx, id)
	return nil
}

// renew keeps the lease alive until ctx ends, telling held of each
// renewal; losing it cancels the encode.
func (w *Worker) renew(ctx context.Context, cancel context.CancelCauseFunc, id string, held *tenure) {
	t := time.NewTicker(w.set.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			asked := time.Now()
			err := w.store.RenewLease(ctx, id, w.set.WorkerID, w.set.Lease)
			switch {
			case err == nil:
				held.renewed(asked)
			case errors.Is(err, video.ErrLeaseLost):
				cancel(video.ErrLeaseLost)
				return
			case err != nil && ctx.Err() == nil:
				slog.WarnContext(ctx, "lease renewal failed, will retry", "video_id", id, "err", err)
			}
		}
	}
}

// encode turns the stored source into stored renditions, publishing them
// as they grow.
func (w *Worker) encode(ctx context.Context, claim video.Claim, held *tenure) (video.Encoded, error) {
	v := claim.Video
	if err := os.MkdirAll(w.set.WorkDir, 0o755); err != nil {
		return video.Encoded{}, fmt.Errorf("work dir: %w", err)
	}
	dir, err := os.MkdirTemp(w.set.WorkDir, "encode-"+v.ID+"-")
	if err != nil {
		return video.Encoded{}, fmt.Errorf("work dir: %w", err)
	}
	defer os.RemoveAll(dir)

	srcPath := filepath.Join(dir, "source")
	if err := w.objects.Download(ctx, video.SourceKey(v.ID), srcPath); err != nil {
		return video.Encoded{}, fmt.Errorf("download source: %w", err)
	}
	src, err := w.set.Options.Probe(ctx, srcPath, w.set.Limits)
	if err != nil {
		return video.Encoded{}, err
	}
	rungs := ladder.For(src.Width, src.Height)
	pub := w.newPublication(v.ID, src, rungs, filepath.Join(dir, "hls"), held)
	tag := fileTag(claim.Attempt)
	var out rendered
	if w.set.Chunks.chunked(src) {
		out, err = w.renderChunked(ctx, v.ID, tag, src, srcPath, dir, rungs, pub)
	} else {
		out, err = w.render(ctx, v.ID, tag, src, srcPath, dir, rungs, pub)
	}
	if err != nil {
		return video.Encoded{}, err
	}

	// Publishing is the lease holder's alone: a worker whose lease was
	// taken over while it encoded stops here rather than replace the new
	// holder's outputs.
	asked := time.Now()
	if err := w.store.RenewLease(ctx, v.ID, w.set.WorkerID, w.set.Lease); err != nil {
		return video.Encoded{}, fmt.Errorf("renew the lease before publishing: %w", err)
	}
	held.renewed(asked)
	if err := pub.finish(ctx, out); err != nil {
		return video.Encoded{}, err
	}
	return video.Encoded{DurationSeconds: src.DurationSeconds, Width: src.Width, Height: src.Height, Renditions: out.renditions}, nil
}

// rendered is what ffmpeg made of a source, in the job's folder.
type rendered struct {
	renditions         []video.Rendition
	hlsDir             string // the renditions and master.m3u8
	thumb, sprite, vtt string
}

// render runs ffmpeg on the probed source: the renditions (their files
// named with tag), published by pub as they grow, the thumbnail and the
// storyboard, into dir. It stops ffmpeg once the encode has taken as long
// as the limits allow for the video's duration.
func (w *Worker) render(ctx context.Context, id, tag string, src transcode.Source, srcPath, dir string, rungs []ladder.Rung, pub *publication) (rendered, error) {
	ctx, cancel := w.set.Limits.EncodeDeadline(ctx, src)
	defer cancel()
	opts := w.set.Options
	opts.Tag = tag
	out := rendered{hlsDir: filepath.Join(dir, "hls")}
	progress := func(f float64) {
		// Encoding is most of the job; the upload takes the last 5%.
		if err := w.store.SetProgress(ctx, id, w.set.WorkerID, 0.95*f); err == nil {
			w.cache.Forget(ctx, id)
		}
	}
	stop := pub.follow(ctx)
	var err error
	out.renditions, err = opts.Encode(ctx, src, srcPath, out.hlsDir, rungs, progress)
	stop()
	if err != nil {
		return rendered{}, err
	}
	return pictures(ctx, opts, src, srcPath, dir, out)
}

// pictures makes the thumbnail and the storyboard of the source into dir,
// and adds them to out.
func pictures(ctx context.Context, opts transcode.Options, src transcode.Source, srcPath, dir string, out rendered) (rendered, error) {
	out.thumb = filepath.Join(dir, "thumb.jpg")
	if err := opts.Thumbnail(ctx, src, srcPath, out.thumb); err != nil {
		return rendered{}, err
	}
	var err error
	if out.sprite, out.vtt, err = opts.Storyboard(ctx, src, srcPath, dir); err != nil {
		return rendered{}, err
	}
	return out, nil
}
