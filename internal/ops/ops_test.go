package ops

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cloudflix/cloudflix/internal/testenv"
)

func TestReadyzReportsFailingDependencies(t *testing.T) {
	ready := NewReadiness()
	mux := http.NewServeMux()
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "cloudflix_test_total", Help: "t"}))
	Register(mux, ready, reg)

	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, _ := get("/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz with no checks = %d, want 503", code)
	}
	ready.Add("postgres", func(context.Context) error { return nil })
	if code, body := get("/readyz"); code != http.StatusOK {
		t.Fatalf("readyz = %d %s", code, body)
	}
	ready.Add("redis", func(context.Context) error { return errors.New("connection refused") })
	code, body := get("/readyz")
	var got struct {
		Failing []string          `json:"failing"`
		Errors  map[string]string `json:"errors"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if code != http.StatusServiceUnavailable || len(got.Failing) != 1 || got.Failing[0] != "redis" || got.Errors["redis"] != "connection refused" {
		t.Fatalf("readyz = %d %s", code, body)
	}
	ready.Add("redis", func(context.Context) error { return nil })
	ready.AddOptional("cache", func(context.Context) error { return errors.New("breaker open") })
	code, body = get("/readyz")
	var degraded struct {
		Status   string            `json:"status"`
		Degraded map[string]string `json:"degraded"`
	}
	if err := json.Unmarshal([]byte(body), &degraded); err != nil {
		t.Fatal(err)
	}
	if code != http.StatusOK || degraded.Status != "ready" || degraded.Degraded["cache"] != "breaker open" {
		t.Fatalf("readyz with an optional dependency down = %d %s; want 200, ready, the dependency degraded", code, body)
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Fatalf("healthz = %d", code)
	}
	if code, body := get("/metrics"); code != http.StatusOK || !strings.Contains(body, "cloudflix_test_total") {
		t.Fatalf("metrics = %d %s", code, body)
	}
}

// TestPublicEndpointsTellStatusOnly: the public port says whether the
// process is ready, never which dependency failed or why, and serves no
// metrics.
func TestPublicEndpointsTellStatusOnly(t *testing.T) {
	ready := NewReadiness()
	ready.Add("postgres", func(context.Context) error {
		return errors.New("dial tcp 10.0.3.7:5432: connection refused")
	})
	mux := http.NewServeMux()
	RegisterPublic(mux, ready)
	get := func(path string) (int, string) {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := get("/readyz"); code != http.StatusServiceUnavailable || strings.TrimSpace(body) != `{"status":"unavailable"}` {
		t.Fatalf("public readyz = %d %s, want 503 with the status alone", code, body)
	}
	ready.Add("postgres", func(context.Context) error { return nil })
	if code, body := get("/readyz"); code != http.StatusOK || strings.TrimSpace(body) != `{"status":"ready"}` {
		t.Fatalf("public readyz = %d %s", code, body)
	}
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Fatalf("public healthz = %d", code)
	}
	for _, path := range []string{"/metrics", "/debug/pprof/", "/debug/pprof/heap"} {
		if code, body := get(path); code != http.StatusNotFound {
			t.Fatalf("public %s = %d %s, want 404", path, code, body)
		}
	}
}

// The admin address serves the Go profiles, for an operator to see where
// a process spends its time (go tool pprof http://127.0.0.1:9100/debug/pprof/profile).
func TestAdminServesProfiles(t *testing.T) {
	mux := http.NewServeMux()
	Register(mux, NewReadiness(), prometheus.NewRegistry())
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap?debug=1", "/debug/pprof/goroutine?debug=1"} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Errorf("admin %s = %d (%d bytes), want 200 with a profile", path, rec.Code, rec.Body.Len())
		}
	}
}

func TestReadinessChecksAreBounded(t *testing.T) {
	ready := NewReadiness()
	ready.Add("slow", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	failures := ready.Run(context.Background(), 10_000_000) // 10ms
	if !strings.Contains(failures["slow"], "deadline") {
		t.Fatalf("failures = %v", failures)
	}
}

// Past MaxConns a connection waits to be accepted until one closes: its
// request is not read meanwhile, however long it waits.
func TestConnectionsAreCapped(t *testing.T) {
	t.Parallel()
	addr, err := testenv.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	go func() { served <- ServeHTTP(ctx, addr, h, time.Second, Timeouts{MaxConns: 2, Idle: time.Minute}) }()
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("ServeHTTP: %v", err)
		}
	})
	if err := testenv.WaitTCP(addr, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	ask := func(c net.Conn, within time.Duration) error {
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return err
		}
		_ = c.SetReadDeadline(time.Now().Add(within))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	var held []net.Conn
	for len(held) < 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// WaitTCP's connection may hold a slot until the server sees it
		// closed; the deadline leaves it time to.
		if err := ask(c, 10*time.Second); err != nil {
			t.Fatalf("connection %d: %v", len(held)+1, err)
		}
		held = append(held, c)
	}
	third, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	var ne net.Error
	if err := ask(third, 300*time.Millisecond); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("a third connection with two held was answered (%v), want it left waiting", err)
	}
	held[0].Close()
	_ = third.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(third), nil)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("the third connection once one closed: %v %v", resp, err)
	}
	resp.Body.Close()
}
