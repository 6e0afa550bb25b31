// Package memqueue is CloudFlix's in-process job queue, the embedded twin of
// amqpqueue for single-process mode. It passes the same contract suite
// (queuetest): bounded concurrent handlers per consumer, competing consumers,
// redelivery with a growing pause until a delivery limit, dead-lettering of
// poison messages and permanent failures, and the publisher's trace carried
// into the handler.
//
// Messages live in this process's memory only, so a restart loses whatever
// was waiting. That is safe for CloudFlix because the queue is never the
// source of truth: the outbox relay and the reconciler re-enqueue, from the
// database, every job whose video has not moved on. For the same reason this
// queue must never be shared between processes, and it must never settle a
// message before its handler has returned.
package memqueue

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloudflix/cloudflix/internal/queue"
)

// ErrClosed is returned by calls made on (or interrupted by) a closed Queue.
var ErrClosed = queue.ErrClosed

const (
	tracerName = "github.com/cloudflix/cloudflix/internal/queue/memqueue"
	system     = "memqueue"

	defaultName       = "jobs"
	defaultPrefetch   = 1
	defaultDeliveries = 5
	defaultCapacity   = 10000

	// A failed message waits retryStep times its attempt number, at most
	// maxRetryDelay, before it goes back behind the messages waiting: a
	// handler failing on a broken dependency must not spin.
	retryStep     = 100 * time.Millisecond
	maxRetryDelay = 5 * time.Second
)

// Options configures a Queue. Zero values take the defaults noted.
type Options struct {
	// Name names the queue in spans and logs (default "jobs").
	Name string
	// Prefetch bounds the handlers one Consume call runs at once (default 1).
	Prefetch int
	// MaxDeliveries is how many times a message is handed to a handler
	// before a failure dead-letters it (default 5).
	MaxDeliveries int
	// Capacity bounds the messages held, waiting or being handled (default
	// 10000); Publish waits for room beyond it.
	Capacity int
	// TracerProvider makes the producer and consumer spans (default
	// otel.GetTracerProvider()).
	TracerProvider trace.TracerProvider
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = defaultName
	}
	if o.Prefetch <= 0 {
		o.Prefetch = defaultPrefetch
	}
	if o.MaxDeliveries <= 0 {
		o.MaxDeliveries = defaultDeliveries
	}
	if o.Capacity <= 0 {
		o.Capacity = defaultCapacity
	}
	if o.TracerProvider == nil {
		o.TracerProvider = otel.GetTracerProvider()
	}
	return o
}

// Queue is an in-process job queue. It is safe for concurrent use.
type Queue struct {
	opts   Options
	tracer trace.Tracer
	log    *slog.Logger
	done   chan struct{} // closed by Close

	mu        sync.Mutex
	ready     []*message               // FIFO; ready[0] is delivered next
	delayed   map[*message]*time.Timer // failed, waiting out their pause
	held      int                      // ready + delayed + being handled
	consumers int64
	dead      int64
	closed    bool
	// changed is closed and replaced whenever a message becomes ready or
	// room is made, waking whoever waits for either.
	changed chan struct{}
}

// message is one job with what the queue knows about it.
type message struct {
	queue.Message
	attempts int               // deliveries so far
	producer trace.SpanContext // the publisher's span, parent of the consumer's
	bag      baggage.Baggage   // the publisher's baggage
}

// New returns an empty queue.
func New(o Options) *Queue {
	o = o.withDefaults()
	return &Queue{
		opts:    o,
		tracer:  o.TracerProvider.Tracer(tracerName),
		log:     slog.Default().With("queue", o.Name),
		done:    make(chan struct{}),
		delayed: make(map[*message]*time.Timer),
		changed: make(chan struct{}),
	}
}

// broadcastLocked wakes every waiter; q.mu must be held.
func (q *Queue) broadcastLocked() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// Publish puts m on the queue and returns once it is enqueued, waiting for
// room while the queue holds Capacity messages. A message without an ID
// gets a random one. The body is copied, so the caller may reuse it.
func (q *Queue) Publish(ctx context.Context, m queue.Message) (err error) {
	if m.ID == "" {
		m.ID = uuid.NewString()
	}
	ctx, span := queue.SendSpan(ctx, q.tracer, system, q.opts.Name, m)
	defer func() {
		queue.Failed(span, err)
		span.End()
	}()
	msg := &message{
		Message:  queue.Message{ID: m.ID, Body: bytes.Clone(m.Body)},
		producer: span.SpanContext(),
		bag:      baggage.FromContext(ctx),
	}
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return fmt.Errorf("memqueue: publish %s: %w", m.ID, ErrClosed)
		}
		if q.held < q.opts.Capacity {
			q.held++
			q.ready = append(q.ready, msg)
			q.broadcastLocked()
			q.mu.Unlock()
			return nil
		}
		changed := q.changed
		q.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("memqueue: publish %s: queue full: %w", m.ID, ctx.Err())
		case <-q.done:
			return fmt.Errorf("memqueue: publish %s: %w", m.ID, ErrClosed)
		}
	}
}

// Consume runs handler on the queue's messages, at most Options.Prefetch at
// a time, until ctx ends; it then waits for the running handlers (their
// context is cancelled too) and returns nil. Several Consume calls compete
// for the same messages. A nil error from handler settles the message; an
// error wrapped by queue.Permanent dead-letters it at once; any other error,
// or a panic, hands it out again after a pause, behind the messages already
// waiting, until MaxDeliveries dead-letters it. A handler cut short by the
// end of Consume puts its message back first in line, and that delivery
// does not count against the limit.
//
// Consume returns ErrClosed if the Queue is closed first.
func (q *Queue) Consume(ctx context.Context, handler func(ctx context.Context, d queue.Delivery) error) error {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return fmt.Errorf("memqueue: consume %s: %w", q.opts.Name, ErrClosed)
	}
	q.consumers++
	q.mu.Unlock()
	defer func() {
		q.mu.Lock()
		q.consumers--
		q.mu.Unlock()
	}()

	// Handlers run under hctx, which ends with ctx or with Close.
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-q.done:
			cancel()
		case <-hctx.Done():
		}
	}()

	slots := make(chan struct{}, q.opts.Prefetch)
	var running sync.WaitGroup
	defer running.Wait()
	for {
		select {
		case slots <- struct{}{}:
		case <-hctx.Done():
			return q.consumeEnd(ctx)
		}
		m, ok := q.take(hctx)
		if !ok {
			return q.consumeEnd(ctx)
		}
		running.Add(1)
		go func() {
			defer func() {
				<-slots
				running.Done()
			}()
			q.handle(hctx, m, handler)
		}()
	}
}

// consumeEnd says why Consume returns: nil when its own context ended,
// ErrClosed when the queue was closed under it.
func (q *Queue) consumeEnd(ctx context.Context) error {
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("memqueue: consume %s: %w", q.opts.Name, ErrClosed)
}

// take waits for the next ready message and counts its delivery. It
// returns false once ctx ends (which Close also causes).
func (q *Queue) take(ctx context.Context) (*message, bool) {
	for {
		q.mu.Lock()
		if ctx.Err() != nil || q.closed {
			q.mu.Unlock()
			return nil, false
		}
		if len(q.ready) > 0 {
			m := q.ready[0]
			q.ready[0] = nil
			q.ready = q.ready[1:]
			m.attempts++
			q.mu.Unlock()
			return m, true
		}
		changed := q.changed
		q.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, false
		}
	}
}

// handle runs handler on m inside a consumer span that continues the
// publisher's trace, then settles m.
func (q *Queue) handle(hctx context.Context, m *message, handler func(ctx context.Context, d queue.Delivery) error) {
	ctx := hctx
	if m.producer.IsValid() {
		ctx = trace.ContextWithRemoteSpanContext(ctx, m.producer)
	}
	if m.bag.Len() > 0 {
		ctx = baggage.ContextWithBaggage(ctx, m.bag)
	}
	d := queue.Delivery{
		// Each delivery gets its own copy: a handler that scribbles on the
		// body must not change what the next attempt sees.
		Message: queue.Message{ID: m.ID, Body: bytes.Clone(m.Body)},
		Attempt: m.attempts,
	}
	ctx, span := queue.ProcessSpan(ctx, q.tracer, system, q.opts.Name, d)
	defer span.End()

	err := queue.Handle(ctx, handler, d)
	queue.Failed(span, err)
	switch {
	case err == nil:
		q.settle()
	case queue.IsPermanent(err):
		q.deadLetter(m, err)
	case hctx.Err() != nil:
		q.putBack(m)
	case m.attempts >= q.opts.MaxDeliveries:
		q.deadLetter(m, err)
	default:
		q.retryLater(m)
	}
}

// settle forgets a message that was handled.
func (q *Queue) settle() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.held--
	q.broadcastLocked()
}

// deadLetter drops a message that will never succeed. There is no one to
// read a dead-letter queue in one process, so it is logged and counted.
func (q *Queue) deadLetter(m *message, err error) {
	q.log.Warn("memqueue: message dead-lettered", "message_id", m.ID, "attempts", m.attempts, "err", err)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.held--
	q.dead++
	q.broadcastLocked()
}

// putBack returns a message whose handler was interrupted to the head of
// the line; the interrupted delivery does not count as an attempt.
func (q *Queue) putBack(m *message) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	m.attempts--
	q.ready = append([]*message{m}, q.ready...)
	q.broadcastLocked()
}

// retryLater hands m out again after a pause that grows with its attempts,
// behind whatever is waiting by then.
func (q *Queue) retryLater(m *message) {
	delay := min(time.Duration(m.attempts)*retryStep, maxRetryDelay)
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	q.delayed[m] = time.AfterFunc(delay, func() {
		q.mu.Lock()
		defer q.mu.Unlock()
		if _, ok := q.delayed[m]; !ok {
			return // Close got here first
		}
		delete(q.delayed, m)
		q.ready = append(q.ready, m)
		q.broadcastLocked()
	})
}

// Stats reports the messages waiting for a handler (including failed ones
// waiting out their pause), the running Consume calls and the messages
// dead-lettered so far.
func (q *Queue) Stats(ctx context.Context) (queue.Stats, error) {
	if err := ctx.Err(); err != nil {
		return queue.Stats{}, fmt.Errorf("memqueue: stats: %w", err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return queue.Stats{}, fmt.Errorf("memqueue: stats: %w", ErrClosed)
	}
	return queue.Stats{
		Pending:      int64(len(q.ready) + len(q.delayed)),
		Consumers:    q.consumers,
		DeadLettered: q.dead,
	}, nil
}

// Ping reports whether the queue is open.
func (q *Queue) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memqueue: ping: %w", err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	return nil
}

// Close drops every message held and ends every Consume call (after its
// running handlers return, their context cancelled) with ErrClosed; later
// calls return ErrClosed. It is safe to call more than once.
func (q *Queue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil
	}
	q.closed = true
	for m, t := range q.delayed {
		t.Stop()
		delete(q.delayed, m)
	}
	q.ready = nil
	close(q.done)
	return nil
}
