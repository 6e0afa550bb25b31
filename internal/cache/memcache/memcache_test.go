package memcache

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/cache"
	"github.com/cloudflix/cloudflix/internal/cache/cachetest"
)

func open(t *testing.T, o Options) *Cache {
	t.Helper()
	c := New(o)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestContract(t *testing.T) {
	t.Parallel()
	cachetest.Run(t, func(t *testing.T) cachetest.Cache { return open(t, Options{}) })
}

func TestEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	c := open(t, Options{MaxEntries: 2})
	ctx := t.Context()
	for _, k := range []string{"a", "b"} {
		if err := c.Set(ctx, k, []byte(k), 0); err != nil {
			t.Fatal(err)
		}
	}
	// Reading a makes b the least recently used.
	if _, err := c.Get(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "c", []byte("c"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(ctx, "b"); !errors.Is(err, cache.ErrMiss) {
		t.Errorf("Get b = %v, want it evicted as the least recently used", err)
	}
	for _, k := range []string{"a", "c"} {
		if v, err := c.Get(ctx, k); err != nil || string(v) != k {
			t.Errorf("Get %s = %q, %v; want it kept", k, v, err)
		}
	}
	// Overwriting a held key evicts nothing.
	if err := c.Set(ctx, "a", []byte("a2"), 0); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "c"); err != nil || string(v) != "c" {
		t.Errorf("Get c after overwriting a = %q, %v; want it kept", v, err)
	}
	// Counters are not values: a full cache keeps them.
	if err := c.IncrCounter(ctx, "views", "v1", 4); err != nil {
		t.Fatal(err)
	}
	if got, err := c.DrainCounters(ctx, "views"); err != nil || got["v1"] != 4 {
		t.Errorf("DrainCounters = %v, %v; want v1=4", got, err)
	}
}

func TestValuesAreCopied(t *testing.T) {
	t.Parallel()
	c := open(t, Options{})
	ctx := t.Context()
	buf := []byte("original")
	if err := c.Set(ctx, "k", buf, time.Minute); err != nil {
		t.Fatal(err)
	}
	copy(buf, "CHANGED!") // the caller reuses its buffer
	got, err := c.Get(ctx, "k")
	if err != nil || string(got) != "original" {
		t.Fatalf("Get after the caller reused its buffer = %q, %v; want original", got, err)
	}
	got[0] = 'X' // the caller scribbles on what it got
	if again, err := c.Get(ctx, "k"); err != nil || string(again) != "original" {
		t.Errorf("Get after the caller changed a result = %q, %v; want original", again, err)
	}
}

func TestRejectsNegativeTTL(t *testing.T) {
	t.Parallel()
	c := open(t, Options{})
	if err := c.Set(t.Context(), "k", []byte("v"), -time.Second); err == nil {
		t.Fatal("Set with a negative ttl succeeded")
	}
	if _, err := c.Get(t.Context(), "k"); !errors.Is(err, cache.ErrMiss) {
		t.Errorf("Get after a refused Set = %v, want cache.ErrMiss", err)
	}
}

// The janitor drops expired values nobody reads again.
func TestSweepDropsExpired(t *testing.T) {
	t.Parallel()
	c := open(t, Options{})
	ctx := t.Context()
	if err := c.Set(ctx, "short", []byte("x"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "forever", []byte("y"), 0); err != nil {
		t.Fatal(err)
	}
	c.sweep(time.Now().Add(time.Hour))
	c.mu.Lock()
	_, short := c.entries["short"]
	_, forever := c.entries["forever"]
	n := c.lru.Len()
	c.mu.Unlock()
	if short || !forever || n != 1 {
		t.Errorf("after a sweep an hour on: short held %v, forever held %v, %d entries; want only forever", short, forever, n)
	}
}

func TestClosedCacheRefusesCalls(t *testing.T) {
	t.Parallel()
	c := New(Options{})
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ctx := t.Context()
	if err := c.Ping(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Ping after Close = %v, want ErrClosed", err)
	}
	if _, err := c.Get(ctx, "k"); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close = %v, want ErrClosed", err)
	}
	if err := c.Set(ctx, "k", nil, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("Set after Close = %v, want ErrClosed", err)
	}
}

// TestCloseStopsJanitor is not parallel: it counts janitor goroutines across
// the process, so no other test may start or stop a cache meanwhile.
func TestCloseStopsJanitor(t *testing.T) {
	before := janitors()
	c := New(Options{})
	// A new goroutine shows in stacks once it is scheduled.
	waitJanitors(t, before+1, "after New")
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// Close waits for the janitor to return, but its goroutine may take a
	// moment more to leave the scheduler's list.
	waitJanitors(t, before, "after Close")
}

func waitJanitors(t *testing.T, want int, when string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := janitors()
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d janitors running %s, want %d", n, when, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// janitors counts the goroutines running a cache janitor.
func janitors() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return bytes.Count(buf, []byte("memcache.(*Cache).janitor("))
}

// Marks are bounded apart from values: past MaxMarks the oldest is
// forgotten (and may be marked again), and no value is evicted for them.
func TestMarksAreBounded(t *testing.T) {
	t.Parallel()
	c := open(t, Options{MaxEntries: 2, MaxMarks: 3})
	ctx := t.Context()
	if err := c.Set(ctx, "video:1", []byte("info"), 0); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"m1", "m2", "m3", "m4"} {
		if first, err := c.Mark(ctx, k, time.Hour); err != nil || !first {
			t.Fatalf("Mark %s = %v, %v", k, first, err)
		}
	}
	c.mu.Lock()
	held := c.marks.Len()
	c.mu.Unlock()
	if held != 3 {
		t.Fatalf("%d marks held, want the bound of 3", held)
	}
	if first, _ := c.Mark(ctx, "m1", time.Hour); !first {
		t.Errorf("the oldest mark was kept beyond the bound")
	}
	if first, _ := c.Mark(ctx, "m4", time.Hour); first {
		t.Errorf("the newest mark was forgotten")
	}
	if v, err := c.Get(ctx, "video:1"); err != nil || string(v) != "info" {
		t.Errorf("a value was evicted for marks: %q, %v", v, err)
	}
	// Expired marks are swept like values.
	if _, err := c.Mark(ctx, "short", time.Millisecond); err != nil {
		t.Fatal(err)
	}
	c.sweep(time.Now().Add(time.Second))
	c.mu.Lock()
	_, kept := c.marked["short"]
	c.mu.Unlock()
	if kept {
		t.Errorf("an expired mark survived the sweep")
	}
}

// BenchmarkMarksMemory reports the heap that a full table of marks holds,
// with keys as the host service writes them (a video id and a viewer's
// hash), the figure DefaultMaxMarks is chosen by:
//
//	go test -run '^$' -bench MarksMemory -benchtime 1x ./internal/cache/memcache
func BenchmarkMarksMemory(b *testing.B) {
	var held float64
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c := New(Options{})
		for i := range DefaultMaxMarks {
			key := fmt.Sprintf("seen:0190a1b2-0000-7000-8000-%012d:a:AbCdEfGhIjKlMnOpQrStUv", i)
			if _, err := c.Mark(b.Context(), key, time.Hour); err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		held = float64(after.HeapAlloc) - float64(before.HeapAlloc)
		runtime.KeepAlive(c)
		c.Close()
	}
	b.ReportMetric(held/(1<<20), "MiB/full")
	b.ReportMetric(held/DefaultMaxMarks, "B/mark")
}
