package rediscache

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/cloudflix/cloudflix/internal/cache"
	"github.com/cloudflix/cloudflix/internal/cache/cachetest"
	"github.com/cloudflix/cloudflix/internal/faulttest"
	"github.com/cloudflix/cloudflix/internal/testenv"
)

func TestContract(t *testing.T) {
	t.Parallel()
	cachetest.Run(t, func(t *testing.T) cachetest.Cache { return openPrefix(t) })
}

// openPrefix opens a cache on a key prefix of the test's own (testenv
// deletes every key under it when the test ends).
func openPrefix(t *testing.T) *Cache {
	t.Helper()
	c, err := Open(t.Context(), Options{Addr: testenv.RedisAddr(), Prefix: testenv.RedisPrefix(t)})
	if err != nil {
		t.Fatalf("Open: %v (is Redis running at %s?)", err, testenv.RedisAddr())
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	addr, err := testenv.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if c, err := Open(ctx, Options{Addr: addr}); err == nil {
		c.Close()
		t.Fatalf("Open of %s (nothing listening) succeeded", addr)
	}
}

func TestKeysCarryThePrefix(t *testing.T) {
	t.Parallel()
	c := openPrefix(t)
	ctx := t.Context()
	if err := c.Set(ctx, "video:1", []byte("x"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.IncrCounter(ctx, "views", "v1", 1); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{c.prefix + "video:1", c.prefix + "views"} {
		if n, err := c.rdb.Exists(ctx, key).Result(); err != nil || n != 1 {
			t.Errorf("EXISTS %s = %d, %v; want the prefixed key stored", key, n, err)
		}
	}
}

// openThrough opens a cache on the test's own prefix that reaches Redis
// through a fault proxy.
func openThrough(t *testing.T) (*Cache, *faulttest.Proxy, string) {
	t.Helper()
	proxy := faulttest.New(t, testenv.RedisAddr())
	prefix := testenv.RedisPrefix(t)
	c, err := Open(t.Context(), Options{Addr: proxy.Addr(), Prefix: prefix})
	if err != nil {
		t.Fatalf("Open through a proxy: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, proxy, prefix
}

// TestFaultsFailFastAndHeal holds each fault against the three kinds of
// command: each either answers right or fails with cache.ErrUnavailable (a
// slow Redis is slower than the timeout, a cut one breaks commands off),
// the breaker soon stops sending commands at all, and the cache answers
// again by itself once healed. A cut Redis answers the short commands of
// each new connection, so it may never fail three times in a row; there it
// is enough that the failures are the cache's.
func TestFaultsFailFastAndHeal(t *testing.T) {
	t.Parallel()
	for _, fault := range faulttest.Faults {
		t.Run(string(fault), func(t *testing.T) {
			t.Parallel()
			c, proxy, _ := openThrough(t)
			ctx := t.Context()
			value := bytes.Repeat([]byte("v"), 1000) // longer than a cut lets through
			if err := c.Set(ctx, "video:1", value, time.Minute); err != nil {
				t.Fatal(err)
			}
			proxy.Inject(fault, 2*DefaultTimeout)
			open, failed := false, false
			for i := 0; i < 10*tripAfter && !open; i++ {
				got, getErr := c.Get(ctx, "video:1")
				if getErr == nil && !bytes.Equal(got, value) {
					t.Fatalf("Get #%d while %s = %d wrong bytes", i, fault, len(got))
				}
				setErr := c.Set(ctx, "video:2", value, time.Minute)
				incrErr := c.IncrCounter(ctx, "views", "v1", 1)
				for what, err := range map[string]error{"Get": getErr, "Set": setErr, "IncrCounter": incrErr} {
					if err != nil && !errors.Is(err, cache.ErrUnavailable) {
						t.Fatalf("%s #%d while %s = %v; want cache.ErrUnavailable", what, i, fault, err)
					}
					open = open || errors.Is(err, gobreaker.ErrOpenState)
					failed = failed || err != nil
				}
			}
			if !failed {
				t.Fatalf("no command failed while %s", fault)
			}
			if !open && fault != faulttest.Cut {
				t.Fatalf("the breaker never opened in %d rounds of commands while %s", 10*tripAfter, fault)
			}
			if open && c.Available() {
				t.Fatal("Available with the breaker open")
			}
			if err := c.Ping(ctx); err == nil && fault != faulttest.Cut {
				t.Fatalf("Ping while %s succeeded", fault)
			}
			proxy.Heal()
			waitAnswers(t, c)
			if !c.Available() {
				t.Fatal("not Available once answering again")
			}
		})
	}
}

// waitAnswers polls until the cache takes a value and gives it back, which
// it must do by itself once Redis is reachable again.
func waitAnswers(t *testing.T, c *Cache) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.Set(t.Context(), "probe", []byte("p"), time.Minute)
		if err == nil {
			if v, err := c.Get(t.Context(), "probe"); err == nil && string(v) == "p" {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cache did not answer again within 30s of healing: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestLostInvalidationLeavesNothingStale: a delete that fails while Redis is
// out of reach must not let the old value be read once it is back, neither
// by the client that lost it nor by one that never saw the outage, once the
// first has spoken to Redis again.
func TestLostInvalidationLeavesNothingStale(t *testing.T) {
	t.Parallel()
	c, proxy, prefix := openThrough(t)
	other, err := Open(t.Context(), Options{Addr: testenv.RedisAddr(), Prefix: prefix})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	ctx := t.Context()
	if err := c.Set(ctx, "video:1", []byte("old title"), time.Hour); err != nil {
		t.Fatal(err)
	}
	proxy.Inject(faulttest.Down, 0)
	if err := c.Delete(ctx, "video:1"); err == nil {
		t.Fatal("Delete with Redis down succeeded")
	}
	proxy.Heal()
	waitAnswers(t, c)
	for name, cc := range map[string]*Cache{"the client that lost it": c, "another client": other} {
		if v, err := cc.Get(ctx, "video:1"); !errors.Is(err, cache.ErrMiss) {
			t.Errorf("Get by %s after the lost delete = %q, %v; want a miss", name, v, err)
		}
	}
	// The counters are data, not cached values: a new epoch keeps them.
	if err := other.IncrCounter(ctx, "views", "v1", 2); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "video:1", []byte("new title"), time.Hour); err != nil {
		t.Fatal(err)
	}
	if v, err := other.Get(ctx, "video:1"); err != nil || string(v) != "new title" {
		t.Errorf("Get of a value set after the outage = %q, %v", v, err)
	}
}

// TestValueFromBeforeEpochsIsAMiss: a key holding a plain string, as values
// were stored before epochs, reads as a miss rather than an error, and a
// Set replaces it.
func TestValueFromBeforeEpochsIsAMiss(t *testing.T) {
	t.Parallel()
	c := openPrefix(t)
	ctx := t.Context()
	if err := c.rdb.Set(ctx, c.prefix+"video:1", "plain", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "video:1"); !errors.Is(err, cache.ErrMiss) {
		t.Fatalf("Get of a plain string = %q, %v; want a miss", v, err)
	}
	if err := c.Set(ctx, "video:1", []byte("x"), time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, err := c.Get(ctx, "video:1"); err != nil || string(v) != "x" {
		t.Fatalf("Get after Set = %q, %v", v, err)
	}
}

// BenchmarkGetWithRedisDown measures what a read costs while Redis is down
// and the breaker is open: the time the cache adds before the caller goes
// to the database.
func BenchmarkGetWithRedisDown(b *testing.B) {
	proxy := faulttest.New(b, testenv.RedisAddr())
	c, err := Open(b.Context(), Options{Addr: proxy.Addr(), Prefix: testenv.RedisPrefix(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	proxy.Inject(faulttest.Down, 0)
	for b.Loop() {
		if _, err := c.Get(b.Context(), "video:1"); !errors.Is(err, cache.ErrUnavailable) {
			b.Fatalf("Get = %v", err)
		}
	}
}
