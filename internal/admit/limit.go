package admit

import (
	"math"
	"sync"
	"time"
)

// Limit bounds how much work of one kind is under way at once. A fixed
// Limit admits up to its maximum; an adaptive one moves its limit between
// a floor and that maximum after the latency of what it admitted, in the
// manner of the gradient limit of Netflix's concurrency-limits: while the
// latency of the latest requests (an average over ShortWindow of them)
// stays within Tolerance times the long-run average the limit grows (by about its square root, the queue it allows
// for), and as latency rises above that it shrinks in proportion, at most
// by half at a time. A request that failed for want of capacity (the
// service was unavailable or out of time) cuts the limit by Backoff, as
// AIMD does. What is over the limit is refused at once; nothing waits.
//
// It is safe for concurrent use.
type Limit struct {
	mu       sync.Mutex
	cfg      LimitConfig
	limit    float64 // the estimated limit; what is admitted is its floor
	shortRTT float64 // seconds, an average over about cfg.ShortWindow samples
	longRTT  float64 // seconds, an average over about cfg.LongWindow samples
	samples  int     // samples seen, up to the warm-up
	inFlight int
}

// LimitConfig is how a Limit behaves. Zero fields take the defaults of
// NewLimit.
type LimitConfig struct {
	Max      int  // the most admitted at once
	Adaptive bool // move the limit after latency; else it stays at Max
	Min      int  // the least an adaptive limit goes down to
	Initial  int  // where an adaptive limit starts
	// Tolerance is how many times the long-run latency a request may take
	// before the limit shrinks.
	Tolerance float64
	// Smoothing is the weight of each new estimate in the limit.
	Smoothing float64
	// ShortWindow is the number of samples the latest latency averages,
	// so that one slow request among fast ones does not cut the limit.
	ShortWindow int
	// LongWindow is the number of samples the long-run latency averages.
	LongWindow int
	// Backoff multiplies the limit when a request is dropped.
	Backoff float64
}

// The defaults follow concurrency-limits' Gradient2Limit, except that the
// floor is lower: a small process may serve only a few of a kind at once.
const (
	defaultTolerance   = 1.5
	defaultSmoothing   = 0.2
	defaultShortWindow = 10
	defaultLongWindow  = 600
	defaultBackoff     = 0.9
	// warmUp is how many samples the long-run average takes as a plain
	// mean before it becomes exponential, so that its first sample does
	// not weigh as much as 600.
	warmUp = 10
)

// Outcome is how an admitted request ended, as the limit learns from it.
type Outcome int

const (
	// Served: the request was answered; its latency counts.
	Served Outcome = iota
	// Dropped: it failed for want of capacity downstream (unavailable,
	// out of time); the limit backs off.
	Dropped
	// Ignored: it says nothing of capacity (the client went away, or
	// its time went on moving bytes at the client's pace).
	Ignored
)

// NewLimit returns a limit configured by cfg. A non-adaptive limit admits
// cfg.Max at once; an adaptive one starts at cfg.Initial (default a
// quarter of Max, at least Min) and stays within [Min, Max] (Min defaults
// to 1).
func NewLimit(cfg LimitConfig) *Limit {
	cfg.Max = max(cfg.Max, 1)
	if cfg.Min <= 0 {
		cfg.Min = 1
	}
	cfg.Min = min(cfg.Min, cfg.Max)
	if cfg.Initial <= 0 {
		cfg.Initial = cfg.Max / 4
	}
	cfg.Initial = min(max(cfg.Initial, cfg.Min), cfg.Max)
	if cfg.Tolerance < 1 {
		cfg.Tolerance = defaultTolerance
	}
	if cfg.Smoothing <= 0 || cfg.Smoothing > 1 {
		cfg.Smoothing = defaultSmoothing
	}
	if cfg.ShortWindow <= 0 {
		cfg.ShortWindow = defaultShortWindow
	}
	if cfg.LongWindow <= 0 {
		cfg.LongWindow = defaultLongWindow
	}
	if cfg.Backoff <= 0 || cfg.Backoff >= 1 {
		cfg.Backoff = defaultBackoff
	}
	l := &Limit{cfg: cfg, limit: float64(cfg.Max)}
	if cfg.Adaptive {
		l.limit = float64(cfg.Initial)
	}
	return l
}

// Acquire admits one more, or reports false when the limit is reached.
// Every true must be matched by one Release.
func (l *Limit) Acquire() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inFlight >= int(l.limit) {
		return false
	}
	l.inFlight++
	return true
}

// Release ends one admitted request, which took rtt and ended as outcome.
func (l *Limit) Release(rtt time.Duration, outcome Outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	inFlight := l.inFlight // as the request saw it, itself included
	l.inFlight--
	if !l.cfg.Adaptive {
		return
	}
	switch outcome {
	case Dropped:
		l.limit = max(float64(l.cfg.Min), l.limit*l.cfg.Backoff)
	case Served:
		l.learn(rtt.Seconds(), inFlight)
	}
}

// learn is one step of the gradient: rtt is the latest request's latency
// in seconds, inFlight what was under way when it ended.
func (l *Limit) learn(rtt float64, inFlight int) {
	if rtt <= 0 {
		rtt = 1e-9 // a clock too coarse to see it; still a sample
	}
	l.samples = min(l.samples+1, warmUp+1)
	if l.samples <= warmUp {
		l.shortRTT += (rtt - l.shortRTT) / float64(l.samples)
		l.longRTT += (rtt - l.longRTT) / float64(l.samples)
	} else {
		l.shortRTT += (rtt - l.shortRTT) * 2 / float64(l.cfg.ShortWindow+1)
		l.longRTT += (rtt - l.longRTT) * 2 / float64(l.cfg.LongWindow+1)
	}
	rtt = l.shortRTT
	// After a long overload the average is far above what requests take
	// now; bring it down faster than the window would.
	if l.longRTT/rtt > 2 {
		l.longRTT *= 0.95
	}
	// A limit that is not used says nothing about a larger one.
	if float64(inFlight) < l.limit/2 {
		return
	}
	gradient := math.Max(0.5, math.Min(1, l.cfg.Tolerance*l.longRTT/rtt))
	queue := math.Sqrt(l.limit)
	next := l.limit*gradient + queue
	next = l.limit*(1-l.cfg.Smoothing) + next*l.cfg.Smoothing
	l.limit = math.Max(float64(l.cfg.Min), math.Min(float64(l.cfg.Max), next))
}

// Current is how many are admitted at once now.
func (l *Limit) Current() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int(l.limit)
}

// InFlight is how many are under way now.
func (l *Limit) InFlight() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inFlight
}
