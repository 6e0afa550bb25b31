package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
)

// Store is the outbox of deliveries as the sender uses it.
type Store interface {
	// ClaimWebhookDeliveries gives worker up to limit pending deliveries
	// that are due, each held for lease: no other sender is given it
	// before the lease ends.
	ClaimWebhookDeliveries(ctx context.Context, worker string, lease time.Duration, limit int) ([]Delivery, error)
	// RecordWebhookAttempt records the outcome of worker's attempt.
	RecordWebhookAttempt(ctx context.Context, id int64, worker string, a Attempt) error
	// ReleaseWebhookDelivery gives a claimed delivery back, due at once,
	// without counting an attempt.
	ReleaseWebhookDelivery(ctx context.Context, id int64, worker string) error
}

// Defaults of the sender's settings.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxAttempts = 12
	// DefaultRetryBase is the wait after a first failed attempt; each
	// failure doubles it (with ±20% jitter) up to DefaultRetryMax, so that
	// 12 attempts span some 15 hours: a receiver down for a night still
	// gets every event.
	DefaultRetryBase = 30 * time.Second
	DefaultRetryMax  = 6 * time.Hour
	// DefaultInterval is how often a sender looks for due deliveries when
	// nothing wakes it.
	DefaultInterval = time.Second
)

// Bounds of one sender.
const (
	// parallel is how many deliveries a sender sends at once.
	parallel = 8
	// claimBatch is how many deliveries it claims at a time.
	claimBatch = 32
	// leaseSlack is how long past its attempts' timeouts a claim lasts:
	// long enough for the attempts to be recorded, short enough that a
	// sender that died is replaced soon.
	leaseSlack = 30 * time.Second
	// recordTimeout bounds recording an attempt once the sender is told
	// to stop.
	recordTimeout = 10 * time.Second
	// jitter is the part of a retry's wait that is random, either way.
	jitter = 0.2
)

// Settings configure a Sender.
type Settings struct {
	// Worker names this sender in its claims: unique in the install.
	Worker      string
	Timeout     time.Duration
	MaxAttempts int
	RetryBase   time.Duration
	RetryMax    time.Duration
	Interval    time.Duration
	Policy      Policy
}

func (s Settings) withDefaults() Settings {
	if s.Timeout <= 0 {
		s.Timeout = DefaultTimeout
	}
	if s.MaxAttempts <= 0 {
		s.MaxAttempts = DefaultMaxAttempts
	}
	if s.RetryBase <= 0 {
		s.RetryBase = DefaultRetryBase
	}
	if s.RetryMax <= 0 {
		s.RetryMax = DefaultRetryMax
	}
	if s.Interval <= 0 {
		s.Interval = DefaultInterval
	}
	return s
}

// Backoff is the wait after the attempt-th failed attempt (from 1):
// base·2^(attempt−1), at most max, then ±20% at random, so that the
// deliveries of one outage do not all come back at the same moment. With
// a jitter under a third, each wait is longer than the one before until
// the cap.
func Backoff(attempt int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return time.Duration(float64(d) * (1 - jitter + 2*jitter*rand.Float64()))
}

// Sender delivers the outbox of deliveries. Several may run in one install
// (one per replica of the upload target): each delivery is claimed by one
// at a time, for the timeout and a margin, so that they share the work
// without sending a delivery twice, unless a sender dies while holding it
// (its claim runs out and another sends it again: at least once).
type Sender struct {
	store  Store
	sealer *Sealer
	set    Settings
	client *http.Client
	wake   chan struct{}

	outcomes *prometheus.CounterVec
	latency  prometheus.Histogram
}

// NewSender returns a sender; reg may be nil.
func NewSender(store Store, sealer *Sealer, set Settings, reg prometheus.Registerer) *Sender {
	set = set.withDefaults()
	dialer := set.Policy.Dialer()
	dialer.Timeout = set.Timeout
	s := &Sender{store: store, sealer: sealer, set: set, wake: make(chan struct{}, 1),
		client: &http.Client{
			Timeout: set.Timeout,
			Transport: &http.Transport{
				// No proxy: the address dialled must be the receiver's, for
				// the policy to judge it.
				Proxy:                 nil,
				DialContext:           dialer.DialContext,
				TLSHandshakeTimeout:   set.Timeout,
				ResponseHeaderTimeout: set.Timeout,
				MaxIdleConnsPerHost:   2,
				IdleConnTimeout:       90 * time.Second,
				ForceAttemptHTTP2:     true,
			},
			// A redirect is an answer like any other that is not 2xx:
			// following it would let a receiver point deliveries anywhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		outcomes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cloudflix_webhook_attempts_total",
			Help: "Webhook delivery attempts by outcome: delivered, retry (failed, to be tried again), failed (the last attempt failed).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "cloudflix_webhook_attempt_duration_seconds",
			Help:    "Time from sending a webhook delivery to its answer, failures included.",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 9),
		}),
	}
	for _, o := range []string{"delivered", "retry", "failed"} {
		s.outcomes.WithLabelValues(o)
	}
	if reg != nil {
		reg.MustRegister(s.outcomes, s.latency)
	}
	return s
}

// Wake makes the sender look for due deliveries now.
func (s *Sender) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run sends until ctx ends. Deliveries it holds when told to stop are
// given back, to be sent by the next sender.
func (s *Sender) Run(ctx context.Context) error {
	t := time.NewTicker(s.set.Interval)
	defer t.Stop()
	for {
		for {
			n, err := s.Flush(ctx)
			if err != nil {
				if ctx.Err() == nil {
					slog.WarnContext(ctx, "webhook sender: will retry", "err", err)
				}
				break
			}
			if n < claimBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
	}
}

// claimLease is how long a batch's claims last: long enough for the
// batch's last delivery, which may wait for every earlier round of
// parallel attempts to time out before it is sent.
func (s *Sender) claimLease() time.Duration {
	rounds := (claimBatch + parallel - 1) / parallel
	return time.Duration(rounds)*s.set.Timeout + leaseSlack
}

// Flush claims one batch of due deliveries, sends them, and returns how
// many it claimed.
func (s *Sender) Flush(ctx context.Context) (int, error) {
	ds, err := s.store.ClaimWebhookDeliveries(ctx, s.set.Worker, s.claimLease(), claimBatch)
	if err != nil {
		return 0, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	g := errgroup.Group{}
	g.SetLimit(parallel)
	for _, d := range ds {
		g.Go(func() error { return s.deliver(ctx, d) })
	}
	return len(ds), g.Wait()
}

// deliver makes one attempt of d and records it.
func (s *Sender) deliver(ctx context.Context, d Delivery) error {
	a := s.attempt(ctx, d)
	// Record even when told to stop meanwhile: the answer came.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	if ctx.Err() != nil && a.Status == 0 {
		// The attempt was cut short by the stop, not by the receiver: it
		// does not count, and the next sender sends it again at once.
		if err := s.store.ReleaseWebhookDelivery(rctx, d.ID, s.set.Worker); err != nil {
			return fmt.Errorf("release webhook delivery %d: %w", d.ID, err)
		}
		return nil
	}
	outcome := "delivered"
	switch a.State {
	case Pending:
		outcome = "retry"
	case Failed:
		outcome = "failed"
	}
	s.outcomes.WithLabelValues(outcome).Inc()
	if err := s.store.RecordWebhookAttempt(rctx, d.ID, s.set.Worker, a); err != nil {
		return fmt.Errorf("record webhook delivery %d: %w", d.ID, err)
	}
	return nil
}

// attempt sends d once and says what became of it.
func (s *Sender) attempt(ctx context.Context, d Delivery) Attempt {
	a := s.post(ctx, d)
	switch {
	case a.Status >= 200 && a.Status < 300:
		a.State, a.Error = Delivered, ""
	case d.Attempts+1 >= s.set.MaxAttempts:
		a.State = Failed
	default:
		a.State = Pending
		a.RetryAfter = Backoff(d.Attempts+1, s.set.RetryBase, s.set.RetryMax)
	}
	return a
}

// post sends d's body, signed now, and reads at most MaxResponseBytes of
// the answer.
func (s *Sender) post(ctx context.Context, d Delivery) Attempt {
	secret, err := s.sealer.Open(d.Secret)
	if err != nil {
		return Attempt{Error: "the endpoint's secret cannot be read: " + err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, s.set.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return Attempt{Error: bounded("the endpoint URL: " + err.Error())}
	}
	start := time.Now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "CloudFlix-Webhooks/1")
	req.Header.Set(EventIDHeader, d.EventID)
	req.Header.Set(EventTypeHeader, string(d.EventType))
	req.Header.Set(SignatureHeader, Sign(secret, start, d.Payload))
	resp, err := s.client.Do(req)
	if err != nil {
		a := Attempt{Latency: time.Since(start), Error: bounded(describe(err, s.set.Timeout))}
		s.latency.Observe(a.Latency.Seconds())
		return a
	}
	head, readErr := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes))
	resp.Body.Close()
	a := Attempt{Status: resp.StatusCode, Latency: time.Since(start)}
	s.latency.Observe(a.Latency.Seconds())
	switch {
	case resp.StatusCode < 200 || resp.StatusCode >= 300:
		a.Error = bounded(fmt.Sprintf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(head))))
	case readErr != nil:
		// A 2xx counts however its body ends: the receiver has the event.
		slog.DebugContext(ctx, "webhook answer cut short", "delivery", d.ID, "err", readErr)
	}
	return a
}

// describe says why a request got no answer, for the delivery log.
func describe(err error, timeout time.Duration) string {
	var nerr net.Error
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &nerr) && nerr.Timeout()) {
		return fmt.Sprintf("no answer within %s", timeout)
	}
	if errors.Is(err, ErrRefusedAddress) {
		return "refused: the endpoint's host is at " + ErrRefusedAddress.Error()
	}
	return err.Error()
}

// bounded is s cut to MaxErrorBytes, on a character's boundary, valid
// UTF-8 for the log.
func bounded(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= MaxErrorBytes {
		return s
	}
	cut := MaxErrorBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
