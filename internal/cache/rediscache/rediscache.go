// Package rediscache is CloudFlix's cache adapter for Redis (go-redis v9):
// byte values with a TTL, and counters (view counts) that pile up between
// flushes to the database. Every key it touches carries the configured
// prefix, so several deployments or tests share one server safely. It must
// never hold anything that is not also in the database or recomputable.
//
// Redis is optional to every request, so the adapter fails fast when it is
// down or slow: each command is bounded by a short timeout, and a circuit
// breaker stops sending commands after a few failures in a row, trying one
// again after a cooldown. An invalidation lost while Redis was out of reach
// must not leave a stale value behind once it is back: every value is
// stored with the epoch it was written in, and a client that saw a failure
// starts a new epoch (one INCR) before its next command, which makes every
// value written before it a miss.
package rediscache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/cloudflix/cloudflix/internal/cache"
)

// DefaultTimeout bounds a command when Options.Timeout is zero.
const DefaultTimeout = 200 * time.Millisecond

// The breaker opens after tripAfter failures in a row and stays open for
// cooldown, after which one command probes the server.
const (
	tripAfter = 3
	cooldown  = time.Second
)

// epochKey holds the current epoch; a value stored in an older one is a miss.
const epochKey = "cache:epoch"

// Options says which server to use and how to name keys.
type Options struct {
	Addr     string
	Password string
	DB       int
	// Prefix is prepended to every key, e.g. "cloudflix:".
	Prefix string
	// Timeout bounds each command, dialing included; 0 means DefaultTimeout.
	Timeout time.Duration
	// Hook, when set, wraps every dial and command, e.g. for tracing.
	Hook redis.Hook
}

// Cache is a Redis-backed cache.
type Cache struct {
	rdb     *redis.Client
	prefix  string
	timeout time.Duration
	breaker *gobreaker.CircuitBreaker[any]
	// stale is set when a command failed, so an invalidation may have been
	// lost: the next command starts a new epoch first.
	stale atomic.Bool
}

// Open connects to Redis and checks that it answers.
func Open(ctx context.Context, o Options) (*Cache, error) {
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	rdb := redis.NewClient(&redis.Options{
		Addr: o.Addr, Password: o.Password, DB: o.DB,
		DialTimeout: timeout, ReadTimeout: timeout, WriteTimeout: timeout, PoolTimeout: timeout,
		// A retry, of a command or of a dial, would multiply the time a
		// failing command costs a read; the next request tries again anyway.
		MaxRetries:            -1,
		DialerRetries:         1,
		ContextTimeoutEnabled: true,
	})
	if o.Hook != nil {
		rdb.AddHook(o.Hook)
	}
	c := &Cache{rdb: rdb, prefix: o.Prefix, timeout: timeout}
	c.breaker = gobreaker.NewCircuitBreaker[any](gobreaker.Settings{
		Name:        "redis " + o.Addr,
		Timeout:     cooldown,
		ReadyToTrip: func(n gobreaker.Counts) bool { return n.ConsecutiveFailures >= tripAfter },
		IsSuccessful: func(err error) bool {
			return err == nil || errors.Is(err, redis.Nil)
		},
		OnStateChange: func(name string, from, to gobreaker.State) {
			switch to {
			case gobreaker.StateOpen:
				if from == gobreaker.StateClosed {
					slog.Warn("cache unavailable: reads go to the database until it answers again", "cache", name)
				}
			case gobreaker.StateClosed:
				slog.Info("cache answers again", "cache", name)
			}
		},
	})
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("rediscache: ping %s: %w", o.Addr, err)
	}
	return c, nil
}

// Available reports whether commands are being sent to Redis: false while
// the breaker is open after failures.
func (c *Cache) Available() bool { return c.breaker.State() != gobreaker.StateOpen }

// Close releases the connections.
func (c *Cache) Close() error { return c.rdb.Close() }

// Ping checks that the server answers, past the breaker: it is how an
// operator sees whether Redis is back.
func (c *Cache) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if err := c.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("rediscache: ping %s: %w", c.rdb.Options().Addr, err)
	}
	return nil
}

// do runs cmd through the breaker within the timeout, starting a new epoch
// first when an earlier command failed. A failure marks the client stale,
// unless it was a read the caller gave up on, which loses nothing.
func (c *Cache) do(ctx context.Context, write bool, cmd func(ctx context.Context) error) error {
	_, err := c.breaker.Execute(func() (any, error) {
		cctx, cancel := context.WithTimeout(ctx, c.timeout)
		defer cancel()
		if c.stale.Load() {
			if err := c.rdb.Incr(cctx, c.prefix+epochKey).Err(); err != nil {
				return nil, err
			}
			c.stale.Store(false)
		}
		return nil, cmd(cctx)
	})
	if err == nil || errors.Is(err, redis.Nil) {
		return err
	}
	if write || ctx.Err() == nil {
		c.stale.Store(true)
	}
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return fmt.Errorf("%w: %s: %w", cache.ErrUnavailable, c.breaker.Name(), err)
	}
	return fmt.Errorf("%w: %w", cache.ErrUnavailable, err)
}

// get returns a value only when it was stored in the current epoch; a
// key of another type (a value from before epochs) is a miss.
var get = redis.NewScript(`
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then return false end
local v = redis.call('HMGET', KEYS[1], 'e', 'v')
if not v[2] then return false end
if v[1] ~= (redis.call('GET', KEYS[2]) or '0') then return false end
return v[2]`)

// set stores a value with the current epoch.
var set = redis.NewScript(`
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'e', redis.call('GET', KEYS[2]) or '0', 'v', ARGV[1])
if tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 1`)

// Get returns the value under key, or cache.ErrMiss.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	var v []byte
	err := c.do(ctx, false, func(ctx context.Context) error {
		s, err := get.Run(ctx, c.rdb, []string{c.prefix + key, c.prefix + epochKey}).Text()
		v = []byte(s)
		return err
	})
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
	err := c.do(ctx, true, func(ctx context.Context) error {
		return set.Run(ctx, c.rdb, []string{c.prefix + key, c.prefix + epochKey}, value, ttl.Milliseconds()).Err()
	})
	if err != nil {
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
	err := c.do(ctx, true, func(ctx context.Context) error { return c.rdb.Del(ctx, full...).Err() })
	if err != nil {
		return fmt.Errorf("rediscache: delete %v: %w", keys, err)
	}
	return nil
}

// IncrCounter adds n to member of the counter set (a hash), e.g. the views
// of one video waiting to be flushed.
func (c *Cache) IncrCounter(ctx context.Context, set, member string, n int64) error {
	err := c.do(ctx, true, func(ctx context.Context) error { return c.rdb.HIncrBy(ctx, c.prefix+set, member, n).Err() })
	if err != nil {
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
	var flat []string
	err := c.do(ctx, true, func(ctx context.Context) error {
		var err error
		flat, err = drain.Run(ctx, c.rdb, []string{c.prefix + set}).StringSlice()
		return err
	})
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
	var set bool
	// A failed mark leaves no value stale: it is not a write of one.
	err := c.do(ctx, false, func(ctx context.Context) error {
		var err error
		set, err = c.rdb.SetNX(ctx, c.prefix+key, "1", ttl).Result()
		return err
	})
	if err != nil {
		return false, fmt.Errorf("rediscache: mark %s: %w", key, err)
	}
	return set, nil
}
