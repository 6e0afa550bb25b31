package encodesvc

import (
	"context"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
)

// chunkWatch is the store as the chunked encode test sees it: it lets a
// worker that then dies claim a chunk as soon as the plan is made, holds
// the coordinator's first claim until the other worker has one of its
// own (so that both work on the video however the machine schedules
// them), and records who finished which chunk.
type chunkWatch struct {
	store.Store
	coordinator string
	deadClaim   func(id, plan string)

	mu       sync.Mutex
	plan     string
	finished map[int]string // chunk -> worker
	claims   map[string]int // worker -> chunk claims
	waited   bool
}

func (s *chunkWatch) PlanChunks(ctx context.Context, id, worker, plan string, chunks []video.Chunk) error {
	err := s.Store.PlanChunks(ctx, id, worker, plan, chunks)
	if err == nil {
		s.mu.Lock()
		s.plan = plan
		s.mu.Unlock()
		s.deadClaim(id, plan)
	}
	return err
}

func (s *chunkWatch) ClaimChunk(ctx context.Context, id, plan string, index int, worker string, lease time.Duration) (video.Chunk, error) {
	s.mu.Lock()
	wait := worker == s.coordinator && !s.waited
	s.waited = s.waited || wait
	s.mu.Unlock()
	if wait {
		deadline := time.Now().Add(time.Minute)
		for s.claimsBy(func(w string) bool { return w != s.coordinator && w != "dead-worker" }) == 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	c, err := s.Store.ClaimChunk(ctx, id, plan, index, worker, lease)
	if err == nil {
		s.mu.Lock()
		s.claims[worker]++
		s.mu.Unlock()
	}
	return c, err
}

func (s *chunkWatch) claimsBy(match func(worker string) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for w, c := range s.claims {
		if match(w) {
			n += c
		}
	}
	return n
}

func (s *chunkWatch) FinishChunk(ctx context.Context, id, plan string, index int, worker, output string) error {
	err := s.Store.FinishChunk(ctx, id, plan, index, worker, output)
	if err == nil {
		s.mu.Lock()
		s.finished[index] = worker
		s.mu.Unlock()
	}
	return err
}

// downloads counts the downloads of each object.
type downloads struct {
	blob.Store
	mu sync.Mutex
	n  map[string]int
}

func (d *downloads) Download(ctx context.Context, key, path string) error {
	d.mu.Lock()
	d.n[key]++
	d.mu.Unlock()
	return d.Store.Download(ctx, key, path)
}

func (d *downloads) of(key string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n[key]
}

// TestChunkedEncodeAcrossWorkers encodes a video in chunks shared by two
// workers through the queue, one chunk claimed by a worker that dies
// before finishing it, and checks that the video is ready with
// renditions as a one-pass encode makes them (decoding with -xerror,
// with the source's frames), that both workers encoded chunks, that the
// dead worker's chunk was redone and its late finish refused, that the
// other worker fetched the source once for all its chunks, and that no
// chunk files are left.
func TestChunkedEncodeAcrossWorkers(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testChunkedEncodeAcrossWorkers)
}

func testChunkedEncodeAcrossWorkers(t *testing.T, p *platform.Process) {
	r := newRig(t, p, 3)
	ctx := t.Context()
	q, err := p.Queue(ctx, "encode", 1)
	if err != nil {
		t.Fatal(err)
	}
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	testenv.GenerateClip(t, clip, 640, 360, 13, true)
	id := r.uploaded(t, clip)

	watch := &chunkWatch{Store: r.store, finished: map[int]string{}, claims: map[string]int{}}
	deadLease := 2 * time.Second
	watch.deadClaim = func(id, plan string) {
		if _, err := r.store.ClaimChunk(ctx, id, plan, 1, "dead-worker", deadLease); err != nil {
			t.Errorf("the dying worker's claim: %v", err)
		}
	}
	set := testSettings(t, "coordinator-", time.Minute, 3)
	set.Chunks = ChunkSettings{From: 10, Seconds: 4, Jobs: q}
	watch.coordinator = set.WorkerID
	coordinator := NewWorker(watch, r.objects, r.worker.cache, set, nil)
	other := testSettings(t, "other-", time.Minute, 3)
	other.Chunks = set.Chunks
	fetched := &downloads{Store: r.objects, n: map[string]int{}}
	second := NewWorker(watch, fetched, r.worker.cache, other, nil)

	consumeCtx, stop := context.WithCancel(ctx)
	consumed := make(chan error, 1)
	go func() { consumed <- q.Consume(consumeCtx, second.Handle) }()
	t.Cleanup(func() {
		stop()
		<-consumed
	})

	if err := coordinator.Handle(ctx, delivery(id)); err != nil {
		t.Fatalf("Handle: %v", err)
	}
	v, err := r.store.Video(ctx, id)
	if err != nil || v.State != video.StateReady || v.Progress != 1 {
		t.Fatalf("after the chunked encode: %+v, %v", v, err)
	}
	watch.mu.Lock()
	finished, plan := maps.Clone(watch.finished), watch.plan
	watch.mu.Unlock()
	if len(finished) != 4 {
		t.Fatalf("chunks finished: %v, want 4 (13 s: 4 and 2 s, then 4 s chunks, the last 3 s)", finished)
	}
	var workers []string
	for _, w := range finished {
		if !slices.Contains(workers, w) {
			workers = append(workers, w)
		}
	}
	if len(workers) != 2 || finished[1] == "dead-worker" {
		t.Errorf("chunks finished by %v: want both live workers, and chunk 1 redone", finished)
	}
	if n, claims := fetched.of(video.SourceKey(id)), watch.claimsBy(func(w string) bool { return w == other.WorkerID }); n != 1 {
		t.Errorf("the other worker fetched the source %d times for its %d chunks", n, claims)
	}
	// The dead worker comes back late: its chunk is no longer its own.
	if err := r.store.FinishChunk(ctx, id, plan, 1, "dead-worker", "late/"); !errors.Is(err, video.ErrLeaseLost) {
		t.Errorf("late FinishChunk: %v, want ErrLeaseLost", err)
	}

	tree := fetchHLS(t, r, v)
	tree.checkPlayable(t, v)
	wantTiming(30, 13)(t, v, tree)
	wantAudio(true)(t, v, tree)

	var left []string
	if err := r.objects.List(ctx, video.ChunksPrefix(id), false, func(o blob.ObjectInfo) error {
		left = append(left, o.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("chunk files left: %v", left)
	}
	if _, err := r.store.ChunkPlan(ctx, id, plan); !errors.Is(err, video.ErrNotFound) {
		t.Errorf("chunk jobs left: %v", err)
	}
	if !strings.HasPrefix(plan, "a1-") {
		t.Errorf("plan %q is not named after the claim's file tag", plan)
	}
}
