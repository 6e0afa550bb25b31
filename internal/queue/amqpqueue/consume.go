package amqpqueue

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	amqp "github.com/rabbitmq/amqp091-go"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/cloudflix/cloudflix/internal/queue"
)

// handlerFunc processes one delivery.
type handlerFunc = func(ctx context.Context, d queue.Delivery) error

// Consume runs handler on the queue's messages, at most Options.Prefetch at
// a time, until ctx ends; it then waits for the running handlers (their
// context is cancelled too) and returns nil. A nil error from handler acks
// the delivery; an error wrapped by queue.Permanent dead-letters it at once;
// any other error, or a panic, returns it to the queue for another attempt
// until the delivery limit dead-letters it.
//
// A lost connection does not end Consume: it resumes once the Queue has
// reconnected. It returns ErrClosed if the Queue is closed first.
func (q *Queue) Consume(ctx context.Context, handler func(ctx context.Context, d queue.Delivery) error) error {
	// slots bounds the running handlers across reconnects: handlers still
	// running on a dead channel keep their slot, so a fresh channel's
	// deliveries wait for them instead of exceeding the prefetch.
	slots := make(chan struct{}, q.opts.Prefetch)
	var running sync.WaitGroup
	defer running.Wait()
	backoff := minBackoff
	for {
		s, err := q.session(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("amqpqueue: consume %s: %w", q.opts.Queue, err)
		}
		err = q.consumeOn(ctx, s, handler, slots, &running)
		if ctx.Err() != nil {
			return nil
		}
		q.log.Warn("amqpqueue: consumer interrupted; resuming", "err", err)
		// Wait for the supervisor to replace a lost connection; a channel
		// failure on a live connection is retried after a pause.
		select {
		case <-ctx.Done():
			return nil
		case <-q.done:
			return fmt.Errorf("amqpqueue: consume %s: %w", q.opts.Queue, ErrClosed)
		case <-s.lost:
			backoff = minBackoff
		case <-time.After(jitter(backoff)):
			backoff = min(2*backoff, maxBackoff)
		}
	}
}

// consumeOn consumes on a channel of its own on s until ctx ends or the
// channel closes. On ctx's end it lets the running handlers ack before
// closing the channel, which returns prefetched but unhandled deliveries to
// the queue.
func (q *Queue) consumeOn(ctx context.Context, s *session, handler handlerFunc, slots chan struct{}, running *sync.WaitGroup) error {
	ch, err := s.conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	var here sync.WaitGroup // handlers that will settle on ch
	defer func() {
		// On a dead channel their acks fail and the broker redelivers, so
		// only a live channel is worth keeping open for them.
		if !ch.IsClosed() {
			here.Wait()
		}
		ch.Close()
	}()
	if err := ch.Qos(q.opts.Prefetch, 0, false); err != nil {
		return fmt.Errorf("set prefetch: %w", err)
	}
	tag := "cloudflix-" + uuid.NewString()
	deliveries, err := ch.Consume(q.opts.Queue, tag, false, false, false, false, nil)
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	for {
		var d amqp.Delivery
		var ok bool
		select {
		case <-ctx.Done():
			return nil
		case d, ok = <-deliveries:
			if !ok {
				return channelClosedErr(s, ch)
			}
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		running.Add(1)
		here.Add(1)
		go func() {
			defer func() {
				<-slots
				here.Done()
				running.Done()
			}()
			q.handle(ctx, d, handler)
		}()
	}
}

// channelClosedErr says why a delivery stream ended.
func channelClosedErr(s *session, ch *amqp.Channel) error {
	select {
	case <-s.lost:
		return fmt.Errorf("%w: %w", errConnLost, s.err)
	default:
	}
	if ch.IsClosed() {
		return errors.New("channel closed")
	}
	return errors.New("consumer cancelled by the broker")
}

// handle runs handler on d inside a consumer span that continues the
// producer's trace, then settles d.
func (q *Queue) handle(ctx context.Context, d amqp.Delivery, handler handlerFunc) {
	ctx = q.opts.Propagator.Extract(ctx, headerCarrier(d.Headers))
	delivery := queue.Delivery{
		Message: queue.Message{ID: d.MessageId, Body: d.Body},
		Attempt: attempt(d.Headers),
	}
	ctx, span := queue.ProcessSpan(ctx, q.tracer, "rabbitmq", q.opts.Queue, delivery,
		semconv.MessagingRabbitMQMessageDeliveryTag(int(d.DeliveryTag)))
	defer span.End()

	err := queue.Handle(ctx, handler, delivery)
	queue.Failed(span, err)
	var settle error
	switch {
	case err == nil:
		settle = d.Ack(false)
	case queue.IsPermanent(err):
		settle = d.Nack(false, false)
	default:
		settle = d.Nack(false, true)
	}
	if settle != nil {
		// The channel is gone; the broker redelivers the message.
		q.log.Warn("amqpqueue: settle delivery", "message_id", d.MessageId, "err", settle)
	}
}

// attempt numbers a delivery from the x-delivery-count header that quorum
// queues add to redeliveries.
func attempt(h amqp.Table) int {
	switch n := h[deliveryCountHdr].(type) {
	case int64:
		return int(n) + 1
	case int32:
		return int(n) + 1
	case int16:
		return int(n) + 1
	case int8:
		return int(n) + 1
	case int:
		return n + 1
	case uint64:
		return int(n) + 1
	case uint32:
		return int(n) + 1
	case uint16:
		return int(n) + 1
	case uint8:
		return int(n) + 1
	}
	return 1
}
