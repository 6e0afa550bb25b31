// Package amqpqueue is the RabbitMQ adapter of CloudFlix's job queue port
// (see package queue). It keeps one connection to the broker, reconnects with
// backoff when the connection is lost, and re-declares its topology every
// time: a durable quorum queue whose delivery limit dead-letters poison
// messages into a durable "<queue>.dlq". Publishing waits for the broker's
// confirm; consuming acks by hand and carries the OpenTelemetry trace across
// the queue in the message headers.
//
// It must never ack a delivery before its handler succeeded, and never ack a
// delivery on a channel other than the one it came from: after a reconnect,
// unacked deliveries are redelivered by the broker instead.
package amqpqueue

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/google/uuid"
	amqp "github.com/rabbitmq/amqp091-go"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloudflix/cloudflix/internal/queue"
)

// ErrClosed is returned by calls made on (or interrupted by) a closed Queue.
var ErrClosed = queue.ErrClosed

// errConnLost means the connection went away under a call that may succeed
// on the next connection.
var errConnLost = errors.New("connection lost")

const (
	tracerName  = "github.com/cloudflix/cloudflix/internal/queue/amqpqueue"
	contentType = "application/octet-stream"

	dialTimeout       = 10 * time.Second
	heartbeat         = 10 * time.Second
	minBackoff        = 100 * time.Millisecond
	maxBackoff        = 10 * time.Second
	deliveryCountHdr  = "x-delivery-count"
	defaultPrefetch   = 1
	defaultDeliveries = 5
	defaultConfirm    = 10 * time.Second
)

// Options configures a Queue. Zero values take the defaults noted.
type Options struct {
	URL   string // amqp://user:pass@host:port/vhost
	Queue string // name of the work queue; its dead-letter queue is Queue+".dlq"
	// Prefetch bounds the deliveries a consumer holds unacked, and so the
	// handlers running at once (default 1).
	Prefetch int
	// MaxDeliveries is the quorum queue's delivery limit: a message that
	// failed this many times is dead-lettered (default 5).
	MaxDeliveries int
	// ConfirmTimeout bounds the wait for the broker's publisher confirm
	// (default 10s).
	ConfirmTimeout time.Duration
	// ConnectionName is shown by the broker for this client's connection
	// (default "cloudflix").
	ConnectionName string
	// TracerProvider makes the producer and consumer spans (default
	// otel.GetTracerProvider()).
	TracerProvider trace.TracerProvider
	// Propagator writes and reads the trace context in message headers
	// (default otel.GetTextMapPropagator()).
	Propagator propagation.TextMapPropagator
}

func (o Options) withDefaults() Options {
	if o.Prefetch <= 0 {
		o.Prefetch = defaultPrefetch
	}
	if o.MaxDeliveries <= 0 {
		o.MaxDeliveries = defaultDeliveries
	}
	if o.ConfirmTimeout <= 0 {
		o.ConfirmTimeout = defaultConfirm
	}
	if o.ConnectionName == "" {
		o.ConnectionName = "cloudflix"
	}
	if o.TracerProvider == nil {
		o.TracerProvider = otel.GetTracerProvider()
	}
	if o.Propagator == nil {
		o.Propagator = otel.GetTextMapPropagator()
	}
	return o
}

func (o Options) deadLetterQueue() string { return o.Queue + ".dlq" }

// Queue is a RabbitMQ job queue. It is safe for concurrent use.
type Queue struct {
	opts   Options
	tracer trace.Tracer
	log    *slog.Logger

	mu    sync.Mutex
	cur   *session      // nil while reconnecting
	ready chan struct{} // closed when cur is set

	done    chan struct{} // closed by Close
	stopped chan struct{} // closed when the supervisor has exited
	closeMu sync.Once
}

// session is one connection to the broker with its publishing channel.
type session struct {
	conn *amqp.Connection
	pub  *amqp.Channel // in confirm mode
	lost chan struct{} // closed when conn is closed, for whatever reason
	err  error         // why conn closed; read only after lost is closed

	sockMu sync.Mutex
	sock   net.Conn // the TCP connection under conn, for dropSocket in tests
}

// Open connects to the broker, declares the topology and starts the
// supervisor that reconnects when the connection is lost. The first
// connection must succeed: a wrong URL or a conflicting queue declaration is
// reported here rather than retried forever.
func Open(ctx context.Context, o Options) (*Queue, error) {
	if o.URL == "" || o.Queue == "" {
		return nil, errors.New("amqpqueue: URL and Queue are required")
	}
	o = o.withDefaults()
	q := &Queue{
		opts:    o,
		tracer:  o.TracerProvider.Tracer(tracerName),
		log:     slog.Default().With("queue", o.Queue),
		ready:   make(chan struct{}),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	s, err := q.connect(ctx)
	if err != nil {
		return nil, fmt.Errorf("amqpqueue: open %s: %w", o.Queue, err)
	}
	q.setSession(s)
	go q.supervise(s)
	return q, nil
}

// connect dials the broker, declares the topology and opens the publishing
// channel.
func (q *Queue) connect(ctx context.Context) (*session, error) {
	s := &session{lost: make(chan struct{})}
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName(q.opts.ConnectionName)
	conn, err := amqp.DialConfig(q.opts.URL, amqp.Config{
		Heartbeat:  heartbeat,
		Properties: props,
		Dial: func(network, addr string) (net.Conn, error) {
			d := net.Dialer{Timeout: dialTimeout}
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// Heartbeats start only after the handshake; the library clears
			// this deadline once it completes.
			if err := c.SetDeadline(time.Now().Add(dialTimeout)); err != nil {
				c.Close()
				return nil, err
			}
			s.sockMu.Lock()
			s.sock = c
			s.sockMu.Unlock()
			return c, nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("dial: %w", err)
	}
	s.conn = conn
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	go func() {
		if e, ok := <-closed; ok && e != nil {
			s.err = e
		} else {
			s.err = amqp.ErrClosed
		}
		// Retire s before announcing the loss, so that whoever waits on
		// lost and then asks for a session never gets s again.
		q.retire(s)
		close(s.lost)
	}()

	if err := q.declare(conn); err != nil {
		conn.Close()
		return nil, err
	}
	pub, err := conn.Channel()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("open publishing channel: %w", err)
	}
	if err := pub.Confirm(false); err != nil {
		conn.Close()
		return nil, fmt.Errorf("enable publisher confirms: %w", err)
	}
	// A channel-level error leaves the connection up but the publishing
	// channel dead; dropping the connection lets the supervisor rebuild both.
	pubClosed := pub.NotifyClose(make(chan *amqp.Error, 1))
	go func() {
		if e, ok := <-pubClosed; ok && e != nil {
			q.log.Warn("amqpqueue: publishing channel closed; reconnecting", "err", e)
			conn.Close()
		}
	}()
	s.pub = pub
	return s, nil
}

// declare makes the topology exist; declaring is idempotent as long as the
// arguments match what is already there.
func (q *Queue) declare(conn *amqp.Connection) error {
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	defer ch.Close()
	dlq := q.opts.deadLetterQueue()
	if _, err := ch.QueueDeclare(dlq, true, false, false, false, amqp.Table{
		amqp.QueueTypeArg: amqp.QueueTypeQuorum,
	}); err != nil {
		return fmt.Errorf("declare %s: %w", dlq, err)
	}
	if _, err := ch.QueueDeclare(q.opts.Queue, true, false, false, false, amqp.Table{
		amqp.QueueTypeArg: amqp.QueueTypeQuorum,
		// The broker dead-letters a message returned more than the limit
		// times: with limit N it makes N+1 deliveries (checked on 3.10).
		"x-delivery-limit":          int64(q.opts.MaxDeliveries - 1),
		"x-dead-letter-exchange":    "",
		"x-dead-letter-routing-key": dlq,
	}); err != nil {
		return fmt.Errorf("declare %s: %w", q.opts.Queue, err)
	}
	return nil
}

// supervise replaces the session whenever its connection is lost, until
// Close.
func (q *Queue) supervise(s *session) {
	defer close(q.stopped)
	for {
		select {
		case <-q.done:
			return
		case <-s.lost:
		}
		q.log.Warn("amqpqueue: connection lost; reconnecting", "err", s.err)
		backoff := minBackoff
		for {
			select {
			case <-q.done:
				return
			case <-time.After(jitter(backoff)):
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*dialTimeout)
			next, err := q.connect(ctx)
			cancel()
			if err == nil {
				s = next
				break
			}
			q.log.Warn("amqpqueue: reconnect failed", "err", err, "retry_in", backoff)
			backoff = min(2*backoff, maxBackoff)
		}
		select {
		case <-q.done:
			s.conn.Close()
			return
		default:
		}
		q.setSession(s)
		q.log.Info("amqpqueue: reconnected")
	}
}

// jitter spreads reconnects of many clients over [d/2, d).
func jitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2)
}

func (q *Queue) setSession(s *session) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.cur = s
	close(q.ready)
}

// retire stops handing out s, if it is the current session.
func (q *Queue) retire(s *session) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.cur == s {
		q.cur = nil
		q.ready = make(chan struct{})
	}
}

// broken reports whether err, from a call on s, came from s's connection or
// publishing channel going away.
func (s *session) broken(err error) bool {
	select {
	case <-s.lost:
		return true
	default:
	}
	return errors.Is(err, amqp.ErrClosed) || s.conn.IsClosed() || s.pub.IsClosed()
}

// session returns the live session, waiting for a reconnect if there is
// none.
func (q *Queue) session(ctx context.Context) (*session, error) {
	for {
		q.mu.Lock()
		s, ready := q.cur, q.ready
		q.mu.Unlock()
		if s != nil {
			return s, nil
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for connection: %w", ctx.Err())
		case <-q.done:
			return nil, ErrClosed
		}
	}
}

// Ping reports whether the broker is reachable: the connection is up and
// answers a channel open.
func (q *Queue) Ping(ctx context.Context) error {
	q.mu.Lock()
	s := q.cur
	q.mu.Unlock()
	select {
	case <-q.done:
		return ErrClosed
	default:
	}
	if s == nil || s.conn.IsClosed() {
		return errors.New("amqpqueue: not connected")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	ch, err := s.conn.Channel()
	if err != nil {
		return fmt.Errorf("amqpqueue: ping: %w", err)
	}
	return ch.Close()
}

// Stats reports the work queue's ready messages and consumers and the
// dead-letter queue's depth, from passive declarations.
func (q *Queue) Stats(ctx context.Context) (queue.Stats, error) {
	s, err := q.session(ctx)
	if err != nil {
		return queue.Stats{}, fmt.Errorf("amqpqueue: stats: %w", err)
	}
	// A failed passive declare closes its channel, so this one is private.
	ch, err := s.conn.Channel()
	if err != nil {
		return queue.Stats{}, fmt.Errorf("amqpqueue: stats: %w", err)
	}
	defer ch.Close()
	work, err := ch.QueueDeclarePassive(q.opts.Queue, true, false, false, false, nil)
	if err != nil {
		return queue.Stats{}, fmt.Errorf("amqpqueue: stats %s: %w", q.opts.Queue, err)
	}
	dead, err := ch.QueueDeclarePassive(q.opts.deadLetterQueue(), true, false, false, false, nil)
	if err != nil {
		return queue.Stats{}, fmt.Errorf("amqpqueue: stats %s: %w", q.opts.deadLetterQueue(), err)
	}
	return queue.Stats{
		Pending:      int64(work.Messages),
		Consumers:    int64(work.Consumers),
		DeadLettered: int64(dead.Messages),
	}, nil
}

// DeleteTopology deletes the work queue and its dead-letter queue with
// whatever they hold. Tests use it to leave nothing behind; a reconnect
// after it declares them again.
func (q *Queue) DeleteTopology(ctx context.Context) error {
	s, err := q.session(ctx)
	if err != nil {
		return fmt.Errorf("amqpqueue: delete topology: %w", err)
	}
	ch, err := s.conn.Channel()
	if err != nil {
		return fmt.Errorf("amqpqueue: delete topology: %w", err)
	}
	defer ch.Close()
	for _, name := range []string{q.opts.Queue, q.opts.deadLetterQueue()} {
		if _, err := ch.QueueDelete(name, false, false, false); err != nil {
			return fmt.Errorf("amqpqueue: delete %s: %w", name, err)
		}
	}
	return nil
}

// Close stops reconnecting and closes the connection. Running Consume calls
// return ErrClosed; deliveries their handlers have not acked are redelivered
// by the broker.
func (q *Queue) Close() error {
	var err error
	q.closeMu.Do(func() {
		close(q.done)
		<-q.stopped
		q.mu.Lock()
		s := q.cur
		q.cur = nil
		q.mu.Unlock()
		if s != nil {
			if e := s.conn.Close(); e != nil && !errors.Is(e, amqp.ErrClosed) {
				err = fmt.Errorf("amqpqueue: close: %w", e)
			}
		}
	})
	return err
}

// dropSocket closes the TCP connection under the current session without an
// AMQP close handshake, as a network failure would. Tests use it.
func (q *Queue) dropSocket() {
	q.mu.Lock()
	s := q.cur
	q.mu.Unlock()
	if s == nil {
		return
	}
	s.sockMu.Lock()
	defer s.sockMu.Unlock()
	if s.sock != nil {
		s.sock.Close()
	}
}

// newMessageID names a message that came without an ID.
func newMessageID() string { return uuid.NewString() }
