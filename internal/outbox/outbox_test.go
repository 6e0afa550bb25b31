package outbox_test

import (
	"context"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/outbox"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/queue"
	"github.com/cloudflix/cloudflix/internal/queue/amqpqueue"
	"github.com/cloudflix/cloudflix/internal/queue/queuetest"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/transcode"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videocache"
	encodesvc "github.com/cloudflix/cloudflix/video-encode-svc"
)

// wait bounds every wait of these tests; polls end as soon as their
// condition holds.
const wait = 60 * time.Second

// relayInterval is how often the relay looks at the outbox.
const relayInterval = 50 * time.Millisecond

func TestMessageRoundTrip(t *testing.T) {
	m := outbox.Message(video.OutboxEntry{ID: 7, VideoID: "0190a1b2-0000-7000-8000-000000000001"})
	j, err := outbox.ParseJob(m.Body)
	if err != nil || j.VideoID != "0190a1b2-0000-7000-8000-000000000001" || m.ID != "outbox-7" {
		t.Fatalf("job = %+v, %v (id %s)", j, err, m.ID)
	}
	for _, bad := range []string{"", "{", `{"video_id":""}`, `[1]`} {
		if _, err := outbox.ParseJob([]byte(bad)); err == nil {
			t.Errorf("ParseJob(%q) accepted", bad)
		}
	}
}

// backends are the production backends of a test, with a relay connection
// that reaches RabbitMQ through a proxy, so the test can cut the network
// between the relay and the broker.
type backends struct {
	proc    *platform.Process
	store   store.Store
	objects blob.Store
	proxy   *testenv.Proxy
	// relayQueue publishes through the proxy. Its confirm timeout is the
	// test's wait, so only a cut ends the wait for a confirm.
	relayQueue *amqpqueue.Queue
	// jobs is the same queue on a direct connection, for consumers and
	// the broker's counts.
	jobs queue.Queue
}

func openBackends(t *testing.T) backends {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cfg := platformtest.Backends(t, platformtest.Production)
	if err := platform.Migrate(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	p, err := platform.NewProcess(prometheus.NewRegistry(), 5*time.Second, cfg, platformtest.Key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	db, err := p.Store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	objects, _, err := p.Objects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := p.Queue(ctx, "consumer", 1)
	if err != nil {
		t.Fatal(err)
	}

	broker, err := url.Parse(string(cfg.AMQP.URL))
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.NewProxy(t, broker.Host)
	viaProxy := *broker
	viaProxy.Host = proxy.Addr()
	relayQueue, err := amqpqueue.Open(ctx, amqpqueue.Options{
		URL: viaProxy.String(), Queue: cfg.AMQP.Queue, MaxDeliveries: cfg.AMQP.MaxDeliveries,
		ConfirmTimeout: wait, ConnectionName: "cloudflix-relay",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { relayQueue.Close() })
	return backends{proc: p, store: db, objects: objects, proxy: proxy, relayQueue: relayQueue, jobs: jobs}
}

// runRelay runs relay until the test ends.
func runRelay(t *testing.T, relay *outbox.Relay) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- relay.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := queuetest.Receive(t, done, "relay's return"); err != nil {
			t.Errorf("relay: %v", err)
		}
	})
}

// pendingJobs polls the outbox until it holds want unsent jobs.
func pendingJobs(t *testing.T, db store.Store, want int, what string) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		pending, err := db.PendingOutbox(t.Context(), 10)
		if err == nil && len(pending) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d unsent jobs (%v), want %d", what, len(pending), err, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An upload completed while the broker is unreachable is published, and so
// encoded, once the broker is back.
func TestJobsWaitForTheBroker(t *testing.T) {
	t.Parallel()
	b := openBackends(t)
	ctx := t.Context()

	b.proxy.Down()
	id := storetest.Uploaded(t, b.store, "Broker outage").ID
	relay := outbox.NewRelay(b.store, b.relayQueue, relayInterval, nil)
	fctx, fcancel := context.WithTimeout(ctx, 2*time.Second)
	n, err := relay.Flush(fctx)
	fcancel()
	if err == nil || n != 0 {
		t.Fatalf("Flush with the broker down = %d, %v; want an error", n, err)
	}
	pendingJobs(t, b.store, 1, "while the broker is down")

	b.proxy.Up()
	runRelay(t, relay)
	got := make(chan string, 1)
	queuetest.Consume(t, b.jobs, func(_ context.Context, d queue.Delivery) error {
		j, err := outbox.ParseJob(d.Body)
		if err != nil {
			return queue.Permanent(err)
		}
		got <- j.VideoID
		return nil
	})
	if v := queuetest.Receive(t, got, "the job once the broker is back"); v != id {
		t.Fatalf("job for %s, want %s", v, id)
	}
	pendingJobs(t, b.store, 0, "after the job was published")
}

// unconfirmedWindow is how long the test watches the outbox while the
// broker holds the job but its confirm is held back: many relay intervals,
// so a relay that marked a job sent without its confirm has done so by the
// end.
const unconfirmedWindow = 20 * relayInterval

// The connection to the broker is cut after the broker took the job but
// before its confirm reached the relay. The relay's publish cannot tell
// that from a lost job, so the job goes out again on the next connection
// and is marked sent only then; the broker holds it twice, and the encode
// workers' claim in the database makes the second copy do nothing. Two
// workers take the copies, as two encode processes would.
func TestUnconfirmedJobIsPublishedAgainAndEncodedOnce(t *testing.T) {
	t.Parallel()
	testenv.RequireFFmpeg(t)
	b := openBackends(t)
	ctx := t.Context()
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	testenv.GenerateClip(t, clip, 320, 180, 1, true)
	id := storetest.Uploaded(t, b.store, "Lost confirm").ID
	if err := b.objects.PutFile(ctx, video.SourceKey(id), clip, "video/mp4"); err != nil {
		t.Fatal(err)
	}

	b.proxy.HoldReplies()
	runRelay(t, outbox.NewRelay(b.store, b.relayQueue, relayInterval, nil))
	queuetest.Eventually(t, b.jobs, "the job at the broker, its confirm held back", func(s queue.Stats) bool {
		return s.Pending == 1
	})
	for end := time.Now().Add(unconfirmedWindow); time.Now().Before(end); time.Sleep(relayInterval / 2) {
		pending, err := b.store.PendingOutbox(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) != 1 {
			t.Fatalf("%d unsent jobs while the broker's confirm is missing, want the job kept unsent", len(pending))
		}
	}
	b.proxy.Down() // the confirm is lost with the connection
	b.proxy.Up()
	pendingJobs(t, b.store, 0, "after the relay reconnected")
	// A confirm means the broker holds the message, and no consumer has
	// taken one yet: both copies are on the queue.
	st, err := b.jobs.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Pending != 2 {
		t.Fatalf("the broker holds %d copies of the job, want 2: one unconfirmed, one published again", st.Pending)
	}

	var encodes atomic.Int32
	handled := make(chan error, 10)
	cache, err := b.proc.Cache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		q, err := b.proc.Queue(ctx, "encode", 1)
		if err != nil {
			t.Fatal(err)
		}
		w := encodesvc.NewWorker(b.store, sourceReads{Store: b.objects, id: id, n: &encodes},
			videocache.New(cache, time.Minute, nil), encodesvc.Settings{
				WorkerID: testenv.Name("worker-"), WorkDir: t.TempDir(), Lease: time.Minute, MaxAttempts: 3,
				Limits: transcode.Limits{MaxDuration: time.Hour}, Options: transcode.Options{Preset: "ultrafast"},
			}, nil)
		queuetest.Consume(t, q, func(ctx context.Context, d queue.Delivery) error {
			err := w.Handle(ctx, d)
			handled <- err
			return err
		})
	}
	for range 2 {
		if err := queuetest.Receive(t, handled, "a copy of the job handled"); err != nil {
			t.Fatalf("Handle: %v", err)
		}
	}
	queuetest.Eventually(t, b.jobs, "both copies settled", func(s queue.Stats) bool {
		return s.Pending == 0 && s.DeadLettered == 0
	})
	if n := encodes.Load(); n != 1 {
		t.Fatalf("the video was encoded %d times from 2 copies of its job, want once", n)
	}
	if v, err := b.store.Video(ctx, id); err != nil || v.State != video.StateReady {
		t.Fatalf("video after the encode: %s %q, %v; want ready", v.State, v.FailureReason, err)
	}
}

// sourceReads counts the downloads of one video's source: an encode
// starts with one, and nothing else reads the source.
type sourceReads struct {
	blob.Store
	id string
	n  *atomic.Int32
}

func (s sourceReads) Download(ctx context.Context, key, path string) error {
	if key == video.SourceKey(s.id) {
		s.n.Add(1)
	}
	return s.Store.Download(ctx, key, path)
}
