package admit

import (
	"sync"
	"testing"
	"time"
)

// fill admits up to n and returns how many were admitted.
func fill(l *Limit, n int) int {
	got := 0
	for range n {
		if l.Acquire() {
			got++
		}
	}
	return got
}

// round admits as many as the limit allows, then ends them all with the
// same latency, as a steady load that uses the whole limit does.
func round(l *Limit, rtt time.Duration, outcome Outcome) {
	n := fill(l, l.Current())
	for range n {
		l.Release(rtt, outcome)
	}
}

func TestFixedLimit(t *testing.T) {
	l := NewLimit(LimitConfig{Max: 3})
	if got := fill(l, 10); got != 3 {
		t.Fatalf("admitted %d, want 3", got)
	}
	for range 3 {
		l.Release(time.Hour, Dropped) // a fixed limit learns nothing
	}
	if l.Current() != 3 || l.InFlight() != 0 {
		t.Fatalf("limit %d with %d in flight, want 3 and 0", l.Current(), l.InFlight())
	}
}

func TestAdaptiveLimitGrowsWhileLatencyHolds(t *testing.T) {
	l := NewLimit(LimitConfig{Max: 100, Adaptive: true, Initial: 4})
	if l.Current() != 4 {
		t.Fatalf("starts at %d, want 4", l.Current())
	}
	prev := l.Current()
	for range 200 {
		round(l, 10*time.Millisecond, Served)
		if l.Current() < prev {
			t.Fatalf("the limit fell from %d to %d at a steady latency", prev, l.Current())
		}
		prev = l.Current()
	}
	if l.Current() != 100 {
		t.Fatalf("limit %d after a steady latency, want the maximum 100", l.Current())
	}
}

func TestAdaptiveLimitShrinksAsLatencyRises(t *testing.T) {
	l := NewLimit(LimitConfig{Max: 100, Adaptive: true, Initial: 100, Min: 2})
	for range 50 {
		round(l, 10*time.Millisecond, Served)
	}
	if l.Current() != 100 {
		t.Fatalf("limit %d before the slowdown, want 100", l.Current())
	}
	// Requests now take four times as long: work is queueing downstream.
	round(l, 40*time.Millisecond, Served)
	shrunk := l.Current()
	if shrunk > 50 {
		t.Fatalf("limit %d after latency quadrupled, want it at most halved from 100", shrunk)
	}
	if shrunk < 2 {
		t.Fatalf("limit %d went under the floor 2", shrunk)
	}
	// Latency back to normal: the limit recovers.
	for range 300 {
		round(l, 10*time.Millisecond, Served)
	}
	if l.Current() != 100 {
		t.Fatalf("limit %d after latency recovered, want 100 again", l.Current())
	}
}

func TestAdaptiveLimitStaysWhenUnused(t *testing.T) {
	l := NewLimit(LimitConfig{Max: 100, Adaptive: true, Initial: 20})
	for range 500 {
		// One request at a time: nothing shows that 20 at once would do.
		if !l.Acquire() {
			t.Fatal("refused with nothing in flight")
		}
		l.Release(time.Millisecond, Served)
	}
	if l.Current() != 20 {
		t.Fatalf("limit %d under light load, want it left at 20", l.Current())
	}
}

func TestAdaptiveLimitBacksOffOnDrops(t *testing.T) {
	l := NewLimit(LimitConfig{Max: 100, Adaptive: true, Initial: 100, Min: 5})
	for range 10 {
		fill(l, 1)
		l.Release(time.Millisecond, Dropped)
	}
	// 100 × 0.9^10 = 34.9
	if got := l.Current(); got != 34 {
		t.Fatalf("limit %d after ten drops, want 34", got)
	}
	for range 100 {
		fill(l, 1)
		l.Release(time.Millisecond, Dropped)
	}
	if got := l.Current(); got != 5 {
		t.Fatalf("limit %d after many drops, want the floor 5", got)
	}
	// Requests the client gave up on teach nothing.
	for range 100 {
		fill(l, 1)
		l.Release(time.Hour, Ignored)
	}
	if got := l.Current(); got != 5 {
		t.Fatalf("ignored outcomes moved the limit to %d", got)
	}
}

func TestNewLimitDefaults(t *testing.T) {
	l := NewLimit(LimitConfig{Max: 40, Adaptive: true})
	if l.Current() != 10 {
		t.Fatalf("an adaptive limit of 40 starts at %d, want a quarter, 10", l.Current())
	}
	l = NewLimit(LimitConfig{Max: 2, Adaptive: true, Min: 8})
	if l.Current() != 2 {
		t.Fatalf("a floor over the maximum gave %d, want 2", l.Current())
	}
	l = NewLimit(LimitConfig{})
	if l.Current() != 1 {
		t.Fatalf("a zero limit admits %d, want 1", l.Current())
	}
}

func TestLimitConcurrent(t *testing.T) {
	l := NewLimit(LimitConfig{Max: 8, Adaptive: true, Initial: 8})
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		in, peak int
	)
	for i := range 400 {
		wg.Go(func() {
			if !l.Acquire() {
				return
			}
			mu.Lock()
			in++
			peak = max(peak, in)
			mu.Unlock()
			mu.Lock()
			in--
			mu.Unlock()
			l.Release(time.Duration(i%7+1)*time.Millisecond, Outcome(i%3))
		})
	}
	wg.Wait()
	if peak > 8 {
		t.Fatalf("%d under way at once, limit at most 8", peak)
	}
	if l.InFlight() != 0 {
		t.Fatalf("%d left in flight", l.InFlight())
	}
}
