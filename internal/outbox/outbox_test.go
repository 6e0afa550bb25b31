package outbox_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/outbox"
	"github.com/cloudflix/cloudflix/internal/queue"
	"github.com/cloudflix/cloudflix/internal/queue/amqpqueue"
	"github.com/cloudflix/cloudflix/internal/store/pgstore"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
)

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

// An upload completed while the broker is unreachable is published, and so
// encoded, once the broker is back.
func TestJobsWaitForTheBroker(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	store, err := pgstore.Open(ctx, pgstore.Options{URL: testenv.Postgres(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}

	broker, err := url.Parse(testenv.AMQPURL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.NewProxy(t, broker.Host)
	viaProxy := *broker
	viaProxy.Host = proxy.Addr()
	name := testenv.QueueName(t)
	pub, err := amqpqueue.Open(ctx, amqpqueue.Options{URL: viaProxy.String(), Queue: name})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	consumer, err := amqpqueue.Open(ctx, amqpqueue.Options{URL: testenv.AMQPURL(), Queue: name})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = consumer.DeleteTopology(context.Background())
		consumer.Close()
	})

	proxy.Down()
	id := storetest.Uploaded(t, store, "Broker outage").ID
	relay := outbox.NewRelay(store, pub, 100*time.Millisecond, nil)
	fctx, fcancel := context.WithTimeout(ctx, 2*time.Second)
	n, err := relay.Flush(fctx)
	fcancel()
	if err == nil || n != 0 {
		t.Fatalf("Flush with the broker down = %d, %v; want an error", n, err)
	}
	if pending, err := store.PendingOutbox(ctx, 10); err != nil || len(pending) != 1 {
		t.Fatalf("pending jobs while the broker is down = %v, %v; want the one job kept", pending, err)
	}

	proxy.Up()
	go func() { _ = relay.Run(ctx) }()
	got := make(chan string, 1)
	cctx, ccancel := context.WithCancel(ctx)
	defer ccancel()
	go func() {
		_ = consumer.Consume(cctx, func(_ context.Context, d queue.Delivery) error {
			j, err := outbox.ParseJob(d.Body)
			if err != nil {
				return queue.Permanent(err)
			}
			got <- j.VideoID
			return nil
		})
	}()
	select {
	case v := <-got:
		if v != id {
			t.Fatalf("job for %s, want %s", v, id)
		}
	case <-ctx.Done():
		t.Fatal("the job was not published after the broker came back")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		pending, err := store.PendingOutbox(ctx, 10)
		if err == nil && len(pending) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job still pending after it was published: %v, %v", pending, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
