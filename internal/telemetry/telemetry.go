// Package telemetry sets up a process's traces, logs and metrics: an
// OpenTelemetry tracer provider exporting over OTLP, W3C trace-context
// propagation, JSON slog logs (text on a terminal) that carry the trace id, and a Prometheus
// registry with the Go runtime and process collectors. It must never decide
// anything about videos; services only record into what it sets up.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/term"
)

// Options configure Setup.
type Options struct {
	Service      string // service.name of the spans, e.g. "cloudflix-router"
	Version      string
	OTLPEndpoint string // host:port of an OTLP/gRPC collector; empty: no export
	LogLevel     string
	LogOutput    io.Writer
}

// Telemetry is what Setup made; Shutdown flushes and stops it.
type Telemetry struct {
	Registry *prometheus.Registry
	Tracer   *sdktrace.TracerProvider
}

// Setup installs the global tracer provider, propagator and default logger,
// and makes the process's metrics registry.
func Setup(ctx context.Context, o Options) (*Telemetry, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(strings.ToUpper(o.LogLevel))); err != nil {
		return nil, fmt.Errorf("log level %q: %w", o.LogLevel, err)
	}
	slog.SetDefault(slog.New(TraceHandler{logHandler(o.LogOutput, level)}).With("service", o.Service))

	tp, err := SetupTracing(ctx, o.Service, o.Version, o.OTLPEndpoint)
	if err != nil {
		return nil, err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Telemetry{Registry: reg, Tracer: tp}, nil
}

// SetupTracing installs the global tracer provider, exporting over OTLP/gRPC
// to endpoint when one is given, and W3C trace-context propagation. Without
// an endpoint spans are still made, so trace ids reach logs and the requests
// a process sends.
func SetupTracing(ctx context.Context, service, version, endpoint string) (*sdktrace.TracerProvider, error) {
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName(service), semconv.ServiceVersion(version)))
	if err != nil {
		return nil, fmt.Errorf("telemetry resource: %w", err)
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithResource(res)}
	if endpoint != "" {
		exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(endpoint), otlptracegrpc.WithInsecure())
		if err != nil {
			return nil, fmt.Errorf("OTLP exporter: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	return tp, nil
}

// Shutdown flushes spans still buffered.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if err := t.Tracer.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("telemetry shutdown: %w", err)
	}
	return nil
}

// logHandler writes JSON lines, what log collectors read, unless out is a
// terminal: a person reading it gets slog's text form.
func logHandler(out io.Writer, level slog.Level) slog.Handler {
	opts := &slog.HandlerOptions{Level: level}
	if f, ok := out.(interface{ Fd() uintptr }); ok && term.IsTerminal(int(f.Fd())) {
		return slog.NewTextHandler(out, opts)
	}
	return slog.NewJSONHandler(out, opts)
}

// TraceHandler adds trace_id and span_id to every record logged with a
// context that carries a span.
type TraceHandler struct{ slog.Handler }

// Handle implements slog.Handler.
func (h TraceHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h TraceHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return TraceHandler{h.Handler.WithAttrs(as)}
}

// WithGroup implements slog.Handler.
func (h TraceHandler) WithGroup(name string) slog.Handler {
	return TraceHandler{h.Handler.WithGroup(name)}
}
