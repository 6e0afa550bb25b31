package rediscache

import (
	"context"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/cache/cachetest"
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
