package encodesvc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/ladder"
	"github.com/cloudflix/cloudflix/internal/outbox"
	"github.com/cloudflix/cloudflix/internal/queue"
	"github.com/cloudflix/cloudflix/internal/transcode"
	"github.com/cloudflix/cloudflix/internal/video"
)

// A long source is encoded by every free worker at once (video.Chunk):
// the worker that claims the video plans its chunks, puts a job for each
// on the queue, starts the join (which encodes the audio), and takes
// chunks itself until none is left to take; then it waits for the chunks
// other workers hold (taking over any whose lease runs out), joins them
// with the audio and publishes the renditions as a one-pass encode would.
// A worker given a chunk job claims that chunk, encodes it from its
// process's copy of the source (see shelf), stores the chunk's files and
// records it done.

// ChunkStore is the chunk side of the metadata store (store.Chunks).
type ChunkStore interface {
	PlanChunks(ctx context.Context, id, worker, plan string, chunks []video.Chunk) error
	ClaimChunk(ctx context.Context, id, plan string, index int, worker string, lease time.Duration) (video.Chunk, error)
	RenewChunk(ctx context.Context, id, plan string, index int, worker string, lease time.Duration) error
	FinishChunk(ctx context.Context, id, plan string, index int, worker, output string) error
	ReleaseChunk(ctx context.Context, id, plan string, index int, worker, why string, failed bool) error
	ChunkPlan(ctx context.Context, id, plan string) ([]video.Chunk, error)
	DropChunks(ctx context.Context, id, plan string) error
}

// Publisher puts jobs on the encode queue.
type Publisher interface {
	Publish(ctx context.Context, m queue.Message) error
}

// ChunkSettings say which sources are encoded in chunks, and how.
type ChunkSettings struct {
	// From is the length, in seconds, from which a source is encoded in
	// chunks; 0 encodes every source in one pass.
	From float64
	// Seconds is the length of a chunk, rounded down to whole segments.
	Seconds int
	// Jobs is the queue chunk jobs are offered to other workers on; with
	// none, the worker holding the encode encodes every chunk.
	Jobs Publisher
}

// chunked reports whether src is encoded in chunks.
func (c ChunkSettings) chunked(src transcode.Source) bool {
	return c.From > 0 && src.DurationSeconds >= c.From && len(transcode.ChunkPlan(src.DurationSeconds, c.Seconds)) > 1
}

// chunkWait is how often the worker holding an encode looks at its plan
// while other workers hold every chunk left.
const chunkWait = time.Second

// renderChunked is render for a source encoded in chunks: the renditions
// (their files named with tag, which also names the plan), published by
// pub as they grow, the thumbnail and the storyboard, into dir. The
// chunks are joined as they are done, in order, so the video becomes
// playable once its first chunk is.
func (w *Worker) renderChunked(ctx context.Context, id, tag string, src transcode.Source, srcPath, dir string, rungs []ladder.Rung, pub *publication) (rendered, error) {
	ctx, cancel := w.set.Limits.EncodeDeadline(ctx, src)
	defer cancel()
	opts := w.set.Options
	opts.Tag = tag
	plan := strings.TrimSuffix(tag, "-")
	chunks := transcode.ChunkPlan(src.DurationSeconds, w.set.Chunks.Seconds)
	if err := w.store.PlanChunks(ctx, id, w.set.WorkerID, plan, chunks); err != nil {
		return rendered{}, fmt.Errorf("plan chunks: %w", err)
	}
	defer w.dropChunks(ctx, id, plan)
	defer w.shelf.lend(id, plan, srcPath, src)()
	w.offerChunks(ctx, id, plan, len(chunks))

	out := rendered{hlsDir: filepath.Join(dir, "hls")}
	join, err := opts.NewJoin(src, srcPath, chunks, out.hlsDir, rungs)
	if err != nil {
		return rendered{}, err
	}
	defer join.Close()

	// The join (with the audio) runs while chunks are taken: a failure of
	// either ends the other.
	jctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	joined := make(chan error, 1)
	go func() {
		var err error
		if out.renditions, err = join.Run(jctx); err != nil {
			stop(err)
		}
		joined <- err
	}()
	stopFollowing := pub.follow(jctx)
	err = w.takeChunks(jctx, id, plan, src, srcPath, dir, rungs, join)
	if err != nil {
		stop(err)
	}
	if jerr := <-joined; err == nil {
		err = jerr
	}
	stopFollowing()
	if err != nil {
		return rendered{}, err
	}
	return pictures(ctx, opts, src, srcPath, dir, out)
}

// offerChunks puts a job for every chunk but the first, which this worker
// takes at once, on the queue. A job that cannot be put there only costs
// parallelism: this worker takes whatever no one else does.
func (w *Worker) offerChunks(ctx context.Context, id, plan string, n int) {
	if w.set.Chunks.Jobs == nil {
		return
	}
	for i := 1; i < n; i++ {
		if err := w.set.Chunks.Jobs.Publish(ctx, outbox.ChunkMessage(id, plan, i)); err != nil {
			slog.WarnContext(ctx, "chunk job not queued; this worker will encode it", "video_id", id, "chunk", i, "err", err)
			return
		}
	}
}

// errJoined ends the taking of chunks once every chunk is joined.
var errJoined = errors.New("every chunk is handed to the join")

// takeChunks encodes chunks of the plan while any is left to take, and
// meanwhile hands each chunk to the join as soon as it is done: those of
// this worker at once, those other workers stored once fetched. It
// returns once every chunk is joined.
func (w *Worker) takeChunks(ctx context.Context, id, plan string, src transcode.Source, srcPath, dir string, rungs []ladder.Rung, join *transcode.Joiner) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var mu sync.Mutex
	joined := map[int]bool{}
	isJoined := func(index int) bool {
		mu.Lock()
		defer mu.Unlock()
		return joined[index]
	}
	add := func(index int, chunkDir string) error {
		mu.Lock()
		defer mu.Unlock()
		if joined[index] {
			return nil
		}
		joined[index] = true
		return join.Add(index, chunkDir)
	}
	collected := make(chan error, 1)
	go func() {
		err := w.collectChunks(ctx, id, plan, dir, rungs, isJoined, add)
		if err == nil {
			cancel(errJoined)
		} else {
			cancel(err)
		}
		collected <- err
	}()
	err := w.encodeChunks(ctx, id, plan, src, srcPath, dir, rungs, add)
	if err != nil && !errors.Is(err, errJoined) {
		cancel(err)
	}
	cerr := <-collected
	if err != nil && !errors.Is(err, errJoined) {
		return err
	}
	return cerr
}

// encodeChunks claims and encodes the plan's free chunks, and chunks whose
// lease ran out, until ctx ends (with errJoined once every chunk is
// joined), handing each it encodes to add.
func (w *Worker) encodeChunks(ctx context.Context, id, plan string, src transcode.Source, srcPath, dir string, rungs []ladder.Rung, add func(int, string) error) error {
	for {
		c, err := w.store.ClaimChunk(ctx, id, plan, -1, w.set.WorkerID, w.set.Lease)
		switch {
		case err == nil:
			if c.Attempts > w.set.MaxAttempts {
				return fmt.Errorf("chunk %d failed %d times, the last: %s", c.Index, c.Attempts-1, c.Failure)
			}
			chunkDir := filepath.Join(dir, "chunk-"+strconv.Itoa(c.Index))
			err := w.runChunk(ctx, id, plan, c, src, srcPath, chunkDir, rungs)
			var unsupported *transcode.Unsupported
			switch {
			case errors.Is(err, video.ErrLeaseLost):
				continue // it ran out while this worker was slow: another redoes it
			case err != nil && (errors.As(err, &unsupported) || ctx.Err() != nil):
				return err
			case err != nil:
				// Given back to the plan, with its attempts counted.
				slog.WarnContext(ctx, "chunk encode failed, will retry", "video_id", id, "chunk", c.Index, "err", err)
				continue
			}
			if err := add(c.Index, chunkDir); err != nil {
				return err
			}
			continue
		case errors.Is(err, video.ErrNotFound):
			return fmt.Errorf("the chunk plan was replaced: %w", video.ErrLeaseLost)
		case ctx.Err() != nil:
			return context.Cause(ctx)
		case !errors.Is(err, video.ErrWrongState):
			return err
		}
		if err := sleep(ctx, chunkWait); err != nil {
			return err
		}
	}
}

// collectChunks follows the plan until every chunk is done and joined:
// it fetches each chunk another worker made and hands it to add, and
// reports the progress. A chunk that failed for good fails the encode.
func (w *Worker) collectChunks(ctx context.Context, id, plan, dir string, rungs []ladder.Rung, isJoined func(int) bool, add func(int, string) error) error {
	reported := -1
	for {
		chunks, err := w.store.ChunkPlan(ctx, id, plan)
		if errors.Is(err, video.ErrNotFound) {
			return fmt.Errorf("the chunk plan was replaced: %w", video.ErrLeaseLost)
		}
		if err != nil {
			return err
		}
		done, all := 0, true
		for _, c := range chunks {
			switch c.State {
			case video.ChunkFailed:
				return &transcode.Unsupported{Reason: c.Failure}
			case video.ChunkDone:
				done++
				if isJoined(c.Index) {
					continue
				}
				fetched := filepath.Join(dir, "fetched-"+strconv.Itoa(c.Index))
				if err := w.fetchChunk(ctx, c, fetched, rungs); err != nil {
					return err
				}
				if err := add(c.Index, fetched); err != nil {
					return err
				}
			default:
				all = false
			}
		}
		if done != reported {
			reported = done
			if err := w.store.SetProgress(ctx, id, w.set.WorkerID, 0.95*float64(done)/float64(len(chunks))); err == nil {
				w.cache.Forget(ctx, id)
			}
		}
		if all {
			return nil
		}
		if err := sleep(ctx, chunkWait); err != nil {
			return err
		}
	}
}

// sleep waits for d, or returns the cause of ctx's end.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}

// fetchChunk downloads the files another worker stored of chunk c into
// dir.
func (w *Worker) fetchChunk(ctx context.Context, c video.Chunk, dir string, rungs []ladder.Rung) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("fetch chunk %d: %w", c.Index, err)
	}
	for _, r := range rungs {
		name := transcode.ChunkFile(r.Name)
		if err := w.objects.Download(ctx, c.Output+name, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("fetch chunk %d: %w", c.Index, err)
		}
	}
	return nil
}

// runChunk encodes chunk c, which this worker has claimed, into dir,
// stores its files and records it done, renewing its lease meanwhile.
// ErrLeaseLost when the chunk was given to another worker first; a chunk
// that cannot be encoded is given back, or failed for good when the
// source is at fault.
func (w *Worker) runChunk(ctx context.Context, id, plan string, c video.Chunk, src transcode.Source, srcPath, dir string, rungs []ladder.Rung) error {
	ctx, release := w.holdChunk(ctx, id, plan, c.Index)
	return release(w.encodeChunk(ctx, id, plan, c, src, srcPath, dir, rungs))
}

// encodeChunk encodes chunk c into dir and stores it.
func (w *Worker) encodeChunk(ctx context.Context, id, plan string, c video.Chunk, src transcode.Source, srcPath, dir string, rungs []ladder.Rung) error {
	if err := w.set.Options.EncodeChunk(ctx, src, srcPath, c, dir, rungs, nil); err != nil {
		return err
	}
	return w.storeChunk(ctx, id, plan, c.Index, dir, rungs)
}

// holdChunk renews this worker's lease on a chunk until the returned
// release is called, with the outcome of the work; the context it returns
// ends when the lease is lost. release records a failed outcome (giving
// the chunk back) and returns ErrLeaseLost when the lease was lost.
func (w *Worker) holdChunk(ctx context.Context, id, plan string, index int) (context.Context, func(error) error) {
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(w.set.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			err := w.store.RenewChunk(ctx, id, plan, index, w.set.WorkerID, w.set.Lease)
			if errors.Is(err, video.ErrLeaseLost) {
				cancel(video.ErrLeaseLost)
				return
			}
			if err != nil && ctx.Err() == nil {
				slog.WarnContext(ctx, "chunk lease renewal failed, will retry", "video_id", id, "chunk", index, "err", err)
			}
		}
	}()
	return ctx, func(err error) error {
		lost := errors.Is(context.Cause(ctx), video.ErrLeaseLost) || errors.Is(err, video.ErrLeaseLost)
		cancel(nil)
		<-done
		if lost {
			w.m.jobs.WithLabelValues("chunk_lost").Inc()
			return fmt.Errorf("chunk %d: %w", index, video.ErrLeaseLost)
		}
		if err == nil {
			w.m.jobs.WithLabelValues("chunk_done").Inc()
			return nil
		}
		var unsupported *transcode.Unsupported
		failed := errors.As(err, &unsupported)
		why := err.Error()
		if failed {
			why = unsupported.Reason
		}
		rctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer stop()
		if rerr := w.store.ReleaseChunk(rctx, id, plan, index, w.set.WorkerID, why, failed); rerr != nil && !errors.Is(rerr, video.ErrLeaseLost) {
			slog.WarnContext(ctx, "chunk not given back; its lease will run out", "video_id", id, "chunk", index, "err", rerr)
		}
		w.m.jobs.WithLabelValues("chunk_failed").Inc()
		return err
	}
}

// storeChunk stores the chunk's files under a prefix of this attempt's own
// and records the chunk done. A worker that lost the chunk meanwhile
// removes what it stored.
func (w *Worker) storeChunk(ctx context.Context, id, plan string, index int, dir string, rungs []ladder.Rung) error {
	b := make([]byte, 4)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	output := video.ChunkPrefix(id, plan) + strconv.Itoa(index) + "/" + hex.EncodeToString(b) + "/"
	var keys []string
	for _, r := range rungs {
		name := transcode.ChunkFile(r.Name)
		if err := w.objects.PutFile(ctx, output+name, filepath.Join(dir, name), "video/mp4"); err != nil {
			return fmt.Errorf("store chunk %d: %w", index, err)
		}
		keys = append(keys, output+name)
	}
	err := w.store.FinishChunk(ctx, id, plan, index, w.set.WorkerID, output)
	if errors.Is(err, video.ErrLeaseLost) {
		dctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer stop()
		if derr := w.objects.Delete(dctx, keys); derr != nil {
			slog.WarnContext(ctx, "a lost chunk's files were not removed", "video_id", id, "chunk", index, "err", derr)
		}
	}
	return err
}

// dropChunks removes the plan's chunk jobs and files once its encode is
// over, whatever its outcome.
func (w *Worker) dropChunks(ctx context.Context, id, plan string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := w.store.DropChunks(ctx, id, plan); err != nil {
		slog.WarnContext(ctx, "chunk jobs not removed", "video_id", id, "err", err)
	}
	if err := w.removeObjects(ctx, video.ChunkPrefix(id, plan)); err != nil {
		slog.WarnContext(ctx, "chunk files not removed", "video_id", id, "err", err)
	}
}

// removeObjects deletes every object under prefix.
func (w *Worker) removeObjects(ctx context.Context, prefix string) error {
	var keys []string
	if err := w.objects.List(ctx, prefix, false, func(o blob.ObjectInfo) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	return w.objects.Delete(ctx, keys)
}

// handleChunk is the queue handler of one chunk job: it claims the chunk,
// encodes it from its own copy of the source and stores it. A chunk that
// is done, held by another worker or of a replaced plan is skipped; one
// that fails is given back to the plan, whose holder sees to it, so the
// job itself is settled either way.
func (w *Worker) handleChunk(ctx context.Context, job outbox.Job) error {
	id, plan, index := job.VideoID, job.Plan, *job.Chunk
	c, err := w.store.ClaimChunk(ctx, id, plan, index, w.set.WorkerID, w.set.Lease)
	if errors.Is(err, video.ErrWrongState) || errors.Is(err, video.ErrNotFound) {
		w.m.jobs.WithLabelValues("skipped").Inc()
		return nil
	}
	if err != nil {
		return fmt.Errorf("claim chunk %d of %s: %w", index, id, err)
	}
	w.m.running.Inc()
	defer w.m.running.Dec()
	hctx, release := w.holdChunk(ctx, id, plan, index)
	err = w.encodeChunkJob(hctx, id, plan, c)
	if err = release(err); err != nil && !errors.Is(err, video.ErrLeaseLost) {
		slog.WarnContext(ctx, "chunk encode failed; given back", "video_id", id, "chunk", index, "err", err)
	}
	return nil
}

// encodeChunkJob encodes chunk c from the source on this process's shelf,
// fetched and probed by the plan's first job here, and stores it.
func (w *Worker) encodeChunkJob(ctx context.Context, id, plan string, c video.Chunk) error {
	if err := os.MkdirAll(w.set.WorkDir, 0o755); err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	dir, err := os.MkdirTemp(w.set.WorkDir, "chunk-"+id+"-")
	if err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	defer os.RemoveAll(dir)
	srcPath := filepath.Join(dir, "source")
	src, err := w.shelf.take(ctx, id, plan, srcPath, func(ctx context.Context, path string) (transcode.Source, error) {
		if err := w.objects.Download(ctx, video.SourceKey(id), path); err != nil {
			return transcode.Source{}, fmt.Errorf("download source: %w", err)
		}
		return w.set.Options.Probe(ctx, path, w.set.Limits)
	})
	if err != nil {
		return err
	}
	ctx, cancel := w.set.Limits.EncodeDeadline(ctx, src)
	defer cancel()
	return w.encodeChunk(ctx, id, plan, c, src, srcPath, filepath.Join(dir, "chunk"), ladder.For(src.Width, src.Height))
}
