// Package queuetest is the contract suite every job queue adapter passes:
// round trip, attempt counting, dead-lettering after the delivery limit and
// on permanent errors, a handler's panic, Stats, Consume's return when its
// context ends, the prefetch bound, and a trace that continues from the
// publisher to the handler. It tests behaviour seen through the port only;
// what is particular to one adapter (reconnects, headers) is tested beside
// it. That a message is not delivered again is checked by watching for it
// over the adapter's retry pause and a margin, not by looking once.
package queuetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloudflix/cloudflix/internal/queue"
)

// MaxDeliveries is the delivery limit the queues handed to Run must be
// opened with.
const MaxDeliveries = 3

// Queue is the port as the suite sees it.
type Queue = queue.Queue

// wait bounds every wait of the suite; polls end as soon as their condition
// holds.
const wait = 30 * time.Second

// Options are what a case asks of the queue it opens.
type Options struct {
	// Prefetch bounds the deliveries a consumer works on at once; 0 is the
	// adapter's default.
	Prefetch int
	// TracerProvider makes the adapter's spans; nil is the global one.
	TracerProvider trace.TracerProvider
}

// handoffMargin is how long, on a loaded machine, a delivery the adapter
// has decided on may take to reach a handler. A watch for a delivery that
// must not come lasts the adapter's retry pause plus this margin. A margin
// too short can only let a broken adapter pass, never fail a correct one.
const handoffMargin = time.Second

// Adapter is what the suite needs of an adapter.
type Adapter struct {
	// Open returns a new, empty queue of the test's own with a delivery
	// limit of MaxDeliveries and the given options, and removes it when
	// the test ends.
	Open func(t *testing.T, o Options) Queue
	// RetryPause is the longest the adapter waits before it hands a
	// message of the suite out again (0 when it does so at once).
	RetryPause time.Duration
}

// Run runs the suite on a.
func Run(t *testing.T, a Adapter) {
	open := a.Open
	def := func(t *testing.T) Queue { return open(t, Options{}) }
	quiet := a.RetryPause + handoffMargin
	t.Run("RoundTrip", func(t *testing.T) { t.Parallel(); testRoundTrip(t, def(t), quiet) })
	t.Run("RetryCountsAttempts", func(t *testing.T) { t.Parallel(); testRetry(t, def(t), quiet) })
	t.Run("DeadLetterAfterLimit", func(t *testing.T) { t.Parallel(); testDeadLetterAfterLimit(t, def(t), quiet) })
	t.Run("PermanentDeadLettersAtOnce", func(t *testing.T) { t.Parallel(); testPermanent(t, def(t), quiet) })
	t.Run("PanicIsRetried", func(t *testing.T) { t.Parallel(); testPanic(t, def(t), quiet) })
	t.Run("Stats", func(t *testing.T) { t.Parallel(); testStats(t, def(t)) })
	t.Run("ConsumeReturnsOnCancel", func(t *testing.T) { t.Parallel(); testCancel(t, def(t)) })
	t.Run("PrefetchBoundsHandlers", func(t *testing.T) { t.Parallel(); testPrefetch(t, open, quiet) })
	t.Run("TraceContinuesAcrossTheQueue", func(t *testing.T) { t.Parallel(); testTrace(t, open) })
}

// Consume runs q.Consume in the background until the test ends, failing
// the test if Consume returns an error other than queue.ErrClosed (a test
// may close the queue itself).
func Consume(t *testing.T, q Queue, h func(ctx context.Context, d queue.Delivery) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Consume(ctx, h) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, queue.ErrClosed) {
				t.Errorf("Consume: %v", err)
			}
		case <-time.After(wait):
			t.Errorf("Consume did not return within %v of its context ending", wait)
		}
	})
}

// Publish publishes m, failing the test if it cannot.
func Publish(t *testing.T, q Queue, m queue.Message) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := q.Publish(ctx, m); err != nil {
		t.Fatalf("Publish(%s): %v", m.ID, err)
	}
}

// Eventually polls Stats until ok accepts them.
func Eventually(t *testing.T, q Queue, what string, ok func(queue.Stats) bool) queue.Stats {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		st, err := q.Stats(ctx)
		cancel()
		if err != nil {
			t.Fatalf("Stats: %v", err)
		}
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v; last stats %+v", what, wait, st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Receive waits for the next value on ch.
func Receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatalf("%s: nothing within %v", what, wait)
		panic("unreachable")
	}
}

// nothingWithin watches ch for d and fails the test if a value arrives:
// that something did not happen is only known after watching for as long
// as it could take to happen.
func nothingWithin[T any](t *testing.T, ch <-chan T, d time.Duration, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("%s: got %+v", what, v)
	case <-time.After(d):
	}
}

// send hands v to the test unless the handler's context ends first, so a
// handler the test no longer listens to cannot keep Consume from
// returning.
func send[T any](ctx context.Context, ch chan<- T, v T) {
	select {
	case ch <- v:
	case <-ctx.Done():
	}
}

// consumeRecording consumes q with a handler that hands each delivery to
// the test and then returns what result makes of it.
func consumeRecording(t *testing.T, q Queue, result func(d queue.Delivery) error) <-chan queue.Delivery {
	got := make(chan queue.Delivery, 10)
	Consume(t, q, func(ctx context.Context, d queue.Delivery) error {
		send(ctx, got, d)
		return result(d)
	})
	return got
}

// receiveAttempts receives the next deliveries, failing the test unless
// they are the given attempts of message id, in order.
func receiveAttempts(t *testing.T, got <-chan queue.Delivery, id string, attempts ...int) {
	t.Helper()
	for _, a := range attempts {
		d := Receive(t, got, fmt.Sprintf("attempt %d of %s", a, id))
		if d.ID != id || d.Attempt != a {
			t.Fatalf("got attempt %d of %s, want attempt %d of %s", d.Attempt, d.ID, a, id)
		}
	}
}

func testRoundTrip(t *testing.T, q Queue, quiet time.Duration) {
	got := consumeRecording(t, q, func(queue.Delivery) error { return nil })
	want := []queue.Message{
		{ID: "job-1", Body: []byte(`{"video":"a"}`)},
		{ID: "job-2", Body: []byte{0, 1, 2, 255}},
	}
	for _, m := range want {
		Publish(t, q, m)
	}
	byID := map[string]queue.Delivery{}
	for range want {
		d := Receive(t, got, "delivery")
		byID[d.ID] = d
	}
	for _, m := range want {
		d, ok := byID[m.ID]
		if !ok {
			t.Fatalf("message %s not delivered; got %v", m.ID, byID)
		}
		if string(d.Body) != string(m.Body) {
			t.Errorf("message %s: body %q, want %q", m.ID, d.Body, m.Body)
		}
		if d.Attempt != 1 {
			t.Errorf("message %s: attempt %d, want 1", m.ID, d.Attempt)
		}
	}
	Eventually(t, q, "acked messages leave the queue", func(s queue.Stats) bool {
		return s.Pending == 0 && s.DeadLettered == 0
	})
	nothingWithin(t, got, quiet, "an acked message delivered again")
}

func testRetry(t *testing.T, q Queue, quiet time.Duration) {
	got := consumeRecording(t, q, func(d queue.Delivery) error {
		if d.Attempt < MaxDeliveries {
			return fmt.Errorf("transient failure on attempt %d", d.Attempt)
		}
		return nil
	})
	Publish(t, q, queue.Message{ID: "flaky", Body: []byte("x")})
	receiveAttempts(t, got, "flaky", upTo(MaxDeliveries)...)
	nothingWithin(t, got, quiet, "an attempt after the one that succeeded")
	st := Eventually(t, q, "message that succeeded on its last attempt is gone", func(s queue.Stats) bool {
		return s.Pending == 0
	})
	if st.DeadLettered != 0 {
		t.Errorf("DeadLettered = %d, want 0: the last attempt succeeded", st.DeadLettered)
	}
}

// upTo returns 1, 2, ... n.
func upTo(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i + 1
	}
	return s
}

func testDeadLetterAfterLimit(t *testing.T, q Queue, quiet time.Duration) {
	got := consumeRecording(t, q, func(queue.Delivery) error { return errors.New("always fails") })
	Publish(t, q, queue.Message{ID: "poison", Body: []byte("x")})
	receiveAttempts(t, got, "poison", upTo(MaxDeliveries)...)
	Eventually(t, q, "poison message dead-lettered", func(s queue.Stats) bool {
		return s.DeadLettered == 1 && s.Pending == 0
	})
	nothingWithin(t, got, quiet, "a delivery past the limit")
}

func testPermanent(t *testing.T, q Queue, quiet time.Duration) {
	got := consumeRecording(t, q, func(queue.Delivery) error {
		return queue.Permanent(errors.New("not a video"))
	})
	Publish(t, q, queue.Message{ID: "bad", Body: []byte("x")})
	receiveAttempts(t, got, "bad", 1)
	Eventually(t, q, "permanent failure dead-lettered", func(s queue.Stats) bool {
		return s.DeadLettered == 1 && s.Pending == 0
	})
	nothingWithin(t, got, quiet, "a delivery after a permanent failure")
}

func testPanic(t *testing.T, q Queue, quiet time.Duration) {
	got := consumeRecording(t, q, func(d queue.Delivery) error {
		if d.ID == "panics-once" && d.Attempt == 1 {
			panic("handler bug")
		}
		return nil
	})
	Publish(t, q, queue.Message{ID: "panics-once", Body: []byte("x")})
	receiveAttempts(t, got, "panics-once", 1, 2)
	// The consumer survived the panic: it still takes new messages.
	Publish(t, q, queue.Message{ID: "after-panic", Body: []byte("y")})
	receiveAttempts(t, got, "after-panic", 1)
	Eventually(t, q, "queue drained", func(s queue.Stats) bool { return s.Pending == 0 })
	nothingWithin(t, got, quiet, "a delivery after both messages were handled")
}

func testStats(t *testing.T, q Queue) {
	st := Eventually(t, q, "new queue is empty", func(queue.Stats) bool { return true })
	if st != (queue.Stats{}) {
		t.Fatalf("new queue stats %+v, want zero", st)
	}
	for i := range 3 {
		Publish(t, q, queue.Message{ID: fmt.Sprintf("m%d", i), Body: []byte("x")})
	}
	Eventually(t, q, "three pending, no consumer", func(s queue.Stats) bool {
		return s.Pending == 3 && s.Consumers == 0
	})
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	Consume(t, q, func(ctx context.Context, d queue.Delivery) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	Eventually(t, q, "one consumer registered", func(s queue.Stats) bool { return s.Consumers == 1 })
	once.Do(func() { close(release) })
	Eventually(t, q, "all handled", func(s queue.Stats) bool {
		return s.Pending == 0 && s.Consumers == 1 && s.DeadLettered == 0
	})
}

func testCancel(t *testing.T, q Queue) {
	started := make(chan struct{})
	var finished atomic.Bool
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- q.Consume(ctx, func(hctx context.Context, d queue.Delivery) error {
			close(started)
			<-hctx.Done() // the handler's context ends with Consume's
			finished.Store(true)
			return hctx.Err()
		})
	}()
	Publish(t, q, queue.Message{ID: "long-job", Body: []byte("x")})
	Receive(t, started, "handler start")
	cancel()
	if err := Receive(t, done, "Consume return"); err != nil {
		t.Fatalf("Consume after cancel = %v, want nil", err)
	}
	if !finished.Load() {
		t.Fatal("Consume returned before its running handler finished")
	}
	// The interrupted job is not lost: it waits for the next consumer.
	Eventually(t, q, "interrupted job back on the queue", func(s queue.Stats) bool {
		return s.Pending == 1 && s.Consumers == 0
	})
}

func testPrefetch(t *testing.T, open func(*testing.T, Options) Queue, quiet time.Duration) {
	const prefetch = 2
	q := open(t, Options{Prefetch: prefetch})
	var running, most atomic.Int32
	started := make(chan string, 10)
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	Consume(t, q, func(ctx context.Context, d queue.Delivery) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		send(ctx, started, d.ID)
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	const total = 5
	for i := range total {
		Publish(t, q, queue.Message{ID: fmt.Sprint("job-", i), Body: []byte("x")})
	}
	Receive(t, started, "first handler")
	Receive(t, started, "second handler")
	// With two handlers blocked, the other three are held back.
	Eventually(t, q, "the rest held back", func(s queue.Stats) bool { return s.Pending == total-prefetch })
	nothingWithin(t, started, quiet, "a third handler while two were running")
	once.Do(func() { close(release) })
	for range total - prefetch {
		Receive(t, started, "remaining handlers")
	}
	if m := most.Load(); m > prefetch {
		t.Fatalf("%d handlers ran at once, want at most %d", m, prefetch)
	}
}

// testTrace checks that the handler runs in the trace of the request that
// published the message, under a consumer span whose parent is the
// producer span.
func testTrace(t *testing.T, open func(*testing.T, Options) Queue) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	q := open(t, Options{TracerProvider: tp})

	handled := make(chan trace.SpanContext, 1)
	Consume(t, q, func(ctx context.Context, d queue.Delivery) error {
		send(ctx, handled, trace.SpanContextFromContext(ctx))
		return nil
	})
	ctx, parent := tp.Tracer("test").Start(context.Background(), "upload complete")
	if err := q.Publish(ctx, queue.Message{ID: "traced", Body: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	parent.End()
	inHandler := Receive(t, handled, "delivery")
	if inHandler.TraceID() != parent.SpanContext().TraceID() {
		t.Fatalf("handler trace %s, want the publisher's %s", inHandler.TraceID(), parent.SpanContext().TraceID())
	}

	var producer, consumerSpan sdktrace.ReadOnlySpan
	deadline := time.Now().Add(wait)
	for producer == nil || consumerSpan == nil {
		for _, s := range rec.Ended() {
			switch s.SpanKind() {
			case trace.SpanKindProducer:
				producer = s
			case trace.SpanKindConsumer:
				consumerSpan = s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("spans ended: %d; want a producer and a consumer span", len(rec.Ended()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if producer.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("producer span's parent %s, want the caller's span %s", producer.Parent().SpanID(), parent.SpanContext().SpanID())
	}
	if consumerSpan.Parent().SpanID() != producer.SpanContext().SpanID() {
		t.Errorf("consumer span's parent %v, want the producer span %s", consumerSpan.Parent(), producer.SpanContext().SpanID())
	}
}
