// Package loadtest measures what a running CloudFlix serves under the read
// mix of a real audience: video info, the latest list, search, suggestions
// and media segments, each driven on its own at its highest rate with a
// fixed number of connections (as wrk does) or at a fixed rate, built on
// vegeta's attacker. Every run also measures a ceiling: a bare net/http
// handler on loopback, started here, driven the same way, so that figures
// from a noisy machine are read as ratios to what that machine's HTTP stack
// gives at that moment.
//
// It only reads, only aims at loopback unless told otherwise, and every
// run is bounded in time and in requests.
package loadtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Endpoints are the scenarios a run can measure, in the order it measures
// them.
var Endpoints = []string{"video", "list", "search", "suggest", "segment"}

// Bounds of one run, whatever the options ask.
const (
	MaxDuration    = 10 * time.Minute
	MaxConnections = 10000
	MaxRequests    = 10_000_000
)

// Target is a platform to measure.
type Target struct {
	Name string // names it in the results; "" when there is one
	URL  string // base URL, e.g. http://127.0.0.1:8080
	// Metrics is the base URL of its admin address, whose /metrics gives
	// the process's CPU time, e.g. http://127.0.0.1:9100; "" measures no
	// CPU time.
	Metrics string
}

// Rate is how fast a scenario is driven: zero is as fast as the
// connections go; PerSecond a fixed rate; Factor a fixed rate that many
// times the throughput a run at full speed measured just before.
type Rate struct {
	PerSecond float64
	Factor    float64
}

// ParseRate reads "0" or "" (full speed), "500" (a second) or "2x".
func ParseRate(s string) (Rate, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return Rate{}, nil
	}
	if f, ok := strings.CutSuffix(s, "x"); ok {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || v <= 0 {
			return Rate{}, fmt.Errorf("rate %q: a multiple of the saturating rate is a positive number followed by x, such as 2x", s)
		}
		return Rate{Factor: v}, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return Rate{}, fmt.Errorf("rate %q: give requests a second, 0 for full speed, or a multiple such as 2x", s)
	}
	return Rate{PerSecond: v}, nil
}

// Options say what to measure and how hard.
type Options struct {
	Targets []Target
	// AllowRemote permits targets that are not loopback addresses.
	AllowRemote bool
	// Endpoints to measure; empty measures all of Endpoints.
	Endpoints []string
	// Duration of each scenario on each target.
	Duration time.Duration
	// Connections is the number of requests in flight at full speed.
	Connections int
	Rate        Rate
	// MaxWorkers bounds the requests in flight at a fixed rate.
	MaxWorkers int
	// MaxRequests bounds the requests of each scenario.
	MaxRequests int
	// Timeout of each request.
	Timeout time.Duration
	// Videos is how many video ids video info cycles through.
	Videos int
	// Queries is how many distinct search queries and suggestion prefixes
	// are made from the titles.
	Queries int
	// RangeBytes is the length of each segment read.
	RangeBytes int
	// Log receives a line per scenario as it starts; nil: none.
	Log io.Writer
}

// Defaults fills the options left zero.
func (o *Options) Defaults() {
	if o.Duration == 0 {
		o.Duration = 10 * time.Second
	}
	if o.Connections == 0 {
		o.Connections = 64
	}
	if o.MaxWorkers == 0 {
		o.MaxWorkers = 1000
	}
	if o.MaxRequests == 0 {
		o.MaxRequests = 1_000_000
	}
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Videos == 0 {
		o.Videos = 100
	}
	if o.Queries == 0 {
		o.Queries = 100_000
	}
	if o.RangeBytes == 0 {
		o.RangeBytes = 64 << 10
	}
	if len(o.Endpoints) == 0 {
		o.Endpoints = Endpoints
	}
}

// Check refuses options out of bounds; call Defaults first.
func (o Options) Check() error {
	switch {
	case len(o.Targets) == 0:
		return errors.New("no target to measure")
	case o.Duration <= 0 || o.Duration > MaxDuration:
		return fmt.Errorf("duration %v: choose up to %v", o.Duration, MaxDuration)
	case o.Connections < 1 || o.Connections > MaxConnections || o.MaxWorkers < 1 || o.MaxWorkers > MaxConnections:
		return fmt.Errorf("connections and workers: choose 1 to %d", MaxConnections)
	case o.MaxRequests < 1 || o.MaxRequests > MaxRequests:
		return fmt.Errorf("requests per scenario: choose 1 to %d", MaxRequests)
	case o.Videos < 1 || o.Queries < 1 || o.RangeBytes < 1:
		return errors.New("videos, queries and range bytes must be positive")
	}
	for _, e := range o.Endpoints {
		if !slices.Contains(Endpoints, e) {
			return fmt.Errorf("unknown endpoint %q: choose among %s", e, strings.Join(Endpoints, ", "))
		}
	}
	names := map[string]bool{}
	for _, t := range o.Targets {
		if names[t.Name] {
			return fmt.Errorf("two targets are named %q", t.Name)
		}
		names[t.Name] = true
	}
	return nil
}

// Run measures the ceiling, then each endpoint on each target in turn.
func Run(ctx context.Context, o Options) (*Report, error) {
	o.Defaults()
	if err := o.Check(); err != nil {
		return nil, err
	}
	type platform struct {
		Target
		base    *url.URL
		metrics *url.URL // nil: no CPU time
		cat     catalogue
	}
	discovery := &http.Client{Timeout: o.Timeout}
	var platforms []platform
	for _, t := range o.Targets {
		base, err := url.Parse(strings.TrimRight(t.URL, "/"))
		if err != nil {
			return nil, fmt.Errorf("target %q: %w", t.URL, err)
		}
		if err := checkHost(base, o.AllowRemote); err != nil {
			return nil, err
		}
		cat, err := discover(ctx, discovery, base, o.Videos, o.AllowRemote)
		if err != nil {
			return nil, err
		}
		var metrics *url.URL
		if t.Metrics != "" {
			if metrics, err = url.Parse(strings.TrimRight(t.Metrics, "/")); err != nil {
				return nil, fmt.Errorf("metrics of %q: %w", t.URL, err)
			}
			if err := checkHost(metrics, o.AllowRemote); err != nil {
				return nil, err
			}
		}
		platforms = append(platforms, platform{Target: t, base: base, metrics: metrics, cat: cat})
	}

	ceiling, err := startCeiling()
	if err != nil {
		return nil, err
	}
	defer ceiling.Close()

	rep := &Report{Started: time.Now().UTC(), Machine: thisMachine(), Connections: o.Connections, Duration: o.Duration.Seconds()}
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", args...)
		}
	}
	logf("ceiling: %s at full speed, %d connections, %v", ceiling.URL, o.Connections, o.Duration)
	ceil := attack(ctx, rep.Started, scenario{endpoint: "ceiling", targets: []vegeta.Target{{Method: http.MethodGet, URL: ceiling.URL}}}, Rate{}, o)
	ceil.VsCeiling = 1
	rep.Ceiling = ceil
	for _, e := range o.Endpoints {
		for _, p := range platforms {
			sc, err := newScenario(e, p.base, p.cat, o)
			if err != nil {
				return nil, err
			}
			sc.target = p.Name
			if len(sc.targets) == 0 {
				logf("%s%s: skipped: %s", e, nameSuffix(p.Name), sc.skip)
				continue
			}
			rates := []Rate{o.Rate}
			if o.Rate.Factor > 0 {
				rates = []Rate{{}, o.Rate}
			}
			var saturating float64
			for _, r := range rates {
				if r.Factor > 0 {
					r = Rate{PerSecond: r.Factor * saturating}
				}
				logf("%s%s: %s, %d distinct requests, %v", e, nameSuffix(p.Name), describeRate(r, o), len(sc.targets), o.Duration)
				cpuBefore, cpuErr := processCPU(ctx, discovery, p.metrics)
				res := attack(ctx, rep.Started, sc, r, o)
				if cpuAfter, err := processCPU(ctx, discovery, p.metrics); cpuErr == nil && err == nil && res.Requests > 0 {
					res.CPUSeconds = cpuAfter - cpuBefore
					res.CPUPerRequest = res.CPUSeconds / float64(res.Requests) * 1e6
				}
				if (e == "search" || e == "suggest") && res.Requests > uint64(res.Distinct) {
					logf("%s%s: %d requests over %d distinct queries: repeats may have been answered from the cache (raise --queries)",
						e, nameSuffix(p.Name), res.Requests, res.Distinct)
				}
				if ceil.Throughput > 0 {
					res.VsCeiling = res.Throughput / ceil.Throughput
				}
				saturating = res.Throughput
				rep.Runs = append(rep.Runs, res)
				if ctx.Err() != nil {
					return rep, ctx.Err()
				}
			}
		}
	}
	rep.Took = time.Since(rep.Started).Seconds()
	return rep, ctx.Err()
}

func nameSuffix(name string) string {
	if name == "" {
		return ""
	}
	return " on " + name
}

func describeRate(r Rate, o Options) string {
	if r.PerSecond > 0 {
		return fmt.Sprintf("%.0f requests a second (at most %d in flight)", r.PerSecond, o.MaxWorkers)
	}
	return fmt.Sprintf("full speed, %d connections", o.Connections)
}

// scenario is one endpoint's requests, cycled through in order.
type scenario struct {
	endpoint, target string
	targets          []vegeta.Target
	skip             string // why there are no targets
}

func newScenario(endpoint string, base *url.URL, cat catalogue, o Options) (scenario, error) {
	sc := scenario{endpoint: endpoint}
	add := func(path string, q url.Values, h http.Header) {
		u := base.JoinPath(path)
		u.RawQuery = q.Encode()
		sc.targets = append(sc.targets, vegeta.Target{Method: http.MethodGet, URL: u.String(), Header: h})
	}
	switch endpoint {
	case "video":
		for _, id := range cat.ids {
			add("/api/v1/videos/"+url.PathEscape(id), nil, nil)
		}
	case "list":
		add("/api/v1/videos", url.Values{"limit": {"20"}}, nil)
	case "search":
		for _, q := range searchQueries(titleWords(cat.titles), o.Queries) {
			add("/api/v1/search", url.Values{"q": {q}}, nil)
		}
		sc.skip = "no title has a word to search for"
	case "suggest":
		for _, q := range suggestPrefixes(titleWords(cat.titles), o.Queries) {
			add("/api/v1/search/suggest", url.Values{"q": {q}}, nil)
		}
		sc.skip = "no title has a word to type"
	case "segment":
		rng := http.Header{"Range": {fmt.Sprintf("bytes=0-%d", o.RangeBytes-1)}}
		for _, s := range cat.segments {
			u, err := url.Parse(s)
			if err != nil {
				return sc, err
			}
			if err := checkHost(u, o.AllowRemote); err != nil {
				return sc, err
			}
			sc.targets = append(sc.targets, vegeta.Target{Method: http.MethodGet, URL: s, Header: rng})
		}
		sc.skip = "no video has a playlist with segments"
	}
	return sc, nil
}

// bucket is the width of a point of the latency-over-time series.
const bucket = 250 * time.Millisecond

// attack drives one scenario for o.Duration and sums up its results.
func attack(ctx context.Context, runStart time.Time, sc scenario, r Rate, o Options) Result {
	var next atomic.Uint64
	targeter := func(t *vegeta.Target) error {
		*t = sc.targets[(next.Add(1)-1)%uint64(len(sc.targets))]
		return nil
	}
	workers := o.Connections
	pacer := vegeta.Pacer(vegeta.ConstantPacer{})
	res := Result{Endpoint: sc.endpoint, Target: sc.target, Mode: "max", Connections: o.Connections, Distinct: len(sc.targets)}
	if r.PerSecond > 0 {
		workers = o.MaxWorkers
		pacer = vegeta.ConstantPacer{Freq: max(1, int(r.PerSecond+0.5)), Per: time.Second}
		res.Mode, res.Connections, res.Rate = "rate", 0, float64(max(1, int(r.PerSecond+0.5)))
	}
	bounded := boundedPacer{Pacer: pacer, limit: uint64(o.MaxRequests)}
	initial := uint64(workers)
	if r.PerSecond > 0 {
		initial = uint64(min(workers, 64))
	}
	attacker := vegeta.NewAttacker(
		vegeta.Workers(initial), vegeta.MaxWorkers(uint64(workers)),
		vegeta.Connections(workers), vegeta.MaxConnections(workers),
		vegeta.Timeout(o.Timeout), vegeta.KeepAlive(true), vegeta.HTTP2(false),
		vegeta.Redirects(vegeta.NoFollow),
		vegeta.Proxy(func(*http.Request) (*url.URL, error) { return nil, nil }),
	)

	var m, admitted, refused vegeta.Metrics
	codes := map[int]int{}
	var errs []string
	var series [][]time.Duration
	started := time.Now()
	res.Offset = started.Sub(runStart).Seconds()
	results := attacker.Attack(vegeta.Targeter(targeter), bounded, o.Duration, sc.endpoint)
	stopped := ctx.Done()
	for {
		var hit *vegeta.Result
		var ok bool
		select {
		case hit, ok = <-results:
		case <-stopped:
			attacker.Stop()
			stopped = nil
			continue
		}
		if !ok {
			break
		}
		m.Add(hit)
		codes[int(hit.Code)]++
		switch {
		case hit.Code >= 200 && hit.Code <= 299:
			admitted.Add(hit)
		case hit.Code == http.StatusTooManyRequests || hit.Code == http.StatusServiceUnavailable:
			res.Refused++
			refused.Add(hit)
		case hit.Code < 200 || hit.Code > 299:
			res.Errors++
			if len(errs) < 5 && !slices.Contains(errs, hit.Error) {
				errs = append(errs, hit.Error)
			}
		}
		i := int(hit.Timestamp.Sub(started) / bucket)
		for len(series) <= i {
			series = append(series, nil)
		}
		series[i] = append(series[i], hit.Latency)
		hit.Body = nil
	}
	m.Close()
	admitted.Close()
	refused.Close()
	res.OKP99, res.RefusedP99 = ms(admitted.Latencies.P99), ms(refused.Latencies.P99)
	res.Requests = m.Requests
	res.Seconds = time.Since(started).Seconds()
	if d := (m.Duration + m.Wait).Seconds(); d > 0 {
		res.Throughput = float64(m.Requests-res.Errors-res.Refused) / d
	}
	res.P50, res.P99, res.Max = ms(m.Latencies.P50), ms(m.Latencies.P99), ms(m.Latencies.Max)
	res.Codes = map[string]int{}
	for c, n := range codes {
		name := strconv.Itoa(c)
		if c == 0 {
			name = "none"
		}
		res.Codes[name] = n
	}
	res.ErrorSamples = errs
	for i, lat := range series {
		// The last requests, sent as the attack stops, fill only a
		// sliver of a bucket of their own.
		if len(lat) == 0 || time.Duration(i)*bucket >= o.Duration {
			continue
		}
		slices.Sort(lat)
		res.Series = append(res.Series, Point{
			At:  res.Offset + (time.Duration(i)*bucket + bucket/2).Seconds(),
			P50: ms(quantile(lat, 0.50)), P99: ms(quantile(lat, 0.99)),
		})
	}
	return res
}

// boundedPacer stops an attack after limit requests.
type boundedPacer struct {
	vegeta.Pacer
	limit uint64
}

func (p boundedPacer) Pace(elapsed time.Duration, hits uint64) (time.Duration, bool) {
	if hits >= p.limit {
		return 0, true
	}
	return p.Pacer.Pace(elapsed, hits)
}

// quantile of sorted latencies, by the nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// thisMachine describes where the run happened.
func thisMachine() Machine {
	return Machine{CPUs: runtime.NumCPU(), OS: runtime.GOOS, Arch: runtime.GOARCH, Go: runtime.Version(), Load: loadAverage()}
}
