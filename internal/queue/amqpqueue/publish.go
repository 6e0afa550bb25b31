package amqpqueue

import (
	"context"
	"errors"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"

	"github.com/cloudflix/cloudflix/internal/queue"
)

// Publish puts m on the queue as a persistent message and returns once the
// broker has confirmed it, so a nil error means the broker has taken
// responsibility for the message. A message without an ID gets a random one.
//
// When the connection drops before the confirm arrives, Publish sends the
// message again on the next connection: the broker may then hold it twice,
// which consumers tolerate because deliveries are at-least-once anyway.
func (q *Queue) Publish(ctx context.Context, m queue.Message) (err error) {
	if m.ID == "" {
		m.ID = newMessageID()
	}
	ctx, span := queue.SendSpan(ctx, q.tracer, "rabbitmq", q.opts.Queue, m,
		semconv.MessagingRabbitMQDestinationRoutingKey(q.opts.Queue))
	defer func() {
		queue.Failed(span, err)
		span.End()
	}()

	headers := amqp.Table{}
	q.opts.Propagator.Inject(ctx, headerCarrier(headers))
	msg := amqp.Publishing{
		Headers:      headers,
		ContentType:  contentType,
		DeliveryMode: amqp.Persistent,
		MessageId:    m.ID,
		Timestamp:    time.Now(),
		Body:         m.Body,
	}
	for {
		s, err := q.session(ctx)
		if err != nil {
			return fmt.Errorf("amqpqueue: publish %s: %w", m.ID, err)
		}
		err = q.publishOn(ctx, s, msg)
		if err == nil {
			return nil
		}
		if !errors.Is(err, errConnLost) {
			return fmt.Errorf("amqpqueue: publish %s: %w", m.ID, err)
		}
		select {
		case <-s.lost:
		case <-ctx.Done():
			return fmt.Errorf("amqpqueue: publish %s: %w", m.ID, ctx.Err())
		}
	}
}

// publishOn publishes once on s and waits for the confirm.
func (q *Queue) publishOn(ctx context.Context, s *session, msg amqp.Publishing) error {
	ctx, cancel := context.WithTimeout(ctx, q.opts.ConfirmTimeout)
	defer cancel()
	// The default exchange routes by queue name. Not mandatory: the queue is
	// declared on every connect, and an unroutable message would still be
	// confirmed, so mandatory would need return tracking for no gain here.
	dc, err := s.pub.PublishWithDeferredConfirmWithContext(ctx, "", q.opts.Queue, false, false, msg)
	if err != nil {
		if s.broken(err) {
			return errConnLost
		}
		return err
	}
	acked, err := dc.WaitContext(ctx)
	if err != nil {
		return fmt.Errorf("no publisher confirm: %w", err)
	}
	if !acked {
		// The library nacks every outstanding confirm when the channel
		// closes; only a nack on a live channel comes from the broker.
		if s.broken(nil) {
			return errConnLost
		}
		return errors.New("broker nacked the message")
	}
	return nil
}
