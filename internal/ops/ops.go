// Package ops serves what operators and orchestrators ask every process:
// /healthz (the process is alive), /readyz (every dependency it cannot
// serve a request without answers) and /metrics (Prometheus). It never
// serves user traffic, and it never shows the public what only operators
// may read: the metrics and the errors of failing dependencies are served
// on the admin address alone.
package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/netutil"
)

// Check reports whether one dependency answers.
type Check func(ctx context.Context) error

// Readiness is the set of checks /readyz runs; services add theirs at start.
// A required check is a dependency without which the process cannot serve
// a request (the metadata store); an optional one is a dependency the
// process works around while it is out (the cache, the queue behind the
// outbox): /readyz reports it as degraded but stays ready, so that an
// orchestrator does not take every replica out of service for it.
type Readiness struct {
	mu     sync.Mutex
	checks map[string]readinessCheck
}

type readinessCheck struct {
	check    Check
	optional bool
}

// Report is the outcome of one round of checks: the errors of the required
// checks that failed (Failing) and of the optional ones (Degraded), by name.
type Report struct {
	Failing  map[string]string
	Degraded map[string]string
}

// NewReadiness returns an empty set of checks.
func NewReadiness() *Readiness { return &Readiness{checks: map[string]readinessCheck{}} }

// Add registers a named required check; a name added twice keeps the last
// check.
func (r *Readiness) Add(name string, c Check) { r.add(name, c, false) }

// AddOptional registers a named check that /readyz reports but that never
// makes the process unready.
func (r *Readiness) AddOptional(name string, c Check) { r.add(name, c, true) }

func (r *Readiness) add(name string, c Check, optional bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks[name] = readinessCheck{check: c, optional: optional}
}

// Run runs every check at once, each bounded by timeout, and returns the
// failures of the required ones by name.
func (r *Readiness) Run(ctx context.Context, timeout time.Duration) map[string]string {
	return r.Report(ctx, timeout).Failing
}

// Report runs every check at once, each bounded by timeout.
func (r *Readiness) Report(ctx context.Context, timeout time.Duration) Report {
	r.mu.Lock()
	checks := make(map[string]readinessCheck, len(r.checks))
	for n, c := range r.checks {
		checks[n] = c
	}
	r.mu.Unlock()

	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		rep = Report{Failing: map[string]string{}, Degraded: map[string]string{}}
	)
	for name, c := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			if err := c.check(cctx); err != nil {
				mu.Lock()
				if c.optional {
					rep.Degraded[name] = err.Error()
				} else {
					rep.Failing[name] = err.Error()
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(checks) == 0 {
		rep.Failing["startup"] = "no service has started yet"
	}
	return rep
}

// Register adds /healthz, /readyz (naming each failing dependency with
// its error), /metrics and the Go profiles under /debug/pprof/ to mux: the
// admin address's endpoints.
func Register(mux *http.ServeMux, ready *Readiness, gatherer prometheus.Gatherer) {
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		rep := ready.Report(r.Context(), checkTimeout)
		body := map[string]any{"status": "ready"}
		code := http.StatusOK
		if len(rep.Failing) > 0 {
			code = http.StatusServiceUnavailable
			body = map[string]any{"status": "unavailable", "failing": sortedNames(rep.Failing), "errors": rep.Failing}
		}
		if len(rep.Degraded) > 0 {
			body["degraded"] = rep.Degraded
		}
		writeJSON(w, code, body)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
}

// RegisterPublic adds /healthz and /readyz to a mux that anyone may
// reach, such as the router's: the status alone, since the names and
// errors of failing dependencies tell a stranger how the install is
// built. There is no /metrics.
func RegisterPublic(mux *http.ServeMux, ready *Readiness) {
	mux.HandleFunc("GET /healthz", healthz)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if len(ready.Run(r.Context(), checkTimeout)) > 0 {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
}

// checkTimeout bounds each dependency check of one /readyz.
const checkTimeout = 2 * time.Second

func healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func sortedNames(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// Timeouts bound how long a connection may take over each part of an
// exchange, as http.Server's fields of the same names do, and how many
// connections may be open at once. A handler may move its own request's
// read and write deadlines (http.ResponseController), as the router's
// uploads and media do: they go at a rate instead.
type Timeouts struct {
	ReadHeader time.Duration // the request line and headers
	Read       time.Duration // the whole request, body included
	Write      time.Duration // the answer, from the end of the headers
	Idle       time.Duration // a kept-alive connection between requests
	// MaxConns caps the connections open at once: more wait in the
	// kernel's listen queue until one closes. 0 sets no cap.
	MaxConns int
}

// AdminTimeouts suit the ops endpoints: small requests, small answers.
var AdminTimeouts = Timeouts{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Write: time.Minute, Idle: 2 * time.Minute}

// ServeHTTP serves h on addr within the timeouts t until ctx ends, then
// shuts down gracefully within wait.
func ServeHTTP(ctx context.Context, addr string, h http.Handler, wait time.Duration, t Timeouts) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("HTTP listen %s: %w", addr, err)
	}
	if t.MaxConns > 0 {
		lis = netutil.LimitListener(lis, t.MaxConns)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: t.ReadHeader, ReadTimeout: t.Read, WriteTimeout: t.Write, IdleTimeout: t.Idle}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(lis) }()
	select {
	case err := <-errc:
		return fmt.Errorf("HTTP serve %s: %w", addr, err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("HTTP shutdown %s: %w", addr, err)
	}
	return nil
}
