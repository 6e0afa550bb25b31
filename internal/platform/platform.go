// Package platform gives the services of one process their backends: the
// adapter behind each port is chosen by configuration (embedded or
// production), opened once per process however many services use it, traced,
// given a readiness check, and closed when the process ends. It is the only
// place that knows which adapter stands behind each port; services see only
// the interfaces they declare.
package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/cache"
	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/ops"
	"github.com/cloudflix/cloudflix/internal/queue"
	"github.com/cloudflix/cloudflix/internal/rpc"
	"github.com/cloudflix/cloudflix/internal/store"
)

// Process is what the services of one process share.
type Process struct {
	Metrics *prometheus.Registry
	RPC     *rpc.Metrics
	// Key signs the principals the edge passes to the services; every
	// process of an install holds the same one.
	Key          rpc.Key
	Ready        *ops.Readiness
	ShutdownWait time.Duration

	cfg      config.Backends
	dataLock *os.File

	mu          sync.Mutex
	store       store.Store
	objects     blob.Store
	uploadParts http.Handler
	cache       cache.Cache
	memQueue    queue.Queue
	closers     []func() error
	// memory carries the router's calls to the services named in
	// inMemory, which run in this process; nil: every call goes over TCP.
	memory   *rpc.Memory
	inMemory map[string]bool
}

// NewProcess checks the backend configuration and its credentials
// (CheckCredentials) and returns the shared parts
// of a process around its registry. When any backend is embedded it takes
// the data folder for itself: two processes on one data folder would
// corrupt each other.
func NewProcess(reg *prometheus.Registry, shutdownWait time.Duration, cfg config.Backends, key rpc.Key) (*Process, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if err := CheckCredentials(cfg); err != nil {
		return nil, err
	}
	if len(key) < rpc.MinKeyBytes {
		return nil, fmt.Errorf("the internal key must be at least %d bytes", rpc.MinKeyBytes)
	}
	p := &Process{Metrics: reg, RPC: rpc.NewMetrics(reg), Key: key, Ready: ops.NewReadiness(), ShutdownWait: shutdownWait, cfg: cfg}
	if len(cfg.InProcess()) > 0 {
		if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
			return nil, fmt.Errorf("data dir: %w", err)
		}
		lock, err := lockDataDir(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		p.dataLock = lock
	}
	return p, nil
}

// Registerer is where a service registers its metrics: every series it
// exports carries service=name, so services sharing a process do not clash.
func (p *Process) Registerer(name string) prometheus.Registerer {
	return prometheus.WrapRegistererWith(prometheus.Labels{"service": name}, p.Metrics)
}

// QueueInProcess reports whether the job queue lives in this process, in
// which case no other process can share the work and this one recovers what
// a previous run of it left unfinished.
func (p *Process) QueueInProcess() bool { return p.cfg.Queue == "memory" }

// DataDir is the absolute path of the folder the in-process backends keep
// their data in; this process holds it while any of them is in use.
func (p *Process) DataDir() string {
	dir, err := filepath.Abs(p.cfg.DataDir)
	if err != nil {
		return p.cfg.DataDir
	}
	return dir
}

// Store returns the metadata store, opening it on first use.
func (p *Process) Store(ctx context.Context) (store.Store, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.store == nil {
		s, closeFn, err := OpenStore(ctx, p.cfg)
		if err != nil {
			return nil, err
		}
		p.store = s
		p.closers = append(p.closers, closeFn)
		p.Ready.Add(p.cfg.Metadata, s.Ping)
	}
	return p.store, nil
}

// Objects returns object storage, opening it (and creating its bucket or
// folder) on first use, with the HTTP endpoint that takes the parts of
// uploads when storage is a local folder (clients PUT to its presigned
// URLs); that endpoint is nil when storage is S3, which takes them itself.
func (p *Process) Objects(ctx context.Context) (blob.Store, http.Handler, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.objects == nil {
		o, parts, err := openObjects(ctx, p.cfg)
		if err != nil {
			return nil, nil, err
		}
		p.objects, p.uploadParts = o, parts
		p.Ready.Add(p.cfg.Storage+"-storage", o.Ping)
	}
	return p.objects, p.uploadParts, nil
}

// Cache returns the cache, opening it on first use.
func (p *Process) Cache(ctx context.Context) (cache.Cache, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cache == nil {
		c, closeFn, err := openCache(ctx, p.cfg, p.Metrics)
		if err != nil {
			return nil, err
		}
		p.cache = c
		p.closers = append(p.closers, closeFn)
		// Every read goes on without the cache, at the database's speed.
		p.Ready.AddOptional(p.cfg.Cache, c.Ping)
	}
	return p.cache, nil
}

// Queue returns the job queue for one service: name labels its connection,
// prefetch bounds the deliveries its consumer works on at once. RabbitMQ
// gives each caller a connection of its own; the in-process queue is one
// for the whole process.
func (p *Process) Queue(ctx context.Context, name string, prefetch int) (queue.Queue, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cfg.Queue == "memory" {
		if p.memQueue == nil {
			q := newMemQueue(p.cfg)
			p.memQueue = q
			p.closers = append(p.closers, q.Close)
			p.Ready.AddOptional("memory-queue", q.Ping)
		}
		return parallel{Queue: p.memQueue, consumers: max(prefetch, 1)}, nil
	}
	q, err := openRabbitMQ(ctx, p.cfg.AMQP, "cloudflix-"+name, prefetch)
	if err != nil {
		return nil, err
	}
	p.closers = append(p.closers, q.Close)
	// Uploads go on without the queue (the outbox holds their jobs until
	// it is back) and so does every read; the worker waits for it.
	p.Ready.AddOptional("rabbitmq-"+name, q.Ping)
	return q, nil
}

// CallInMemory has the router of this process call the services named,
// which run in this same process, through memory instead of their TCP
// ports (which still serve other callers). Call it before the services
// and the router start.
func (p *Process) CallInMemory(services ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.memory == nil {
		p.memory, p.inMemory = rpc.NewMemory(), map[string]bool{}
	}
	for _, s := range services {
		p.inMemory[s] = true
	}
}

// onMemory is the in-memory network when the router calls service on it.
func (p *Process) onMemory(service string) *rpc.Memory {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inMemory[service] {
		return p.memory
	}
	return nil
}

// ServeRPC serves srv, the gRPC server of service, on addr until ctx ends,
// and in memory too when this process's router calls it there.
func (p *Process) ServeRPC(ctx context.Context, service string, srv *rpc.Server, addr string) error {
	m := p.onMemory(service)
	if m == nil {
		return srv.Serve(ctx, addr, p.ShutdownWait)
	}
	lis, err := m.Listen(service)
	if err != nil {
		return err
	}
	return srv.Serve(ctx, addr, p.ShutdownWait, lis)
}

// DialRPC connects the router to service at target, or in memory when the
// service runs in this process and CallInMemory named it.
func (p *Process) DialRPC(service, target string) (*grpc.ClientConn, error) {
	if m := p.onMemory(service); m != nil {
		return rpc.DialMemory(m, service, p.Key)
	}
	return rpc.Dial(target, p.Key)
}

// Close closes every backend opened, newest first, and frees the data
// folder.
func (p *Process) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.closers) - 1; i >= 0; i-- {
		if err := p.closers[i](); err != nil && !errors.Is(err, context.Canceled) {
			slog.Warn("closing a backend", "err", err)
		}
	}
	p.closers = nil
	if p.dataLock != nil {
		p.dataLock.Close()
		p.dataLock = nil
	}
}

// parallel runs several consumers of the in-process queue, one delivery
// each, so a service's prefetch means the same on both queue adapters.
type parallel struct {
	queue.Queue
	consumers int
}

func (q parallel) Consume(ctx context.Context, handler func(context.Context, queue.Delivery) error) error {
	g, gctx := errgroup.WithContext(ctx)
	for range q.consumers {
		g.Go(func() error { return q.Queue.Consume(gctx, handler) })
	}
	return g.Wait()
}
