package memqueue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/queue"
	"github.com/cloudflix/cloudflix/internal/queue/queuetest"
)

const wait = 30 * time.Second

func open(t *testing.T, o Options) *Queue {
	t.Helper()
	q := New(o)
	t.Cleanup(func() {
		if err := q.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return q
}

func TestContract(t *testing.T) {
	t.Parallel()
	queuetest.Run(t, queuetest.Adapter{
		Open: func(t *testing.T, o queuetest.Options) queuetest.Queue {
			return open(t, Options{MaxDeliveries: queuetest.MaxDeliveries, Prefetch: o.Prefetch, TracerProvider: o.TracerProvider})
		},
		// A failed message waits its attempt number times retryStep.
		RetryPause: min(queuetest.MaxDeliveries*retryStep, maxRetryDelay),
	})
}

func TestCompetingConsumers(t *testing.T) {
	t.Parallel()
	q := open(t, Options{})
	started := make(chan string, 2)
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	h := func(ctx context.Context, d queue.Delivery) error {
		started <- d.ID
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	queuetest.Consume(t, q, h)
	queuetest.Consume(t, q, h)
	queuetest.Eventually(t, q, "two consumers", func(s queue.Stats) bool { return s.Consumers == 2 })
	queuetest.Publish(t, q, queue.Message{ID: "a"})
	queuetest.Publish(t, q, queue.Message{ID: "b"})
	// Each consumer's prefetch is 1, so both running means both took one.
	got := []string{queuetest.Receive(t, started, "first"), queuetest.Receive(t, started, "second")}
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("handled %v, want a and b at once", got)
	}
	once.Do(func() { close(release) })
	queuetest.Eventually(t, q, "both settled", func(s queue.Stats) bool { return s.Pending == 0 })
}

// A failed message goes back behind the messages already waiting, after a
// pause, instead of being handed out again at once.
func TestRedeliveryWaitsItsTurn(t *testing.T) {
	t.Parallel()
	q := open(t, Options{})
	for _, id := range []string{"a", "b", "c"} {
		queuetest.Publish(t, q, queue.Message{ID: id})
	}
	type handled struct {
		name string
		at   time.Time
	}
	got := make(chan handled, 10)
	queuetest.Consume(t, q, func(_ context.Context, d queue.Delivery) error {
		got <- handled{fmt.Sprint(d.ID, d.Attempt), time.Now()}
		if d.ID == "a" && d.Attempt == 1 {
			return errors.New("transient")
		}
		return nil
	})
	var order []string
	var times []time.Time
	for range 4 {
		h := queuetest.Receive(t, got, "delivery")
		order = append(order, h.name)
		times = append(times, h.at)
	}
	if want := []string{"a1", "b1", "c1", "a2"}; !slices.Equal(order, want) {
		t.Fatalf("handled %v, want %v", order, want)
	}
	if gap := times[3].Sub(times[0]); gap < retryStep {
		t.Errorf("a redelivered %v after its failure, want a pause of at least %v", gap, retryStep)
	}
	queuetest.Eventually(t, q, "all settled", func(s queue.Stats) bool { return s.Pending == 0 && s.DeadLettered == 0 })
}

// A handler cut short by the end of Consume does not use up an attempt.
func TestInterruptedDeliveryIsNotAnAttempt(t *testing.T) {
	t.Parallel()
	q := open(t, Options{MaxDeliveries: 1})
	queuetest.Publish(t, q, queue.Message{ID: "long"})
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- q.Consume(ctx, func(hctx context.Context, d queue.Delivery) error {
			close(started)
			<-hctx.Done()
			return hctx.Err()
		})
	}()
	queuetest.Receive(t, started, "handler start")
	cancel()
	if err := queuetest.Receive(t, done, "Consume return"); err != nil {
		t.Fatalf("Consume = %v, want nil", err)
	}
	attempts := make(chan int, 1)
	queuetest.Consume(t, q, func(_ context.Context, d queue.Delivery) error {
		attempts <- d.Attempt
		return nil
	})
	if a := queuetest.Receive(t, attempts, "delivery to the next consumer"); a != 1 {
		t.Errorf("attempt %d after an interrupted delivery, want 1", a)
	}
	queuetest.Eventually(t, q, "settled, not dead-lettered", func(s queue.Stats) bool { return s.Pending == 0 && s.DeadLettered == 0 })
}

func TestPublishWaitsForRoom(t *testing.T) {
	t.Parallel()
	q := open(t, Options{Capacity: 1})
	queuetest.Publish(t, q, queue.Message{ID: "first"})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := q.Publish(ctx, queue.Message{ID: "too-many"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Publish to a full queue = %v, want it to wait until its context ends", err)
	}
	published := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		published <- q.Publish(ctx, queue.Message{ID: "second"})
	}()
	got := make(chan string, 2)
	queuetest.Consume(t, q, func(_ context.Context, d queue.Delivery) error {
		got <- d.ID
		return nil
	})
	if err := queuetest.Receive(t, published, "Publish once there is room"); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if a, b := queuetest.Receive(t, got, "first"), queuetest.Receive(t, got, "second"); a != "first" || b != "second" {
		t.Errorf("handled %s then %s, want first then second", a, b)
	}
}

func TestCloseEndsConsume(t *testing.T) {
	t.Parallel()
	q := New(Options{})
	queuetest.Publish(t, q, queue.Message{ID: "long"})
	handlerEnded := make(chan error, 1)
	done := make(chan error, 1)
	go func() {
		done <- q.Consume(context.Background(), func(ctx context.Context, _ queue.Delivery) error {
			<-ctx.Done()
			handlerEnded <- ctx.Err()
			return ctx.Err()
		})
	}()
	queuetest.Eventually(t, q, "handler running", func(s queue.Stats) bool { return s.Consumers == 1 && s.Pending == 0 })
	if err := q.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := queuetest.Receive(t, handlerEnded, "handler's context end"); !errors.Is(err, context.Canceled) {
		t.Errorf("handler's context ended with %v, want context.Canceled", err)
	}
	if err := queuetest.Receive(t, done, "Consume return"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Consume after Close = %v, want ErrClosed", err)
	}
	ctx := t.Context()
	if err := q.Ping(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Ping after Close = %v, want ErrClosed", err)
	}
	if err := q.Publish(ctx, queue.Message{ID: "x"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Publish after Close = %v, want ErrClosed", err)
	}
	if err := q.Consume(ctx, func(context.Context, queue.Delivery) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Consume after Close = %v, want ErrClosed", err)
	}
	if err := q.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// A handler that changes its delivery's body does not change what the next
// attempt gets, and a publisher reusing its buffer does not change the queued
// message.
func TestBodiesAreCopied(t *testing.T) {
	t.Parallel()
	q := open(t, Options{})
	buf := []byte("payload")
	queuetest.Publish(t, q, queue.Message{ID: "m", Body: buf})
	copy(buf, "XXXXXXX")
	bodies := make(chan string, 2)
	queuetest.Consume(t, q, func(_ context.Context, d queue.Delivery) error {
		bodies <- string(d.Body)
		if d.Attempt == 1 {
			copy(d.Body, "scribbl")
			return errors.New("retry me")
		}
		return nil
	})
	for i := range 2 {
		if b := queuetest.Receive(t, bodies, "delivery"); b != "payload" {
			t.Errorf("attempt %d got body %q, want payload", i+1, b)
		}
	}
}
