// Package memcache is CloudFlix's in-process cache adapter, the embedded
// twin of rediscache for single-process mode: byte values with a TTL in a
// bounded LRU, and counters (view counts) that pile up between flushes to the
// database. It passes the same contract suite (cachetest) as the Redis
// adapter.
//
// Like every cache it must never hold anything that is not also in the
// database or recomputable: values are evicted when the cache is full and
// everything, counters included, is gone when the process ends. It must never
// hand out or keep a caller's byte slice: values are copied in and out.
package memcache

import (
	"bytes"
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cloudflix/cloudflix/internal/cache"
)

// ErrClosed is returned by calls on a closed Cache.
var ErrClosed = errors.New("memcache: cache closed")

const (
	// DefaultMaxEntries bounds the values held when Options.MaxEntries is 0.
	DefaultMaxEntries = 10000
	// DefaultMaxMarks bounds the marks held when Options.MaxMarks is 0:
	// 100,000 of the host service's marks take some 22 MiB with their
	// bookkeeping (BenchmarkMarksMemory), and cover an hour of distinct
	// viewers at 28 a second.
	DefaultMaxMarks = 100000
	// janitorInterval is how often expired values are swept out. Reads
	// already drop what they find expired; the sweep only returns the memory
	// of values nobody asks for again.
	janitorInterval = 30 * time.Second
)

// Options configures a Cache. Zero values take the defaults noted.
type Options struct {
	// MaxEntries bounds the values held (default DefaultMaxEntries); beyond
	// it the least recently used value is evicted. Counters do not count:
	// they are views not yet flushed, and evicting them would lose them.
	MaxEntries int
	// MaxMarks bounds the marks held (default DefaultMaxMarks), apart from
	// the values so that a flood of marks never evicts video info; beyond
	// it the oldest mark is forgotten before its time.
	MaxMarks int
}

// Cache is an in-process cache. It is safe for concurrent use.
type Cache struct {
	max, maxMarks int

	mu       sync.Mutex
	lru      *list.List               // of *entry, most recently used first
	entries  map[string]*list.Element // key -> element of lru
	marks    *list.List               // of *entry, newest first
	marked   map[string]*list.Element // key -> element of marks
	counters map[string]map[string]int64
	closed   bool

	stop    chan struct{} // closed by Close
	stopped chan struct{} // closed when the janitor has exited
}

type entry struct {
	key     string
	value   []byte
	expires time.Time // zero: never
}

func (e *entry) expired(now time.Time) bool {
	return !e.expires.IsZero() && !now.Before(e.expires)
}

// New returns an empty cache and starts its janitor; Close stops it.
func New(o Options) *Cache {
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.MaxMarks <= 0 {
		o.MaxMarks = DefaultMaxMarks
	}
	c := &Cache{
		max:      o.MaxEntries,
		maxMarks: o.MaxMarks,
		lru:      list.New(),
		entries:  make(map[string]*list.Element),
		marks:    list.New(),
		marked:   make(map[string]*list.Element),
		counters: make(map[string]map[string]int64),
		stop:     make(chan struct{}),
		stopped:  make(chan struct{}),
	}
	go c.janitor(janitorInterval)
	return c
}

// janitor sweeps expired values every interval until Close.
func (c *Cache) janitor(interval time.Duration) {
	defer close(c.stopped)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case now := <-t.C:
			c.sweep(now)
		}
	}
}

// sweep drops every value expired at now.
func (c *Cache) sweep(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.lru.Front(); el != nil; {
		next := el.Next()
		if e := el.Value.(*entry); e.expired(now) {
			c.removeLocked(el)
		}
		el = next
	}
	for el := c.marks.Front(); el != nil; {
		next := el.Next()
		if e := el.Value.(*entry); e.expired(now) {
			c.unmarkLocked(el)
		}
		el = next
	}
}

// Close stops the janitor and drops everything held. It is safe to call
// more than once.
func (c *Cache) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.lru.Init()
	c.entries = nil
	c.marks.Init()
	c.marked = nil
	c.counters = nil
	c.mu.Unlock()
	close(c.stop)
	<-c.stopped
	return nil
}

// lock takes the mutex unless ctx has ended or the cache is closed, in
// which case it returns why; on nil the caller must unlock.
func (c *Cache) lock(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	return nil
}

// Ping reports whether the cache is open.
func (c *Cache) Ping(ctx context.Context) error {
	if err := c.lock(ctx); err != nil {
		return fmt.Errorf("memcache: ping: %w", err)
	}
	c.mu.Unlock()
	return nil
}

// Get returns a copy of the value under key, or cache.ErrMiss.
func (c *Cache) Get(ctx context.Context, key string) ([]byte, error) {
	if err := c.lock(ctx); err != nil {
		return nil, fmt.Errorf("memcache: get %s: %w", key, err)
	}
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil, cache.ErrMiss
	}
	e := el.Value.(*entry)
	if e.expired(time.Now()) {
		c.removeLocked(el)
		return nil, cache.ErrMiss
	}
	c.lru.MoveToFront(el)
	return bytes.Clone(e.value), nil
}

// Set stores a copy of value under key for ttl; a ttl of 0 keeps it until
// it is deleted or evicted.
func (c *Cache) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if ttl < 0 {
		return fmt.Errorf("memcache: set %s: negative ttl %v", key, ttl)
	}
	e := &entry{key: key, value: bytes.Clone(value)}
	if e.value == nil {
		// A stored empty value reads back as empty, not as nothing.
		e.value = []byte{}
	}
	if ttl > 0 {
		e.expires = time.Now().Add(ttl)
	}
	if err := c.lock(ctx); err != nil {
		return fmt.Errorf("memcache: set %s: %w", key, err)
	}
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		el.Value = e
		c.lru.MoveToFront(el)
		return nil
	}
	c.entries[key] = c.lru.PushFront(e)
	for c.lru.Len() > c.max {
		c.removeLocked(c.lru.Back())
	}
	return nil
}

// Delete removes keys; missing keys are not an error.
func (c *Cache) Delete(ctx context.Context, keys ...string) error {
	if err := c.lock(ctx); err != nil {
		return fmt.Errorf("memcache: delete %v: %w", keys, err)
	}
	defer c.mu.Unlock()
	for _, k := range keys {
		if el, ok := c.entries[k]; ok {
			c.removeLocked(el)
		}
	}
	return nil
}

func (c *Cache) removeLocked(el *list.Element) {
	delete(c.entries, el.Value.(*entry).key)
	c.lru.Remove(el)
}

// IncrCounter adds n to member of the counter set, e.g. the views of one
// video waiting to be flushed.
func (c *Cache) IncrCounter(ctx context.Context, set, member string, n int64) error {
	if err := c.lock(ctx); err != nil {
		return fmt.Errorf("memcache: incr %s[%s]: %w", set, member, err)
	}
	defer c.mu.Unlock()
	m := c.counters[set]
	if m == nil {
		m = make(map[string]int64)
		c.counters[set] = m
	}
	m[member] += n
	return nil
}

// DrainCounters takes every member of the counter set and clears it in one
// step under the lock, so an increment lands either in what this drain
// returns or in what the next one finds. An empty set gives an empty map.
func (c *Cache) DrainCounters(ctx context.Context, set string) (map[string]int64, error) {
	if err := c.lock(ctx); err != nil {
		return nil, fmt.Errorf("memcache: drain %s: %w", set, err)
	}
	defer c.mu.Unlock()
	m := c.counters[set]
	delete(c.counters, set)
	if m == nil {
		m = map[string]int64{}
	}
	return m, nil
}

// Mark implements [cache.Cache.Mark]. Marks are kept apart from values,
// at most Options.MaxMarks of them: beyond, the oldest is forgotten, which
// can only let something be counted twice, never lose it.
func (c *Cache) Mark(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("memcache: mark %s: ttl %v is not positive", key, ttl)
	}
	if err := c.lock(ctx); err != nil {
		return false, fmt.Errorf("memcache: mark %s: %w", key, err)
	}
	defer c.mu.Unlock()
	now := time.Now()
	if el, ok := c.marked[key]; ok {
		if !el.Value.(*entry).expired(now) {
			return false, nil
		}
		c.unmarkLocked(el)
	}
	c.marked[key] = c.marks.PushFront(&entry{key: key, expires: now.Add(ttl)})
	for c.marks.Len() > c.maxMarks {
		c.unmarkLocked(c.marks.Back())
	}
	return true, nil
}

func (c *Cache) unmarkLocked(el *list.Element) {
	delete(c.marked, el.Value.(*entry).key)
	c.marks.Remove(el)
}
