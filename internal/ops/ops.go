// Package ops serves what operators and orchestrators ask every process:
// /healthz (the process is alive), /readyz (every dependency answers) and
// /metrics (Prometheus). It never serves user traffic.
package ops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
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
type Readiness struct {
	mu     sync.Mutex
	checks map[string]Check
}

// NewReadiness returns an empty set of checks.
func NewReadiness() *Readiness { return &Readiness{checks: map[string]Check{}} }

// Add registers a named check; a name added twice keeps the last check.
func (r *Readiness) Add(name string, c Check) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks[name] = c
}

// Run runs every check at once, each bounded by timeout, and returns the
// failures by name.
func (r *Readiness) Run(ctx context.Context, timeout time.Duration) map[string]string {
	r.mu.Lock()
	checks := make(map[string]Check, len(r.checks))
	for n, c := range r.checks {
		checks[n] = c
	}
	r.mu.Unlock()

	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		failures = map[string]string{}
	)
	for name, check := range checks {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			if err := check(cctx); err != nil {
				mu.Lock()
				failures[name] = err.Error()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(checks) == 0 {
		failures["startup"] = "no service has started yet"
	}
	return failures
}

// Register adds /healthz, /readyz and /metrics to mux.
func Register(mux *http.ServeMux, ready *Readiness, gatherer prometheus.Gatherer) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		failures := ready.Run(r.Context(), 2*time.Second)
		if len(failures) > 0 {
			names := make([]string, 0, len(failures))
			for n := range failures {
				names = append(names, n)
			}
			sort.Strings(names)
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "failing": names, "errors": failures})
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
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
