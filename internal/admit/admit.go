// Package admit bounds the work a process takes on: work in flight by key
// (a client, an upload; PerKey), work in flight of one kind with a limit
// that may adapt to latency (Limit), and requests a second by key
// (Rates). What is over a bound is refused at once, never queued, so that
// the caller answers a fast 429 or 503 with Retry-After and the client
// comes back later. Nothing here blocks, and what it remembers is
// bounded.
package admit

import "sync"

// PerKey counts what is under way for each key, up to a limit per key.
// It is safe for concurrent use.
type PerKey struct {
	limit int
	mu    sync.Mutex
	busy  map[string]int
}

// NewPerKey returns counts that admit up to limit at once per key.
func NewPerKey(limit int) *PerKey {
	return &PerKey{limit: limit, busy: map[string]int{}}
}

// Limit is how many may be under way at once per key.
func (p *PerKey) Limit() int { return p.limit }

// Acquire admits one more for key, or reports false when key is at its
// limit. Every true must be matched by one Release.
func (p *PerKey) Acquire(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.busy[key] >= p.limit {
		return false
	}
	p.busy[key]++
	return true
}

// Release ends one admitted for key.
func (p *PerKey) Release(key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.busy[key]--; p.busy[key] <= 0 {
		delete(p.busy, key) // so that the map holds only keys at work
	}
}
