package webhook_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/store/pgstore"
	"github.com/cloudflix/cloudflix/internal/store/sqlitestore"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/webhook"
)

// wait bounds every wait of these tests; polls end as soon as their
// condition holds.
const wait = 60 * time.Second

// eachStore runs fn against a fresh SQLite store and a fresh PostgreSQL
// store.
func eachStore(t *testing.T, fn func(t *testing.T, s store.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		s, err := sqlitestore.Open(t.Context(), sqlitestore.Options{Path: filepath.Join(t.TempDir(), "cloudflix.db")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		fn(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		s, err := pgstore.Open(t.Context(), pgstore.Options{URL: testenv.Postgres(t), MaxConns: 4})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		fn(t, s)
	})
}

func newSealer(t *testing.T) *webhook.Sealer {
	key := make([]byte, 32)
	rand.Read(key)
	s, err := webhook.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// loopback is the operator's allowance of the test's receivers.
var loopback = webhook.Policy{Allowed: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}}

// arrival is one request the receiver got.
type arrival struct {
	at      time.Time
	eventID string
	status  int
}

// receiver is a webhook endpoint: it checks each request's signature and
// headers, and answers each event's attempts as script says (the attempt
// counted from 1), 200 beyond the script.
type receiver struct {
	t      *testing.T
	secret string
	srv    *httptest.Server

	mu       sync.Mutex
	script   func(eventID string, attempt int) int // a status, or 0 to hang
	arrivals []arrival
	accepted map[string]int // event id → deliveries answered 2xx
	changed  chan struct{}
}

func newReceiver(t *testing.T, secret string) *receiver {
	r := &receiver{t: t, secret: secret, accepted: map[string]int{}, changed: make(chan struct{}, 1),
		script: func(string, int) int { return http.StatusOK }}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	id := req.Header.Get(webhook.EventIDHeader)
	var event struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal(body, &event); err != nil || event.ID != id || event.Type != req.Header.Get(webhook.EventTypeHeader) ||
		req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		r.t.Errorf("a delivery %s %q with headers %v", req.Method, body, req.Header)
	}
	if err := webhook.Verify(req.Header.Get(webhook.SignatureHeader), r.secret, body, 5*time.Minute, time.Now()); err != nil {
		r.t.Errorf("delivery of %s: %v", id, err)
	}
	r.mu.Lock()
	attempt := 1
	for _, a := range r.arrivals {
		if a.eventID == id {
			attempt++
		}
	}
	status := r.script(id, attempt)
	r.arrivals = append(r.arrivals, arrival{at: at, eventID: id, status: status})
	if status >= 200 && status < 300 {
		r.accepted[id]++
	}
	r.mu.Unlock()
	select {
	case r.changed <- struct{}{}:
	default:
	}
	if status == 0 {
		<-req.Context().Done() // past the sender's timeout, which hangs up
		return
	}
	w.WriteHeader(status)
	fmt.Fprint(w, "a body the sender reads only the start of")
}

// setScript changes how the receiver answers from now on.
func (r *receiver) setScript(script func(eventID string, attempt int) int) {
	r.mu.Lock()
	r.script = script
	r.mu.Unlock()
}

// waitFor polls until cond holds of the receiver's record.
func (r *receiver) waitFor(what string, cond func(arrivals []arrival, accepted map[string]int) bool) {
	r.t.Helper()
	deadline := time.After(wait)
	for {
		r.mu.Lock()
		ok := cond(r.arrivals, r.accepted)
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-r.changed:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			r.t.Fatalf("waited %v for %s", wait, what)
		}
	}
}

func attemptsOf(arrivals []arrival, id string) []arrival {
	var out []arrival
	for _, a := range arrivals {
		if a.eventID == id {
			out = append(out, a)
		}
	}
	return out
}

// sender runs a sender until the returned stop is called, which waits for
// it to end.
func startSender(t *testing.T, s store.Store, sealer *webhook.Sealer, set webhook.Settings) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	snd := webhook.NewSender(s, sealer, set, prometheus.NewRegistry())
	go func() { done <- snd.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("sender %s: %v", set.Worker, err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// The settings of the test's senders: short waits, so that retries come
// within the test, and a timeout a hanging receiver runs into.
var quick = webhook.Settings{
	Timeout:     500 * time.Millisecond,
	MaxAttempts: 30,
	RetryBase:   100 * time.Millisecond,
	RetryMax:    2 * time.Second,
	Interval:    20 * time.Millisecond,
	Policy:      loopback,
}

// TestDeliveryAtLeastOnce holds a sender to its promise with a real
// receiver: a delivery refused with a 500 and then hanging past the
// timeout is tried again, each time after a longer wait, until the
// receiver takes it; every request is signed; and deliveries still
// pending when the sender stops, or held by a sender that died, are sent
// by the next one: every event arrives.
func TestDeliveryAtLeastOnce(t *testing.T) {
	t.Parallel()
	eachStore(t, testDeliveryAtLeastOnce)
}

func testDeliveryAtLeastOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	sealer := newSealer(t)
	secret := webhook.NewSecret()
	rcv := newReceiver(t, secret)
	owner := storetest.NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	endpoint := storetest.NewEndpoint(t, s, owner.ID, false, rcv.srv.URL+"/hooks", sealer.Seal(secret), webhook.EventTypes...)

	// The first event: a 500, then a hang past the timeout, then taken.
	// The others are refused with 503 until the first sender has stopped.
	first := storetest.ReadyBy(t, s, owner.ID, video.PrivacyPublic, "First")
	firstEvent := storetest.Deliveries(t, s, endpoint.ID)[0].EventID
	rcv.setScript(func(id string, attempt int) int {
		switch {
		case id != firstEvent:
			return http.StatusServiceUnavailable
		case attempt == 1:
			return http.StatusInternalServerError
		case attempt == 2:
			return 0
		}
		return http.StatusNoContent
	})
	var others []string
	for i := range 4 {
		storetest.ReadyBy(t, s, owner.ID, video.PrivacyPublic, fmt.Sprintf("Other %d", i))
	}
	if _, err := s.DeleteVideo(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	for _, d := range storetest.Deliveries(t, s, endpoint.ID) {
		if d.EventID != firstEvent {
			others = append(others, d.EventID)
		}
	}
	if len(others) != 5 {
		t.Fatalf("%d other events, want 4 ready and 1 deleted", len(others))
	}

	a := quick
	a.Worker = "sender-a"
	stopA := startSender(t, s, sealer, a)
	eventually(t, "the first event delivered, and each other refused three times", func() bool {
		for _, d := range storetest.Deliveries(t, s, endpoint.ID) {
			if (d.EventID == firstEvent && d.State != webhook.Delivered) || (d.EventID != firstEvent && d.Attempts < 3) {
				return false
			}
		}
		return true
	})
	stopA()

	rcv.mu.Lock()
	tries := attemptsOf(rcv.arrivals, firstEvent)
	statuses := []int{}
	for _, a := range tries {
		statuses = append(statuses, a.status)
	}
	// The waits grow: each gap between attempts is at least the shortest
	// wait its attempt can be given (the backoff less its jitter), which
	// doubles from one attempt to the next.
	if fmt.Sprint(statuses) != "[500 0 204]" {
		t.Fatalf("the first event's attempts were answered %v, want [500 0 204]", statuses)
	}
	minWait := func(attempt int) time.Duration {
		return time.Duration(float64(quick.RetryBase<<(attempt-1)) * 0.8)
	}
	if gap := tries[1].at.Sub(tries[0].at); gap < minWait(1) {
		t.Errorf("the second attempt came %v after the first, before its wait of at least %v", gap, minWait(1))
	}
	if gap := tries[2].at.Sub(tries[1].at); gap < minWait(2) {
		t.Errorf("the third attempt came %v after the hanging second, before its wait of at least %v", gap, minWait(2))
	}
	for _, id := range others {
		refused := attemptsOf(rcv.arrivals, id)
		for k := 1; k < len(refused); k++ {
			if gap := refused[k].at.Sub(refused[k-1].at); gap < minWait(k) {
				t.Errorf("attempt %d of %s came %v after the one before, before its wait of at least %v", k+1, id, gap, minWait(k))
			}
		}
	}
	rcv.mu.Unlock()

	// The log tells the first event's story; the others wait, pending (one
	// in flight when the sender stopped is given back, uncounted).
	pending := 0
	for _, d := range storetest.Deliveries(t, s, endpoint.ID) {
		switch {
		case d.EventID == firstEvent:
			if d.State != webhook.Delivered || d.Attempts != 3 || d.LastStatus != http.StatusNoContent || d.LastLatency <= 0 {
				t.Errorf("the first event's log: %+v", d)
			}
		case d.State == webhook.Pending && d.Attempts >= 3 && d.LastStatus == http.StatusServiceUnavailable &&
			strings.HasPrefix(d.LastError, "HTTP 503: a body"):
			pending++
		default:
			t.Errorf("a refused event's log: %+v", d)
		}
	}
	if pending != len(others) {
		t.Fatalf("%d deliveries pending after the first sender stopped, want %d", pending, len(others))
	}

	// A sender that dies holding deliveries: its claim runs out.
	eventually(t, "a delivery due for the sender that dies", func() bool {
		held, err := s.ClaimWebhookDeliveries(ctx, "sender-that-died", 2*time.Second, 2)
		if err != nil {
			t.Fatal(err)
		}
		return len(held) > 0
	})

	rcv.setScript(func(string, int) int { return http.StatusOK })
	b := quick
	b.Worker = "sender-b"
	startSender(t, s, sealer, b)
	rcv.waitFor("every event taken", func(_ []arrival, accepted map[string]int) bool {
		for _, id := range append(others, firstEvent) {
			if accepted[id] == 0 {
				return false
			}
		}
		return true
	})
	eventually(t, "every delivery recorded delivered", func() bool {
		for _, d := range storetest.Deliveries(t, s, endpoint.ID) {
			if d.State != webhook.Delivered {
				return false
			}
		}
		return true
	})
}

// TestDeliveryRefusesPrivateAddresses: an endpoint whose host is on
// loopback is refused at registration, and, registered while its name
// pointed elsewhere (DNS rebinding), at the dial of each delivery, which
// never reaches it and ends failed; with the operator's allowance both
// pass.
func TestDeliveryRefusesPrivateAddresses(t *testing.T) {
	t.Parallel()
	eachStore(t, testDeliveryRefusesPrivateAddresses)
}

func testDeliveryRefusesPrivateAddresses(t *testing.T, s store.Store) {
	sealer := newSealer(t)
	secret := webhook.NewSecret()
	rcv := newReceiver(t, secret)
	var strict webhook.Policy
	if _, err := strict.CheckURL(t.Context(), net.DefaultResolver, rcv.srv.URL); !video.IsInvalid(err) {
		t.Fatalf("registering %s: %v, want refused", rcv.srv.URL, err)
	}
	if _, err := loopback.CheckURL(t.Context(), net.DefaultResolver, rcv.srv.URL); err != nil {
		t.Fatalf("registering %s with loopback allowed: %v", rcv.srv.URL, err)
	}

	owner := storetest.NewUser(t, s, testenv.Name("ada"), auth.RoleUser)
	// The name resolved to a public address when it was registered; it
	// is localhost now.
	url := strings.Replace(rcv.srv.URL, "127.0.0.1", "localhost", 1)
	endpoint := storetest.NewEndpoint(t, s, owner.ID, false, url+"/hooks", sealer.Seal(secret), webhook.EventTypes...)
	storetest.ReadyBy(t, s, owner.ID, video.PrivacyPublic, "Refused")
	set := quick
	set.Worker, set.Policy, set.MaxAttempts, set.RetryBase = "strict", strict, 2, 10*time.Millisecond
	startSender(t, s, sealer, set)
	eventually(t, "the delivery to loopback failed", func() bool {
		return storetest.Deliveries(t, s, endpoint.ID)[0].State == webhook.Failed
	})
	if d := storetest.Deliveries(t, s, endpoint.ID)[0]; d.Attempts != 2 || d.LastStatus != 0 || !strings.Contains(d.LastError, "refused") {
		t.Fatalf("the refused delivery's log: %+v", d)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	if len(rcv.arrivals) != 0 {
		t.Fatalf("the receiver on loopback got %d requests from a sender that does not allow it", len(rcv.arrivals))
	}
}

// eventually polls cond until it holds, failing the test after wait.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(wait)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("waited %v for %s", wait, what)
		}
	}
}
