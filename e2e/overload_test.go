package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestOverloadIsShed drives one all-in-one process on the embedded
// backends with searches over loopback and reports what it admitted and
// refused, at what latency, and its resident memory. It is a measurement,
// not part of `make test`: it runs only with CLOUDFLIX_TEST_OVERLOAD=1,
// (with more settings of the process in CLOUDFLIX_TEST_OVERLOAD_ENV,
// space separated), and asserts only what must hold however fast the
// machine is: every
// answer is a result or a 503 with Retry-After in the error shape, /healthz
// answers throughout, and the process lives on.
//
//	CLOUDFLIX_TEST_OVERLOAD=1 go test -run Overload -v ./e2e
//
// The phases: one search at a time (the unloaded latency); as many at once
// as the search limit admits, for the throughput the process serves; four
// times that throughput, sent at a constant rate whatever the answers
// take; and 1,024 connections searching as fast as they are answered.
func TestOverloadIsShed(t *testing.T) {
	if os.Getenv("CLOUDFLIX_TEST_OVERLOAD") == "" {
		t.Skip("a measurement: set CLOUDFLIX_TEST_OVERLOAD=1 to run it")
	}
	// One client here stands for many: no rate per client.
	pf, p := startEmbedded(t, t.TempDir(), append([]string{"CLOUDFLIX_HTTP_CLIENT_RATE=0"}, strings.Fields(os.Getenv("CLOUDFLIX_TEST_OVERLOAD_ENV"))...)...)
	pid := p.cmd.Process.Pid
	d := &driver{t: t, url: pf.base + "/api/v1/search?q=sunrise", client: &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: 2048, DisableCompression: true},
		Timeout:   30 * time.Second,
	}}
	t.Logf("resident memory idle: %.1f MiB", mib(resident(t, pid)))

	unloaded := d.closedLoop(1, 3*time.Second)
	t.Logf("unloaded, one at a time: %s", unloaded)

	served := d.closedLoop(32, 5*time.Second)
	t.Logf("32 at once (the search limit): %s", served)
	capacity := served.admittedRate()

	for _, phase := range []struct {
		name string
		run  func() result
	}{
		{"1,024 connections searching", func() result { return d.closedLoop(1024, 10*time.Second) }},
		{fmt.Sprintf("4x capacity, %.0f searches/s sent at a constant rate", 4*capacity), func() result { return d.openLoop(4*capacity, 10*time.Second) }},
	} {
		stop := watch(t, pf.base+"/healthz", pid)
		r := phase.run()
		w := stop()
		t.Logf("%s: %s; admitted p99 %.1fx the unloaded p99", phase.name, r, r.admittedP(0.99).Seconds()/unloaded.admittedP(0.99).Seconds())
		t.Logf("  meanwhile /healthz answered %d times, all 200: %v, slowest %v; resident memory peaked at %.1f MiB", w.probes, w.allOK, w.slowest.Round(time.Microsecond), mib(w.peakRSS))
		if !w.allOK {
			t.Errorf("%s: /healthz did not always answer 200", phase.name)
		}
		if r.bad > 0 {
			t.Errorf("%s: %d answers were neither results nor a 503 with Retry-After (first: %s)", phase.name, r.bad, r.firstBad)
		}
	}
	select {
	case <-p.exited:
		t.Fatalf("the process exited under load: %v", p.exitErr)
	default:
	}
	t.Logf("resident memory after: %.1f MiB", mib(resident(t, pid)))
}

type driver struct {
	t      *testing.T
	url    string
	client *http.Client
}

// result is what one phase saw.
type result struct {
	took              time.Duration
	admitted, refused []time.Duration
	failed, bad       int // transport errors; answers of the wrong shape
	unsent            int // due while the driver had all it may send under way
	firstBad          string
}

func (r result) admittedRate() float64 { return float64(len(r.admitted)) / r.took.Seconds() }

func (r result) admittedP(q float64) time.Duration { return percentile(r.admitted, q) }

func (r result) String() string {
	return fmt.Sprintf("%d admitted (%.0f/s; p50 %v, p99 %v), %d refused with 503 (%.0f/s; p50 %v, p99 %v), %d failed, %d not sent",
		len(r.admitted), r.admittedRate(), percentile(r.admitted, 0.5).Round(time.Microsecond), percentile(r.admitted, 0.99).Round(time.Microsecond),
		len(r.refused), float64(len(r.refused))/r.took.Seconds(), percentile(r.refused, 0.5).Round(time.Microsecond), percentile(r.refused, 0.99).Round(time.Microsecond),
		r.failed, r.unsent)
}

func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// collector gathers the outcomes of concurrent searches.
type collector struct {
	mu sync.Mutex
	r  result
}

func (c *collector) search(d *driver) {
	began := time.Now()
	resp, err := d.client.Get(d.url)
	if err != nil {
		c.mu.Lock()
		c.r.failed++
		c.mu.Unlock()
		return
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	took := time.Since(began)
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err != nil:
		c.r.failed++
	case resp.StatusCode == http.StatusOK:
		c.r.admitted = append(c.r.admitted, took)
	case refusedWell(resp, body):
		c.r.refused = append(c.r.refused, took)
	default:
		c.r.bad++
		if c.r.firstBad == "" {
			c.r.firstBad = resp.Status + " " + string(body)
		}
	}
}

// refusedWell reports whether an answer is the 503 the edge refuses with.
func refusedWell(resp *http.Response, body []byte) bool {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	wait, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	return resp.StatusCode == http.StatusServiceUnavailable && err == nil && wait >= 1 &&
		json.Unmarshal(body, &e) == nil && e.Error.Code == "unavailable"
}

// closedLoop runs n clients that each search again as soon as answered.
func (d *driver) closedLoop(n int, within time.Duration) result {
	var c collector
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	began := time.Now()
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				c.search(d)
			}
		})
	}
	wg.Wait()
	c.r.took = time.Since(began)
	return c.r
}

// openLoop sends perSecond searches a second for within, whatever the
// answers take, as a crowd of independent clients does, with at most
// maxOpen under way (as a load generator's connection pool bounds it);
// searches due while that many are under way are not sent, and counted.
func (d *driver) openLoop(perSecond float64, within time.Duration) result {
	const maxOpen = 1024
	var c collector
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxOpen)
	began := time.Now()
	sent := 0
	for tick := time.NewTicker(time.Millisecond); time.Since(began) < within; <-tick.C {
		due := int(perSecond * time.Since(began).Seconds())
		for ; sent < due; sent++ {
			select {
			case slots <- struct{}{}:
				wg.Go(func() {
					c.search(d)
					<-slots
				})
			default:
				c.mu.Lock()
				c.r.unsent++
				c.mu.Unlock()
			}
		}
	}
	wg.Wait()
	c.r.took = time.Since(began)
	return c.r
}

// watched is what watch saw while a phase ran.
type watched struct {
	probes  int
	allOK   bool
	slowest time.Duration
	peakRSS int64
}

// watch asks healthURL every 100 ms and samples pid's resident memory
// until the returned function is called.
func watch(t *testing.T, healthURL string, pid int) func() watched {
	w := watched{allOK: true}
	var done atomic.Bool
	var wg sync.WaitGroup
	probe := &http.Client{Transport: &http.Transport{}, Timeout: 10 * time.Second}
	wg.Go(func() {
		for !done.Load() {
			began := time.Now()
			resp, err := probe.Get(healthURL)
			took := time.Since(began)
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			w.probes++
			w.allOK = w.allOK && err == nil && resp.StatusCode == http.StatusOK
			w.slowest = max(w.slowest, took)
			w.peakRSS = max(w.peakRSS, resident(t, pid))
			time.Sleep(100 * time.Millisecond) // the probe's period, not a wait for a condition
		}
	})
	return func() watched {
		done.Store(true)
		wg.Wait()
		return w
	}
}

// resident is the resident memory of process pid (VmRSS), in bytes.
func resident(t *testing.T, pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Logf("resident memory of %d: %v", pid, err)
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }
