// Package rediscache is CloudFlix's cache adapter for Redis (go-redis v9):
// byte values with a TTL, and counters (view counts) that pile up between
// flushes to the database. Every key it touches carries the configured
// prefix, so several deployments or tests share one server safely. It must
// never hold anything that is not also in the database or recomputable.
package rediscache

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/cloudflix/cloudflix/internal/cache"
)

// Options says which server to use and how to name keys.
type Options struct {
	Addr     string
	Password string
	DB       int
	// Prefix is prepended to every key, e.g. "cloudflix:".
	Prefix string
	// Hook, when set, wraps every dial and command, e.g. for tracing.
	Hook redis.Hook
}

// Cache is a Redis-backed cache.
type Cache struct {
	rdb    *redis.Client
	prefix string
}

// Open connects to Redis and checks that it answers.
func Open(ctx context.Context, o Options) (*Cache, error) {
	rdb := redis.NewClient(&redis.Options{Addr: o.Addr, Password: o.Password, DB: o.DB})
	if o.Hook != nil {
		rdb.AddHook(o.Hook)
	}
	c := &Cache{rdb: rdb, prefix: o.Prefix}
	if err := c.Ping(ctx); err != nil {
		rdb.Close()
		return nil, err
	}
	return c, nil
}

// Close releases the connections.
func (c *Cache) Close() error { return c.rdb.Close() }

// Ping checks that the server answers.
func (c *Cache) Ping(ctx context.Context) error {
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("rediscache: ping %s: %w", c.rdb.Options().Addr, err)
	}
	return nil
}

// Get returns the value under key, or cache.ErrMiss.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := c.rdb.Get(ctx, c.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, cache.ErrMiss
	}
	if err != nil {
		return nil, fmt.Errorf("rediscache: get %s: %w", key, err)
	}
	return v, nil
}

// Set stores value under key for ttl; a ttl of 0 keeps it until deleted.
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl < 0 {
		return fmt.Errorf("rediscache: set %s: negative ttl %v", key, ttl)
	}
	if err := c.rdb.Set(ctx, c.prefix+key, value, ttl).Err(); err != nil {
		return fmt.Errorf("rediscache: set %s: %w", key, err)
	}
	return nil
}

// Delete removes keys; missing keys are not an error.
func (c *Cache) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = c.prefix + k
	}
	if err := c.rdb.Del(ctx, full...).Err(); err != nil {
		return fmt.Errorf("rediscache: delete %v: %w", keys, err)
	}
	return nil
}

// IncrCounter adds n to member of the counter set (a hash), e.g. the views
// of one video waiting to be flushed.
func (c *Cache) IncrCounter(ctx context.Context, set, member string, n int64) error {
	if err := c.rdb.HIncrBy(ctx, c.prefix+set, member, n).Err(); err != nil {
		return fmt.Errorf("rediscache: incr %s[%s]: %w", set, member, err)
	}
	return nil
}

// drain reads and deletes a hash in one step: Redis runs a script without
// interleaving other commands, so an increment lands either in what this
// drain returns or in the hash the next drain finds, never both or neither.
var drain = redis.NewScript(`
local v = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return v`)

// DrainCounters takes every member of the counter set and clears it
// atomically. An empty or missing set gives an empty map.
func (c *Cache) DrainCounters(ctx context.Context, set string) (map[string]int64, error) {
	flat, err := drain.Run(ctx, c.rdb, []string{c.prefix + set}).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("rediscache: drain %s: %w", set, err)
	}
	counts := make(map[string]int64, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		n, err := strconv.ParseInt(flat[i+1], 10, 64)
		if err != nil {
			// The set is already cleared; report what could not be read
			// rather than silently drop it.
			return counts, fmt.Errorf("rediscache: drain %s: member %s holds %q: %w", set, flat[i], flat[i+1], err)
		}
		counts[flat[i]] = n
	}
	return counts, nil
}

// Mark implements [cache.Cache.Mark] with SET NX and an expiry, one
// command, so Redis decides which caller was first and drops the key when
// its time is up.
func (c *Cache) Mark(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("rediscache: mark %s: ttl %v is not positive", key, ttl)
	}
	set, err := c.rdb.SetNX(ctx, c.prefix+key, "1", ttl).Result()
	if err != nil {
		return false, fmt.Errorf("rediscache: mark %s: %w", key, err)
	}
	return set, nil
}
