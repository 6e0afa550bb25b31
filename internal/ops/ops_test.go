package ops

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
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
	if code, body := get("/metrics"); code != http.StatusNotFound {
		t.Fatalf("public metrics = %d %s, want 404", code, body)
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
