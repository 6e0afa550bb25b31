// Package platform opens the production backends (PostgreSQL, S3, Redis,
// RabbitMQ) the same way for every service: with tracing attached, and with
// a readiness check registered for each. It is the only place that knows
// which adapter stands behind each port; services receive the adapters and
// see only the interfaces they declare.
package platform

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"

	"github.com/cloudflix/cloudflix/internal/blob/s3blob"
	"github.com/cloudflix/cloudflix/internal/cache/rediscache"
	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/ops"
	"github.com/cloudflix/cloudflix/internal/queue/amqpqueue"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/store/pgstore"
)

// Process is what the services of one process share.
type Process struct {
	Metrics      *prometheus.Registry
	RPC          *rpc.Metrics
	Ready        *ops.Readiness
	ShutdownWait time.Duration
}

// NewProcess returns the shared parts of a process around its registry.
func NewProcess(reg *prometheus.Registry, shutdownWait time.Duration) *Process {
	return &Process{Metrics: reg, RPC: rpc.NewMetrics(reg), Ready: ops.NewReadiness(), ShutdownWait: shutdownWait}
}

// Registerer is where a service registers its metrics: every series it
// exports carries service=name, so services sharing a process do not clash.
func (p *Process) Registerer(name string) prometheus.Registerer {
	return prometheus.WrapRegistererWith(prometheus.Labels{"service": name}, p.Metrics)
}

// OpenPostgres connects to the metadata database.
func OpenPostgres(ctx context.Context, c config.Postgres, p *Process) (*pgstore.Store, error) {
	s, err := pgstore.Open(ctx, pgstore.Options{URL: string(c.URL), MaxConns: c.MaxConns, Tracer: queryTracer{}})
	if err != nil {
		return nil, fmt.Errorf("PostgreSQL: %w", err)
	}
	p.Ready.Add("postgres", s.Ping)
	return s, nil
}

// OpenS3 connects to object storage and makes sure the bucket exists.
func OpenS3(ctx context.Context, c config.S3, p *Process) (*s3blob.Store, error) {
	s, err := s3blob.Open(ctx, s3blob.Options{
		Endpoint:       c.Endpoint,
		PublicEndpoint: c.PublicEndpoint,
		AccessKey:      c.AccessKey,
		SecretKey:      string(c.SecretKey),
		Bucket:         c.Bucket,
		Region:         c.Region,
		UseTLS:         c.TLS,
		Transport: otelhttp.NewTransport(http.DefaultTransport,
			otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return "s3 " + r.Method })),
	})
	if err != nil {
		return nil, fmt.Errorf("S3: %w", err)
	}
	if err := s.EnsureBucket(ctx); err != nil {
		return nil, fmt.Errorf("S3 bucket %s: %w", c.Bucket, err)
	}
	p.Ready.Add("s3", s.Ping)
	return s, nil
}

// OpenRedis connects to the cache.
func OpenRedis(ctx context.Context, c config.Redis, p *Process) (*rediscache.Cache, error) {
	r, err := rediscache.Open(ctx, rediscache.Options{Addr: c.Addr, Password: string(c.Password), DB: c.DB, Prefix: c.Prefix, Hook: redisTracer{}})
	if err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	p.Ready.Add("redis", r.Ping)
	return r, nil
}

// OpenQueue connects to the job queue; name is the connection's name on the
// broker, prefetch how many deliveries a consumer holds at once.
func OpenQueue(ctx context.Context, c config.AMQP, name string, prefetch int, p *Process) (*amqpqueue.Queue, error) {
	q, err := amqpqueue.Open(ctx, amqpqueue.Options{
		URL: string(c.URL), Queue: c.Queue, MaxDeliveries: c.MaxDeliveries, Prefetch: prefetch, ConnectionName: name,
	})
	if err != nil {
		return nil, fmt.Errorf("RabbitMQ: %w", err)
	}
	p.Ready.Add("rabbitmq", q.Ping)
	return q, nil
}
