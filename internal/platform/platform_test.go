package platform

import (
	"context"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/faulttest"
	"github.com/cloudflix/cloudflix/internal/queue"
	"github.com/cloudflix/cloudflix/internal/queue/amqpqueue"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/testenv"
)

func embedded(t *testing.T) config.Backends {
	t.Helper()
	return config.Backends{DataDir: t.TempDir(), Metadata: "sqlite", Storage: "local", Cache: "memory", Queue: "memory"}
}

func TestDataDirBelongsToOneProcess(t *testing.T) {
	cfg := embedded(t)
	p, err := NewProcess(prometheus.NewRegistry(), time.Second, cfg, testKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewProcess(prometheus.NewRegistry(), time.Second, cfg, testKey); err == nil || !strings.Contains(err.Error(), "another cloudflix process") {
		t.Fatalf("second process on the same data dir: %v", err)
	}
	p.Close()
	again, err := NewProcess(prometheus.NewRegistry(), time.Second, cfg, testKey)
	if err != nil {
		t.Fatalf("after the first process closed: %v", err)
	}
	again.Close()
}

func TestBackendsAreOpenedOncePerProcess(t *testing.T) {
	p, err := NewProcess(prometheus.NewRegistry(), time.Second, embedded(t), testKey)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := t.Context()
	s1, err := p.Store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := p.Store(ctx)
	if s1 != s2 {
		t.Error("two services got two metadata stores")
	}
	if _, parts, err := p.Objects(ctx); err != nil {
		t.Fatal(err)
	} else if parts == nil {
		t.Error("local storage has no upload endpoint")
	}
	if failures := p.Ready.Run(ctx, time.Second); len(failures) != 0 {
		t.Errorf("readiness: %v", failures)
	}
}

// The in-process queue is one for the process: what one service publishes
// another consumes, with as many deliveries at once as it asked for.
func TestInProcessQueueIsShared(t *testing.T) {
	p, err := NewProcess(prometheus.NewRegistry(), time.Second, embedded(t), testKey)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	pub, _ := p.Queue(ctx, "upload", 1)
	sub, _ := p.Queue(ctx, "encode", 2)

	var running, peak atomic.Int32
	done := make(chan struct{}, 4)
	release := make(chan struct{})
	go func() {
		_ = sub.Consume(ctx, func(context.Context, queue.Delivery) error {
			n := running.Add(1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			<-release
			running.Add(-1)
			done <- struct{}{}
			return nil
		})
	}()
	for i := range 4 {
		if err := pub.Publish(ctx, queue.Message{ID: string(rune('a' + i)), Body: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for peak.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	for range 4 {
		select {
		case <-done:
		case <-ctx.Done():
			t.Fatal("messages were not all consumed")
		}
	}
	if got := peak.Load(); got != 2 {
		t.Fatalf("deliveries at once = %d, want the 2 the consumer asked for", got)
	}
}

func TestUnknownBackendIsRefused(t *testing.T) {
	cfg := embedded(t)
	cfg.Storage = "ftp"
	if _, err := NewProcess(prometheus.NewRegistry(), time.Second, cfg, testKey); err == nil || !strings.Contains(err.Error(), "CLOUDFLIX_STORAGE") {
		t.Fatalf("err = %v", err)
	}
}

var testKey = rpc.Key("platform test internal key of 32 bytes")

// Readiness holds only what a request cannot be served without: with Redis
// and RabbitMQ out of reach the process stays ready, and /readyz names them
// as degraded; with the metadata store out of reach it is not ready.
func TestReadinessLeavesOutOptionalBackends(t *testing.T) {
	t.Parallel()
	cfg := embedded(t)
	pgURL, pg := through(t, testenv.Postgres(t))
	amqpURL, amqp := through(t, testenv.AMQPURL())
	redis := faulttest.New(t, testenv.RedisAddr())
	cfg.Metadata, cfg.Postgres = "postgres", config.Postgres{URL: config.Secret(pgURL), MaxConns: 2}
	cfg.Cache, cfg.Redis = "redis", config.Redis{Addr: redis.Addr(), Prefix: testenv.RedisPrefix(t)}
	cfg.Queue, cfg.AMQP = "rabbitmq", config.AMQP{URL: config.Secret(amqpURL), Queue: testenv.QueueName(t), MaxDeliveries: 5}
	p, err := NewProcess(prometheus.NewRegistry(), time.Second, cfg, testKey)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := t.Context()
	if _, err := p.Store(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := p.Cache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Queue(ctx, "upload", 1); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if q, err := amqpqueue.Open(context.Background(), amqpqueue.Options{URL: testenv.AMQPURL(), Queue: cfg.AMQP.Queue}); err == nil {
			_ = q.DeleteTopology(context.Background())
			_ = q.Close()
		}
	})
	if got := gauge(t, p, "cloudflix_cache_available"); got != 1 {
		t.Fatalf("cloudflix_cache_available = %v with Redis up", got)
	}
	redis.Inject(faulttest.Down, 0)
	amqp.Inject(faulttest.Down, 0)
	for range 3 {
		if _, err := c.Get(ctx, "video:1"); err == nil {
			t.Fatal("a cache read with Redis down succeeded")
		}
	}
	if got := gauge(t, p, "cloudflix_cache_available"); got != 0 {
		t.Fatalf("cloudflix_cache_available = %v after three failures", got)
	}
	rep := p.Ready.Report(ctx, time.Second)
	if len(rep.Failing) != 0 || rep.Degraded["redis"] == "" || rep.Degraded["rabbitmq-upload"] == "" {
		t.Fatalf("with Redis and RabbitMQ down: failing %v, degraded %v; want ready, both degraded", rep.Failing, rep.Degraded)
	}
	pg.Inject(faulttest.Down, 0)
	if rep := p.Ready.Report(ctx, time.Second); rep.Failing["postgres"] == "" {
		t.Fatalf("with PostgreSQL down: failing %v; want postgres", rep.Failing)
	}
	for _, proxy := range []*faulttest.Proxy{pg, redis, amqp} {
		proxy.Heal()
	}
	deadline := time.Now().Add(30 * time.Second)
	for rep := p.Ready.Report(ctx, time.Second); len(rep.Failing)+len(rep.Degraded) > 0; rep = p.Ready.Report(ctx, time.Second) {
		if time.Now().After(deadline) {
			t.Fatalf("30s after healing: failing %v, degraded %v", rep.Failing, rep.Degraded)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// gauge is the value of the gauge name in p's registry.
func gauge(t *testing.T, p *Process, name string) float64 {
	t.Helper()
	families, err := p.Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no gauge %s", name)
	return 0
}

// through puts a fault proxy in front of the server a URL names and
// returns the URL that reaches it through the proxy.
func through(t *testing.T, raw string) (string, *faulttest.Proxy) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	proxy := faulttest.New(t, u.Host)
	u.Host = proxy.Addr()
	return u.String(), proxy
}

// A router that calls a service of its own process in memory reaches it
// without its TCP port, through the same server and its interceptors; one
// outside the process is dialled at its target.
func TestRouterCallsItsOwnProcessInMemory(t *testing.T) {
	p, err := NewProcess(prometheus.NewRegistry(), time.Second, embedded(t), testKey)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.CallInMemory("router", "host")
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	srv := rpc.NewServer(p.RPC, p.Key)
	served := make(chan error, 1)
	go func() { served <- p.ServeRPC(ctx, "host", srv, "127.0.0.1:0") }()

	closedPort := "127.0.0.1:1"
	host, err := p.DialRPC("host", closedPort)
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	if resp, err := healthpb.NewHealthClient(host).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("the host service in memory: %v, %v", resp, err)
	}
	if n := handled(t, p, "grpc.health.v1.Health", "Check"); n != 1 {
		t.Errorf("the server's interceptors counted %v calls, want 1", n)
	}

	search, err := p.DialRPC("search", closedPort)
	if err != nil {
		t.Fatal(err)
	}
	defer search.Close()
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	if _, err := healthpb.NewHealthClient(search).Check(short, &healthpb.HealthCheckRequest{}); err == nil {
		t.Fatal("a service outside the process answered through memory")
	}
	cancel()
	if err := <-served; err != nil {
		t.Fatal(err)
	}
}

// handled is the count of calls of one RPC in p's RED metrics.
func handled(t *testing.T, p *Process, service, method string) float64 {
	t.Helper()
	families, err := p.Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, f := range families {
		if f.GetName() != "cloudflix_grpc_server_handled_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["grpc_service"] == service && labels["grpc_method"] == method {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}
