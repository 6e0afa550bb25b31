package router

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cloudflix/cloudflix/api-router/apicheck"
	"github.com/cloudflix/cloudflix/internal/admit"
	"github.com/cloudflix/cloudflix/internal/ops"
)

// exchange is one request sent to a test server and what came back.
type exchange struct {
	req  *http.Request
	resp *http.Response
	body []byte
}

func send(t *testing.T, method, url string) exchange {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return exchange{req, resp, body}
}

// refusal checks that x is the JSON refusal the document describes, with
// a Retry-After of at least a second, and returns that.
func refusal(t *testing.T, check *apicheck.Checker, x exchange, status int, code string) int {
	t.Helper()
	if x.resp.StatusCode != status {
		t.Fatalf("%s %s: %s (%s), want %d", x.req.Method, x.req.URL.Path, x.resp.Status, x.body, status)
	}
	var e errorBody
	if err := json.Unmarshal(x.body, &e); err != nil || e.Error.Code != code || e.Error.Message == "" {
		t.Errorf("%s %s: body %s, want a JSON error with code %s", x.req.Method, x.req.URL.Path, x.body, code)
	}
	wait, err := strconv.Atoi(x.resp.Header.Get("Retry-After"))
	if err != nil || wait < 1 {
		t.Errorf("%s %s: Retry-After %q, want whole seconds, at least 1", x.req.Method, x.req.URL.Path, x.resp.Header.Get("Retry-After"))
	}
	if err := check.Check(x.req, x.resp, x.body); err != nil {
		t.Errorf("the refusal is not what the OpenAPI document says: %v", err)
	}
	return wait
}

// A class at its limit refuses the excess at once, while what it admitted
// is still under way, other classes go on and /healthz answers. Searches
// here are held on a channel until the test lets them go.
func TestSaturatedClassRefusesTheExcessAtOnce(t *testing.T) {
	t.Parallel()
	const limit, excess = 4, 12
	reg := prometheus.NewRegistry()
	a, err := newAPI(Options{MediaKey: testMediaKey, Logger: discardLogger(), Metrics: reg,
		Admission: Admission{Search: limit}})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	entered := make(chan struct{}, limit)
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/search", a.admit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
		writeJSON(w, http.StatusOK, map[string]any{"results": []any{}, "next_cursor": nil})
	})))
	mux.Handle("GET /api/v1/videos/{id}", a.admit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	ops.Register(mux, ops.NewReadiness(), reg)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	check, err := apicheck.New(OpenAPI)
	if err != nil {
		t.Fatal(err)
	}

	var held sync.WaitGroup
	admitted := make([]exchange, limit)
	for i := range limit {
		held.Go(func() { admitted[i] = send(t, "GET", srv.URL+"/api/v1/search?q=sea") })
	}
	for range limit {
		<-entered // every admitted search is in its handler, held
	}
	for range excess {
		refusal(t, check, send(t, "GET", srv.URL+"/api/v1/search?q=sea"), http.StatusServiceUnavailable, "unavailable")
	}
	// Still held: the refusals did not wait for them.
	select {
	case <-entered:
		t.Fatal("a search over the limit reached its handler")
	default:
	}
	if x := send(t, "GET", srv.URL+"/healthz"); x.resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz under load: %s", x.resp.Status)
	}
	if x := send(t, "GET", srv.URL+"/api/v1/videos/v1"); x.resp.StatusCode != http.StatusNoContent {
		t.Errorf("a read while searches are at their limit: %s (%s), want it served", x.resp.Status, x.body)
	}

	close(release)
	held.Wait()
	for _, x := range admitted {
		if x.resp.StatusCode != http.StatusOK {
			t.Errorf("an admitted search ended %s (%s)", x.resp.Status, x.body)
		}
	}
	if x := send(t, "GET", srv.URL+"/api/v1/search?q=sea"); x.resp.StatusCode != http.StatusOK {
		t.Errorf("a search once the load was gone: %s (%s)", x.resp.Status, x.body)
	}

	if got := testutil.ToFloat64(a.gates.m.refused.WithLabelValues("search", "overload")); got != excess {
		t.Errorf("cloudflix_http_refused_total{class=search,reason=overload} = %v, want %d", got, excess)
	}
	if got := testutil.ToFloat64(a.gates.m.admitted.WithLabelValues("search")); got != limit+1 {
		t.Errorf("cloudflix_http_admitted_total{class=search} = %v, want %d", got, limit+1)
	}
	if got := testutil.ToFloat64(a.gates.m.inFlight.WithLabelValues("search")); got != 0 {
		t.Errorf("cloudflix_http_in_flight{class=search} = %v after the load, want 0", got)
	}
}

// A client over its rate gets 429 with the wait, in the error shape;
// another client does not. The whole edge serves here, as `serve` builds
// it, with a rate of one request a thousand seconds after a burst of two,
// the clients named by a trusted proxy's X-Forwarded-For.
func TestClientOverItsRateIsRefused(t *testing.T) {
	t.Parallel()
	a, err := newAPI(Options{MediaKey: testMediaKey, Logger: discardLogger(), TrustedProxies: []string{"127.0.0.1"},
		Admission: Admission{ClientRate: 0.001, ClientBurst: 2}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.mux)
	defer srv.Close()
	check, err := apicheck.New(OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	from := func(client string) exchange {
		req, err := http.NewRequest("GET", srv.URL+"/api/openapi.json", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Forwarded-For", client)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return exchange{req, resp, body}
	}
	for i := range 2 {
		if x := from("192.0.2.1"); x.resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d of the burst: %s", i+1, x.resp.Status)
		}
	}
	wait := refusal(t, check, from("192.0.2.1"), http.StatusTooManyRequests, "resource_exhausted")
	if wait < 900 || wait > 1000 {
		t.Errorf("Retry-After %d, want about 1000 s, when one token comes back", wait)
	}
	// Another address, and another host of the same IPv6 /64.
	if x := from("192.0.2.2"); x.resp.StatusCode != http.StatusOK {
		t.Errorf("another client was refused: %s", x.resp.Status)
	}
	from("2001:db8::1")
	from("2001:db8::2")
	refusal(t, check, from("2001:db8::3"), http.StatusTooManyRequests, "resource_exhausted")
	if got := testutil.ToFloat64(a.gates.m.refused.WithLabelValues("read", "rate")); got != 2 {
		t.Errorf("cloudflix_http_refused_total{class=read,reason=rate} = %v, want 2", got)
	}
}

// A handler that panics gives its place back: net/http recovers the
// panic, and the class is not left one short for good.
func TestPanicReleasesItsPlace(t *testing.T) {
	t.Parallel()
	a, err := newAPI(Options{MediaKey: testMediaKey, Logger: discardLogger(), Admission: Admission{Search: 1}})
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	srv := httptest.NewUnstartedServer(a.admit(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			panic("the first search fails")
		}
		w.WriteHeader(http.StatusNoContent)
	})))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	defer srv.Close()
	if _, err := http.Get(srv.URL + "/api/v1/search?q=sea"); err == nil {
		t.Fatal("the panicking search was answered")
	}
	if x := send(t, "GET", srv.URL+"/api/v1/search?q=sea"); x.resp.StatusCode != http.StatusNoContent {
		t.Fatalf("the search after a panic: %s (%s), want it admitted", x.resp.Status, x.body)
	}
}

func TestClassOf(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		method, path string
		want         class
	}{
		{"GET", "/api/v1/videos/v1", classRead},
		{"HEAD", "/api/v1/videos", classRead},
		{"GET", "/api/v1/search", classSearch},
		{"GET", "/api/v1/search/suggest", classSearch},
		{"GET", "/api/v1/searches", classRead},
		{"POST", "/api/v1/uploads", classWrite},
		{"DELETE", "/api/v1/videos/v1", classWrite},
		{"PUT", partsPrefix + "abc/1", classUpload},
		{"GET", "/media/videos/v1/hls/master.m3u8", classMedia},
		{"GET", "/media/s/1/sig/videos/v1/thumb.jpg", classMedia},
	} {
		r := httptest.NewRequest(tt.method, tt.path, nil)
		if got := classOf(r); got != tt.want {
			t.Errorf("%s %s: class %s, want %s", tt.method, tt.path, got, tt.want)
		}
	}
}

// Requests that time out behind the edge teach an adaptive limit to back
// off; a client that leaves teaches nothing.
func TestOutcome(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("GET", "/api/v1/search", nil)
	for code, want := range map[int]admit.Outcome{200: admit.Served, 404: admit.Served, 503: admit.Dropped, 504: admit.Dropped, 499: admit.Ignored, 0: admit.Ignored} {
		if got := outcome(r, code); got != want {
			t.Errorf("status %d: outcome %d, want %d", code, got, want)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if got := outcome(r.WithContext(ctx), 200); got != admit.Ignored {
		t.Errorf("a request whose client left: outcome %d, want ignored", got)
	}
}

// BenchmarkRefusal is what the edge spends refusing a search when the
// class is full, and BenchmarkAdmitted what it spends serving one (the
// OpenAPI document, which no service is asked for), on the whole chain
// the server runs: tracing, metrics, routing, admission, the JSON answer.
func BenchmarkRefusal(b *testing.B) {
	a, err := newAPI(Options{MediaKey: testMediaKey, Logger: discardLogger(), Admission: Admission{Search: 1}})
	if err != nil {
		b.Fatal(err)
	}
	if !a.gates.limits[classSearch].Acquire() { // the one search admitted, held
		b.Fatal("the first search was refused")
	}
	h := a.handler(nil)
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/api/v1/search?q=sea", nil))
		if w.Code != http.StatusServiceUnavailable {
			b.Fatalf("status %d", w.Code)
		}
	}
}

func BenchmarkAdmitted(b *testing.B) {
	a, err := newAPI(Options{MediaKey: testMediaKey, Logger: discardLogger()})
	if err != nil {
		b.Fatal(err)
	}
	h := a.handler(nil)
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/api/openapi.json", nil))
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
}
