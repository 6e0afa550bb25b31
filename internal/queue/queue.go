// Package queue holds the vocabulary of CloudFlix's job queue port. The queue
// only carries work; the metadata store is the source of truth, so a message
// may be delivered more than once and consumers must be idempotent. Adapters
// live in sub-packages (amqpqueue).
package queue

import (
	"context"
	"errors"
)

// Queue is everything a job queue adapter does.
type Queue interface {
	// Publish returns once the queue holds the message safely.
	Publish(ctx context.Context, m Message) error
	// Consume hands messages to handler until ctx ends: nil from the
	// handler settles the message, a Permanent error dead-letters it, any
	// other error has it delivered again (up to a bound).
	Consume(ctx context.Context, handler func(ctx context.Context, d Delivery) error) error
	Stats(ctx context.Context) (Stats, error)
	Ping(ctx context.Context) error
}

// Message is one job on the queue.
type Message struct {
	// ID identifies the message for de-duplication and logs.
	ID   string
	Body []byte
}

// Delivery is a message handed to a consumer.
type Delivery struct {
	Message
	// Attempt counts deliveries of this message, starting at 1.
	Attempt int
}

// Stats describes a queue.
type Stats struct {
	Pending      int64 // messages ready for delivery
	Consumers    int64
	DeadLettered int64 // messages in the dead-letter queue
}

// ErrClosed is returned by calls made on (or interrupted by) a closed
// queue.
var ErrClosed = errors.New("queue closed")

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent wraps err so that a consumer dead-letters the message at once
// instead of redelivering it.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was wrapped by Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
