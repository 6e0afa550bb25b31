package encodesvc

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videocache"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// reader reads video info the way the host service does: through the
// cache, keeping settled videos for an hour, so that only a writer's clear
// can make the next read see a change.
func (r rig) reader(t *testing.T, p *platform.Process) func(id string) video.Video {
	c, err := p.Cache(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	vc := videocache.New(c, time.Hour, nil)
	return func(id string) video.Video {
		t.Helper()
		v, err := vc.Video(t.Context(), id, r.store.Video)
		if err != nil {
			t.Fatalf("read %s: %v", id, err)
		}
		return v
	}
}

// The encode's writers clear the cached info they change: a reader that
// keeps reading while a video encodes sees it ready on the very next read
// after the encode, and a ready video sent back to the encoder is seen
// waiting at once.
func TestWritersClearTheCache(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testWritersClearTheCache)
}

func testWritersClearTheCache(t *testing.T, p *platform.Process) {
	r := newRig(t, p, 3)
	read := r.reader(t, p)
	ctx := t.Context()
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	testenv.GenerateClip(t, clip, 320, 180, 3, true)
	id := r.uploaded(t, clip)

	// Real traffic reads all through the encode, filling the cache with
	// each state the video passes; the last write must still be seen.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				read(id)
			}
		}
	})
	err := r.worker.Handle(ctx, delivery(id))
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	if v := read(id); v.State != video.StateReady {
		t.Fatalf("the read after the encode finished shows %s: the worker left its state in the cache", v.State)
	}

	q, err := p.Queue(ctx, "encode", 1)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Cache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	svc := NewService(r.store, q, videocache.New(c, 0, nil), func() {})
	// The video has no owner (it is from the store's helper), so an
	// admin sends it back.
	admin := storetest.NewUser(t, r.store, testenv.Name("admin"), auth.RoleAdmin)
	if _, err := svc.Reencode(storetest.SignedIn(ctx, admin), &pb.ReencodeRequest{Id: id}); err != nil {
		t.Fatal(err)
	}
	if v := read(id); v.State != video.StateUploaded {
		t.Fatalf("the read after a re-encode shows %s, want uploaded: the cached ready video was kept", v.State)
	}
}

// A worker keeps its lease alive for as long as it encodes: another worker
// finds nothing to claim however many leases go by, and the video ends
// ready once.
func TestLeaseIsRenewedWhileEncoding(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testLeaseIsRenewedWhileEncoding)
}

func testLeaseIsRenewedWhileEncoding(t *testing.T, p *platform.Process) {
	// Two seconds: a renewal every two thirds of a second keeps it even when
	// a loaded machine delays one by more than a second.
	const lease = 2 * time.Second
	a := newLeaseRig(t, p, "a", lease)
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	testenv.GenerateClip(t, clip, 1280, 720, 20, true) // an encode of several leases
	id := a.uploaded(t, clip)

	done := make(chan error, 1)
	go func() { done <- a.worker.Handle(t.Context(), delivery(id)) }()
	a.waitProcessing(t, id)
	started := time.Now()
	// Another worker tries all through the encode; it must find the video
	// taken every time, long after the first lease would have run out.
	other := testenv.Name("worker-b-")
	for tries := 0; ; tries++ {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if held := time.Since(started); held < 3*lease {
				t.Fatalf("the encode took %v: too short to show the lease renewed; lengthen the clip", held)
			}
			a.wantOutcomes(t, map[string]float64{"ready": 1})
			if v, _ := a.store.Video(t.Context(), id); v.State != video.StateReady {
				t.Fatalf("after the encode: %s %q", v.State, v.FailureReason)
			}
			return
		case <-time.After(lease / 2):
			_, err := a.store.ClaimEncode(t.Context(), id, other, lease)
			if !errors.Is(err, video.ErrWrongState) {
				t.Fatalf("another worker's claim %v into the encode = %v, want ErrWrongState: the lease was not renewed", time.Since(started), err)
			}
		}
	}
}

// A worker whose lease is taken over stops at its next renewal without
// publishing anything, and the video ends ready once, by the worker that
// took it over.
func TestLeaseLostStopsTheWorker(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testLeaseLostStopsTheWorker)
}

func testLeaseLostStopsTheWorker(t *testing.T, p *platform.Process) {
	a := newLeaseRig(t, p, "a", time.Second)
	b := newLeaseRig(t, p, "b", time.Minute)
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	testenv.GenerateClip(t, clip, 1280, 720, 20, true) // an encode of several leases
	id := a.uploaded(t, clip)

	done := make(chan error, 1)
	go func() { done <- a.worker.Handle(t.Context(), delivery(id)) }()
	a.waitProcessing(t, id)

	// Take the video over through the store, as the reconciler and a new
	// worker do after a lease runs out.
	// A holder may renew a lapsed lease nobody took yet, so the two steps
	// are tried again until the claim wins.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := a.store.ExpireLeases(t.Context(), a.worker.set.WorkerID); err != nil {
			t.Fatalf("expire the lease: %v", err)
		}
		_, err := a.store.ClaimEncode(t.Context(), id, b.worker.set.WorkerID, time.Minute)
		if err == nil {
			break
		}
		if !errors.Is(err, video.ErrWrongState) || time.Now().After(deadline) {
			t.Fatalf("take over the lease: %v", err)
		}
	}
	// It renews every third of its lease; a few renewals' time is all it
	// may go on for, far less than the encode would take.
	takenOver := time.Now()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Handle after losing the lease: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the worker kept encoding after its lease was taken over")
	}
	t.Logf("the worker stopped %v after the takeover", time.Since(takenOver).Round(time.Millisecond))
	a.wantOutcomes(t, map[string]float64{"lease_lost": 1})
	if v, _ := a.store.Video(t.Context(), id); v.State != video.StateProcessing {
		t.Fatalf("the worker that lost its lease moved the video to %s", v.State)
	}
	if _, err := a.objects.Stat(t.Context(), video.MasterPlaylistKey(id)); err == nil {
		t.Fatal("the worker that lost its lease published a master playlist")
	}

	// The new holder's lease runs out too (it "died"); its next delivery
	// finishes the video, once.
	if n, err := b.store.ExpireLeases(t.Context(), b.worker.set.WorkerID); err != nil || n != 1 {
		t.Fatalf("expire the second lease: %d, %v", n, err)
	}
	if err := b.worker.Handle(t.Context(), delivery(id)); err != nil {
		t.Fatal(err)
	}
	b.wantOutcomes(t, map[string]float64{"ready": 1})
	a.wantOutcomes(t, map[string]float64{"lease_lost": 1, "ready": 0})
	if v, _ := b.store.Video(t.Context(), id); v.State != video.StateReady {
		t.Fatalf("after the second worker: %s %q", v.State, v.FailureReason)
	}
}

// leaseRig is a worker with a lease of its own length and its own metrics.
type leaseRig struct {
	rig
	reg *prometheus.Registry
}

func newLeaseRig(t *testing.T, p *platform.Process, name string, lease time.Duration) leaseRig {
	t.Helper()
	r := newRig(t, p, 3)
	reg := prometheus.NewRegistry()
	r.worker = NewWorker(r.store, r.objects, r.worker.cache, testSettings(t, "worker-"+name+"-", lease, 3), reg)
	return leaseRig{rig: r, reg: reg}
}

// waitProcessing polls until the video's encode has started.
func (r leaseRig) waitProcessing(t *testing.T, id string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		v, err := r.store.Video(t.Context(), id)
		if err == nil && v.State == video.StateProcessing && v.Progress > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the encode did not start: %+v, %v", v, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wantOutcomes checks the worker's job outcomes.
func (r leaseRig) wantOutcomes(t *testing.T, want map[string]float64) {
	t.Helper()
	for outcome, n := range want {
		if got := testutil.ToFloat64(r.worker.m.jobs.WithLabelValues(outcome)); got != n {
			t.Errorf("worker %s: %s jobs = %v, want %v", r.worker.set.WorkerID, outcome, got, n)
		}
	}
}

// The reconciler, left running, sends back to the queue a video whose job
// was lost after it was published, and one whose encode lease ran out.
func TestReconcilerRequeuesStuckVideos(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testReconcilerRequeuesStuckVideos)
}

func testReconcilerRequeuesStuckVideos(t *testing.T, p *platform.Process) {
	ctx := t.Context()
	db, err := p.Store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lost := storetest.Uploaded(t, db, "Job lost on the way")
	died := storetest.Uploaded(t, db, "Worker died")
	sent, err := db.PendingOutbox(ctx, 10)
	if err != nil || len(sent) != 2 {
		t.Fatalf("pending = %v, %v", sent, err)
	}
	if err := db.MarkOutboxSent(ctx, []int64{sent[0].ID, sent[1].ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ClaimEncode(ctx, died.ID, "gone-worker", time.Millisecond); err != nil {
		t.Fatal(err)
	}

	var wakes sync.WaitGroup
	wakes.Add(1)
	var once sync.Once
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	go RunReconciler(rctx, db, 20*time.Millisecond, 50*time.Millisecond, func() { once.Do(wakes.Done) })

	deadline := time.Now().Add(30 * time.Second)
	for {
		pending, err := db.PendingOutbox(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, e := range pending {
			got[e.VideoID] = true
		}
		if got[lost.ID] && got[died.ID] {
			if len(pending) != 2 {
				t.Fatalf("pending = %v, want one job each", pending)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the reconciler did not requeue both videos: pending %v", pending)
		}
		time.Sleep(20 * time.Millisecond)
	}
	wakes.Wait() // the relay was woken to publish them
}
