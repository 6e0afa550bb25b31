// Package cache holds CloudFlix's cache port. Adapters live in sub-packages
// (rediscache, memcache) and pass the contract suite in cachetest. A cache is
// never the source of truth: losing it loses nothing but speed.
package cache

import (
	"context"
	"errors"
	"time"
)

// Cache is everything a cache adapter does: byte values with a lifetime,
// counters that pile up until drained, and marks that say whether
// something happened within a while.
type Cache interface {
	Ping(ctx context.Context) error
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Delete(ctx context.Context, keys ...string) error
	IncrCounter(ctx context.Context, set, member string, n int64) error
	DrainCounters(ctx context.Context, set string) (map[string]int64, error)
	// Mark sets key for ttl unless it is set already, and reports whether
	// it did: of callers marking one key within ttl, exactly one gets
	// true. An adapter that must bound its memory may forget the oldest
	// marks early, so a mark is a "probably seen", never a lock.
	Mark(ctx context.Context, key string, ttl time.Duration) (bool, error)
}

var (
	// ErrMiss: the key holds no value.
	ErrMiss = errors.New("cache miss")
	// ErrUnavailable: the cache could not be reached in time, or is
	// resting after failures; the caller goes on without it.
	ErrUnavailable = errors.New("cache unavailable")
)
