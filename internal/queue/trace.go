package queue

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// What every adapter does alike around a message: the spans the
// OpenTelemetry messaging conventions name, and a handler that cannot take
// its consumer down.

// SendSpan starts the producer span of publishing m to destination on
// system ("rabbitmq", ...); extra attributes are the system's own.
func SendSpan(ctx context.Context, tracer trace.Tracer, system, destination string, m Message, extra ...attribute.KeyValue) (context.Context, trace.Span) {
	return tracer.Start(ctx, "send "+destination,
		trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(append([]attribute.KeyValue{
			semconv.MessagingSystemKey.String(system),
			semconv.MessagingOperationTypeSend,
			semconv.MessagingOperationName("publish"),
			semconv.MessagingDestinationName(destination),
			semconv.MessagingMessageID(m.ID),
			semconv.MessagingMessageBodySize(len(m.Body)),
		}, extra...)...))
}

// ProcessSpan starts the consumer span of handling d from destination.
func ProcessSpan(ctx context.Context, tracer trace.Tracer, system, destination string, d Delivery, extra ...attribute.KeyValue) (context.Context, trace.Span) {
	return tracer.Start(ctx, "process "+destination,
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(append([]attribute.KeyValue{
			semconv.MessagingSystemKey.String(system),
			semconv.MessagingOperationTypeProcess,
			semconv.MessagingOperationName("consume"),
			semconv.MessagingDestinationName(destination),
			semconv.MessagingMessageID(d.ID),
			semconv.MessagingMessageBodySize(len(d.Body)),
			attribute.Int("cloudflix.queue.attempt", d.Attempt),
		}, extra...)...))
}

// Failed marks span as failed with err; a nil err leaves it alone.
func Failed(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
}

// Handle runs handler on d, turning a panic into an error, so that one bad
// message cannot stop its consumer: the message is retried like any other
// failure.
func Handle(ctx context.Context, handler func(ctx context.Context, d Delivery) error, d Delivery) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("handler panicked: %v", r)
		}
	}()
	return handler(ctx, d)
}
