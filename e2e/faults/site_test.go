package faults

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	accountsvc "github.com/cloudflix/cloudflix/account-svc"
	router "github.com/cloudflix/cloudflix/api-router"
	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/faulttest"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	encodesvc "github.com/cloudflix/cloudflix/video-encode-svc"
	hostsvc "github.com/cloudflix/cloudflix/video-host-svc"
	searchsvc "github.com/cloudflix/cloudflix/video-search-svc"
	uploadsvc "github.com/cloudflix/cloudflix/video-upload-svc"
)

// Backend names one of the four production backends.
type Backend string

const (
	Postgres Backend = "PostgreSQL"
	Redis    Backend = "Redis"
	RabbitMQ Backend = "RabbitMQ"
	S3       Backend = "S3"
)

var backends = []Backend{Postgres, Redis, RabbitMQ, S3}

// site is every target of CloudFlix running in the test's process, as
// `serve --target=all` runs them, on the production backends of the test's
// own slices, each reached through a fault proxy; and a signed-in client of
// its API.
type site struct {
	// stopped says which targets stopped by themselves, and why.
	stopped func() []string
	metrics *prometheus.Registry
	base    string
	proxies map[Backend]*faulttest.Proxy
	client  *http.Client
	cookie  *http.Cookie
	clip    string
}

// startSite starts a site; it stops when the test ends, and the test fails
// if any target stopped by itself before then.
func startSite(t *testing.T) *site {
	t.Helper()
	testenv.RequireFFmpeg(t)
	b := platformtest.Backends(t, platformtest.Production)
	if err := platform.Migrate(t.Context(), b); err != nil {
		t.Fatal(err)
	}
	s := &site{proxies: map[Backend]*faulttest.Proxy{}, client: &http.Client{Timeout: 30 * time.Second}}
	b.Postgres.URL = config.Secret(s.through(t, Postgres, string(b.Postgres.URL)))
	b.AMQP.URL = config.Secret(s.through(t, RabbitMQ, string(b.AMQP.URL)))
	s.proxies[Redis] = faulttest.New(t, b.Redis.Addr)
	b.Redis.Addr = s.proxies[Redis].Addr()
	s.proxies[S3] = faulttest.New(t, b.S3.Endpoint)
	b.S3.Endpoint = s.proxies[S3].Addr()

	s.metrics = prometheus.NewRegistry()
	p, err := platform.NewProcess(s.metrics, 5*time.Second, b, platformtest.Key)
	if err != nil {
		t.Fatal(err)
	}
	grpc := config.GRPCAddrs{}
	for _, a := range []*string{&grpc.UploadListen, &grpc.HostListen, &grpc.SearchListen, &grpc.EncodeListen, &grpc.AccountListen} {
		*a = freeAddr(t)
	}
	grpc.UploadTarget, grpc.HostTarget, grpc.SearchTarget = grpc.UploadListen, grpc.HostListen, grpc.SearchListen
	grpc.EncodeTarget, grpc.AccountTarget = grpc.EncodeListen, grpc.AccountListen

	var (
		rc config.Router
		uc config.Upload
		hc config.Host
		sc config.Search
		ec config.Encode
		ac config.Account
	)
	for _, c := range []any{&rc, &uc, &hc, &sc, &ec, &ac} {
		if err = config.Load(c); err != nil {
			t.Fatal(err)
		}
	}
	rc.GRPC, uc.GRPC, hc.GRPC, sc.GRPC, ec.GRPC, ac.GRPC = grpc, grpc, grpc, grpc, grpc, grpc
	rc.HTTPAddr = freeAddr(t)
	s.base = "http://" + rc.HTTPAddr
	ec.WorkDir = t.TempDir()
	// A lease left by an encode the fault broke off expires in seconds,
	// not the default minutes, so the test waits for its re-enqueue.
	ec.StuckAfter = 5 * time.Second
	ec.Lease = 15 * time.Second
	uc.PartSize = 5 << 20

	ctx, cancel := context.WithCancel(context.Background())
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		stopped []string
	)
	for name, run := range map[string]func(context.Context) error{
		"router":  func(ctx context.Context) error { return router.Run(ctx, rc, p) },
		"upload":  func(ctx context.Context) error { return uploadsvc.Run(ctx, uc, p) },
		"host":    func(ctx context.Context) error { return hostsvc.Run(ctx, hc, p) },
		"search":  func(ctx context.Context) error { return searchsvc.Run(ctx, sc, p) },
		"encode":  func(ctx context.Context) error { return encodesvc.Run(ctx, ec, p) },
		"account": func(ctx context.Context) error { return accountsvc.Run(ctx, ac, p) },
	} {
		wg.Go(func() {
			err := run(ctx)
			if ctx.Err() == nil {
				mu.Lock()
				stopped = append(stopped, fmt.Sprintf("%s: %v", name, err))
				mu.Unlock()
			}
		})
	}
	s.stopped = func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(stopped)
	}
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		p.Close()
		if len(stopped) > 0 {
			t.Errorf("targets stopped by themselves: %s", strings.Join(stopped, "; "))
		}
	})
	s.waitReady(t)
	s.signUp(t)
	s.clip = filepath.Join(t.TempDir(), "clip.mp4")
	testenv.GenerateClip(t, s.clip, 160, 90, 1, true)
	return s
}

// through puts a fault proxy for backend in front of the server a URL
// names and returns the URL that reaches it through the proxy.
func (s *site) through(t *testing.T, backend Backend, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	s.proxies[backend] = faulttest.New(t, u.Host)
	u.Host = s.proxies[backend].Addr()
	return u.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	a, err := testenv.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// waitReady polls the router's /readyz until it answers 200.
func (s *site) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if code, _ := s.get(t, "/readyz"); code == http.StatusOK {
			return
		}
		if stopped := s.stopped(); len(stopped) > 0 {
			t.Fatalf("targets stopped by themselves: %s", strings.Join(stopped, "; "))
		}
		if time.Now().After(deadline) {
			_, body := s.get(t, "/readyz")
			t.Fatalf("not ready within 60s: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// answer is what the API answered one request.
type answer struct {
	code       int
	body       []byte
	retryAfter string
	err        error // the request got no answer at all
}

func (a answer) String() string {
	if a.err != nil {
		return "no answer: " + a.err.Error()
	}
	return fmt.Sprintf("%d %s", a.code, bytes.TrimSpace(a.body))
}

// do sends a request as the signed-in user, from the site's own page.
func (s *site) do(method, path string, body any) answer {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return answer{err: err}
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.base+path, r)
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Origin", s.base)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if s.cookie != nil {
		req.AddCookie(s.cookie)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if s.cookie == nil {
		for _, c := range resp.Cookies() {
			if c.Name == "cloudflix_session" {
				s.cookie = c
			}
		}
	}
	return answer{code: resp.StatusCode, body: b, retryAfter: resp.Header.Get("Retry-After")}
}

func (s *site) get(t *testing.T, path string) (int, []byte) {
	t.Helper()
	a := s.do("GET", path, nil)
	return a.code, a.body
}

func (s *site) signUp(t *testing.T) {
	t.Helper()
	name := testenv.Name("u")
	a := s.do("POST", "/api/v1/auth/signup", map[string]string{"username": name, "email": name + "@example.org", "password": "password of " + name})
	if a.code != http.StatusCreated && a.code != http.StatusOK || s.cookie == nil {
		t.Fatalf("sign-up: %v", a)
	}
}

// upload sends the site's clip as a new public video through the API and
// storage, as a client does, and returns the video's id and the first
// answer that was not a success (zero when every step succeeded). It stops
// at the first failure, so a failed upload can be tried again.
func (s *site) upload(title string) (string, answer) {
	info, err := os.Stat(s.clip)
	if err != nil {
		return "", answer{err: err}
	}
	a := s.do("POST", "/api/v1/uploads", map[string]any{
		"title": title, "privacy": "public", "filename": "clip.mp4", "content_type": "video/mp4", "size_bytes": info.Size(),
	})
	if a.code != http.StatusCreated {
		return "", a
	}
	var sess struct {
		VideoID string `json:"video_id"`
	}
	if err := json.Unmarshal(a.body, &sess); err != nil {
		return "", answer{err: err}
	}
	a = s.do("POST", "/api/v1/uploads/"+sess.VideoID+"/parts/sign", map[string]any{"part_numbers": []int{1}})
	if a.code != http.StatusOK {
		return sess.VideoID, a
	}
	var signed struct {
		Parts []struct {
			URL string `json:"url"`
		} `json:"parts"`
	}
	if err := json.Unmarshal(a.body, &signed); err != nil || len(signed.Parts) != 1 {
		return sess.VideoID, answer{err: fmt.Errorf("signed parts %s: %v", a.body, err)}
	}
	b, err := os.ReadFile(s.clip)
	if err != nil {
		return sess.VideoID, answer{err: err}
	}
	code, err := platformtest.PutPart(context.Background(), s.base, signed.Parts[0].URL, b)
	if err != nil || code != http.StatusOK {
		return sess.VideoID, answer{code: code, err: err}
	}
	a = s.do("POST", "/api/v1/uploads/"+sess.VideoID+"/complete", struct{}{})
	if a.code != http.StatusOK {
		return sess.VideoID, a
	}
	return sess.VideoID, answer{}
}

// apiVideo is the part of the video JSON these tests look at.
type apiVideo struct {
	ID            string `json:"id"`
	Title         string `json:"title"`
	State         string `json:"state"`
	FailureReason string `json:"failure_reason"`
	HLSURL        string `json:"hls_url"`
}

// video reads a video; ok is false when the API did not answer 200.
func (s *site) video(id string) (apiVideo, answer) {
	a := s.do("GET", "/api/v1/videos/"+id, nil)
	var v apiVideo
	if a.code == http.StatusOK {
		if err := json.Unmarshal(a.body, &v); err != nil {
			a.err = err
		}
	}
	return v, a
}

// waitVideo polls a video until it is ready, failing the test if it fails
// or is not ready within the deadline.
func (s *site) waitVideo(t *testing.T, id string, within time.Duration) apiVideo {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		v, a := s.video(id)
		if a.code == http.StatusOK && v.State == "ready" {
			return v
		}
		if v.State == "failed" {
			t.Fatalf("video %s failed: %s", id, v.FailureReason)
		}
		if stopped := s.stopped(); len(stopped) > 0 {
			t.Fatalf("targets stopped by themselves: %s", strings.Join(stopped, "; "))
		}
		if time.Now().After(deadline) {
			t.Fatalf("video %s not ready within %v: %v", id, within, a)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// encodesFinished is how many encodes the worker finished ready.
func (s *site) encodesFinished(t *testing.T) int {
	t.Helper()
	families, err := s.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0.0
	for _, f := range families {
		if f.GetName() != "cloudflix_encode_jobs_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "outcome" && l.GetValue() == "ready" {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return int(n)
}
