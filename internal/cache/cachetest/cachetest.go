// Package cachetest is the contract every CloudFlix cache adapter must pass:
// the Redis adapter and the in-process adapter run the same Run. It only
// uses an adapter's methods, so it must never depend on its internals.
package cachetest

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/cache"
)

// Cache is what a cache adapter provides.
type Cache = cache.Cache

// Run runs the contract against caches made by open. Each call of open must
// return an empty cache isolated from every other one it returned (its own
// key prefix or its own instance), cleaned up when the test ends; subtests
// run in parallel.
func Run(t *testing.T, open func(t *testing.T) Cache) {
	t.Run("Ping", func(t *testing.T) {
		t.Parallel()
		if err := open(t).Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
	t.Run("Miss", func(t *testing.T) { t.Parallel(); testMiss(t, open(t)) })
	t.Run("SetGet", func(t *testing.T) { t.Parallel(); testSetGet(t, open(t)) })
	t.Run("TTL", func(t *testing.T) { t.Parallel(); testTTL(t, open(t)) })
	t.Run("Delete", func(t *testing.T) { t.Parallel(); testDelete(t, open(t)) })
	t.Run("PrefixIsolation", func(t *testing.T) { t.Parallel(); testIsolation(t, open(t), open(t)) })
	t.Run("Counters", func(t *testing.T) { t.Parallel(); testCounters(t, open(t)) })
	t.Run("CountersUnderConcurrentDrain", func(t *testing.T) { t.Parallel(); testConcurrentDrain(t, open(t)) })
	t.Run("Mark", func(t *testing.T) { t.Parallel(); testMark(t, open(t), open(t)) })
	t.Run("MarkOnceUnderConcurrency", func(t *testing.T) { t.Parallel(); testConcurrentMark(t, open(t)) })
}

func testMiss(t *testing.T, c Cache) {
	if v, err := c.Get(t.Context(), "video:none"); !errors.Is(err, cache.ErrMiss) {
		t.Errorf("Get of a key never set = %q, %v; want cache.ErrMiss", v, err)
	}
}

func testSetGet(t *testing.T, c Cache) {
	ctx := t.Context()
	for key, value := range map[string][]byte{
		"video:1":     []byte("\x0a\x03abc\x00\xff"), // protobuf bytes, not text
		"video:empty": {},
	} {
		if err := c.Set(ctx, key, value, time.Minute); err != nil {
			t.Fatalf("Set %s: %v", key, err)
		}
		got, err := c.Get(ctx, key)
		if err != nil || !bytes.Equal(got, value) {
			t.Errorf("Get %s = %q, %v; want %q", key, got, err, value)
		}
	}
	if err := c.Set(ctx, "video:1", []byte("v2"), 0); err != nil {
		t.Fatalf("overwrite with no expiry: %v", err)
	}
	if got, err := c.Get(ctx, "video:1"); err != nil || string(got) != "v2" {
		t.Errorf("Get after overwrite = %q, %v; want v2", got, err)
	}
}

// testTTL holds a value to its lifetime from both sides: every read that
// returns before the TTL has run since the Set began must find the value,
// and it must be gone soon after. A read is timed rather than assumed to
// come in time, so a busy machine makes fewer reads count, never a false
// failure.
func testTTL(t *testing.T, c Cache) {
	ctx := t.Context()
	const ttl = 2 * time.Second
	if err := c.Set(ctx, "long", []byte("y"), time.Hour); err != nil {
		t.Fatalf("Set: %v", err)
	}
	set := time.Now()
	if err := c.Set(ctx, "short", []byte("x"), ttl); err != nil {
		t.Fatalf("Set: %v", err)
	}
	inTime := 0 // reads answered before the TTL ran out
	for {
		got, err := c.Get(ctx, "short")
		since := time.Since(set)
		if errors.Is(err, cache.ErrMiss) {
			if since < ttl {
				t.Fatalf("a value set for %v was gone %v after the Set began", ttl, since)
			}
			break
		}
		if err != nil || string(got) != "x" {
			t.Fatalf("Get = %q, %v; want x", got, err)
		}
		if since < ttl {
			inTime++
		}
		if since > ttl+10*time.Second {
			t.Fatalf("a value set for %v was still there after %v", ttl, since)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if inTime == 0 {
		t.Logf("no read came back within the %v TTL: only the expiry was checked", ttl)
	}
	if got, err := c.Get(ctx, "long"); err != nil || string(got) != "y" {
		t.Errorf("value with a 1h TTL = %q, %v; want it kept", got, err)
	}
}

func testDelete(t *testing.T, c Cache) {
	ctx := t.Context()
	for _, k := range []string{"a", "b", "c"} {
		if err := c.Set(ctx, k, []byte(k), time.Minute); err != nil {
			t.Fatalf("Set %s: %v", k, err)
		}
	}
	if err := c.Delete(ctx, "a", "b", "never-set"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if err := c.Delete(ctx); err != nil {
		t.Errorf("Delete of no keys: %v", err)
	}
	for _, k := range []string{"a", "b"} {
		if _, err := c.Get(ctx, k); !errors.Is(err, cache.ErrMiss) {
			t.Errorf("Get %s after Delete: %v, want cache.ErrMiss", k, err)
		}
	}
	if got, err := c.Get(ctx, "c"); err != nil || string(got) != "c" {
		t.Errorf("Get c (not deleted) = %q, %v", got, err)
	}
}

func testIsolation(t *testing.T, a, b Cache) {
	ctx := t.Context()
	if err := a.Set(ctx, "video:1", []byte("from a"), time.Minute); err != nil {
		t.Fatalf("Set: %v", err)
	}
	if v, err := b.Get(ctx, "video:1"); !errors.Is(err, cache.ErrMiss) {
		t.Errorf("b sees a's key: %q, %v", v, err)
	}
	if err := b.Delete(ctx, "video:1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if v, err := a.Get(ctx, "video:1"); err != nil || string(v) != "from a" {
		t.Errorf("b's Delete reached a's key: %q, %v", v, err)
	}
	if err := a.IncrCounter(ctx, "views", "v1", 3); err != nil {
		t.Fatalf("IncrCounter: %v", err)
	}
	if got, err := b.DrainCounters(ctx, "views"); err != nil || len(got) != 0 {
		t.Errorf("b drained a's counters: %v, %v", got, err)
	}
	if got, err := a.DrainCounters(ctx, "views"); err != nil || got["v1"] != 3 {
		t.Errorf("a's counters = %v, %v; want v1=3", got, err)
	}
}

func testCounters(t *testing.T, c Cache) {
	ctx := t.Context()
	if got, err := c.DrainCounters(ctx, "views"); err != nil || len(got) != 0 {
		t.Fatalf("drain of an empty set = %v, %v; want empty", got, err)
	}
	for _, inc := range []struct {
		member string
		n      int64
	}{{"v1", 1}, {"v2", 5}, {"v1", 2}} {
		if err := c.IncrCounter(ctx, "views", inc.member, inc.n); err != nil {
			t.Fatalf("IncrCounter: %v", err)
		}
	}
	if err := c.IncrCounter(ctx, "likes", "v1", 7); err != nil {
		t.Fatalf("IncrCounter: %v", err)
	}
	got, err := c.DrainCounters(ctx, "views")
	if err != nil {
		t.Fatalf("DrainCounters: %v", err)
	}
	if len(got) != 2 || got["v1"] != 3 || got["v2"] != 5 {
		t.Errorf("drained %v, want v1=3 v2=5", got)
	}
	if again, err := c.DrainCounters(ctx, "views"); err != nil || len(again) != 0 {
		t.Errorf("second drain = %v, %v; want empty", again, err)
	}
	if likes, err := c.DrainCounters(ctx, "likes"); err != nil || likes["v1"] != 7 {
		t.Errorf("other set = %v, %v; want v1=7 untouched by the views drain", likes, err)
	}
}

// testConcurrentDrain increments from many goroutines while another one
// drains again and again, as the view flusher does: every increment must be
// drained exactly once.
func testConcurrentDrain(t *testing.T, c Cache) {
	ctx := t.Context()
	const workers, perWorker, members = 8, 250, 5
	var (
		wg      sync.WaitGroup
		done    atomic.Bool
		drained = map[string]int64{}
	)
	add := func(m map[string]int64) {
		for k, v := range m {
			drained[k] += v
		}
	}
	drainErr := make(chan error, 1)
	go func() {
		for !done.Load() {
			m, err := c.DrainCounters(ctx, "views")
			if err != nil {
				drainErr <- err
				return
			}
			add(m)
		}
		drainErr <- nil
	}()
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				if err := c.IncrCounter(ctx, "views", fmt.Sprintf("video-%d", (w+i)%members), 1); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	done.Store(true)
	if err := <-drainErr; err != nil {
		t.Fatalf("DrainCounters: %v", err)
	}
	close(errs)
	for err := range errs {
		t.Fatalf("IncrCounter: %v", err)
	}
	last, err := c.DrainCounters(ctx, "views")
	if err != nil {
		t.Fatalf("final DrainCounters: %v", err)
	}
	add(last)
	var total int64
	for _, n := range drained {
		total += n
	}
	if total != workers*perWorker || len(drained) != members {
		t.Errorf("drained %d over %d members (%v), want %d over %d", total, len(drained), drained, workers*perWorker, members)
	}
	for k, n := range drained {
		if n != workers*perWorker/members {
			t.Errorf("%s drained %d times, want %d", k, n, workers*perWorker/members)
		}
	}
}

// testMark: a key is marked once until its time is up, then again; other
// keys and other caches' keys are apart, and a mark is not a value.
func testMark(t *testing.T, c, other Cache) {
	ctx := t.Context()
	const ttl = time.Second
	set := time.Now()
	if first, err := c.Mark(ctx, "seen:v1:a", ttl); err != nil || !first {
		t.Fatalf("first Mark = %v, %v; want true", first, err)
	}
	again, err := c.Mark(ctx, "seen:v1:a", ttl)
	if err != nil {
		t.Fatalf("Mark again: %v", err)
	}
	if !again && time.Since(set) >= ttl {
		t.Logf("the second Mark came after the mark's %v: only its expiry was checked", ttl)
	} else if again && time.Since(set) < ttl {
		t.Fatalf("a key marked %v ago for %v was marked again", time.Since(set), ttl)
	}
	for _, o := range []struct {
		c   Cache
		key string
	}{{c, "seen:v1:b"}, {c, "seen:v2:a"}, {other, "seen:v1:a"}} {
		if first, err := o.c.Mark(ctx, o.key, time.Minute); err != nil || !first {
			t.Fatalf("Mark %s = %v, %v; want true: another key, or another cache's", o.key, first, err)
		}
	}
	for deadline := set.Add(ttl + 10*time.Second); ; {
		first, err := c.Mark(ctx, "seen:v1:a", ttl)
		if err != nil {
			t.Fatalf("Mark: %v", err)
		}
		if first {
			if since := time.Since(set); since < ttl {
				t.Fatalf("a key marked for %v was marked again after %v", ttl, since)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a key marked for %v was still marked after %v", ttl, time.Since(set))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := c.Mark(ctx, "seen:v1:c", 0); err == nil {
		t.Errorf("a mark without a lifetime was accepted")
	}
}

// testConcurrentMark: of many callers marking one key at once, exactly
// one is first.
func testConcurrentMark(t *testing.T, c Cache) {
	const callers = 16
	var firsts atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, err := c.Mark(t.Context(), "seen:raced", time.Minute)
			if err != nil {
				errs <- err
				return
			}
			if first {
				firsts.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Mark: %v", err)
	}
	if n := firsts.Load(); n != 1 {
		t.Fatalf("%d of %d concurrent Marks of one key were first, want 1", n, callers)
	}
}
