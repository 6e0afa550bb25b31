package admit

import (
	"container/list"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rates holds each key (a user, a client address) to a rate with a
// burst, as token buckets. It remembers at most a fixed number of keys:
// past that, the key seen least recently is forgotten, and comes back
// with a full bucket. Forgetting only ever lets a client send more, never
// less, and a key that fills its bucket again is worth forgetting anyway.
//
// It is safe for concurrent use.
type Rates struct {
	every rate.Limit
	burst int
	most  int

	mu    sync.Mutex
	keys  map[string]*list.Element
	order *list.List // of *keyed, the most recently seen first
}

type keyed struct {
	key string
	lim *rate.Limiter
}

// NewRates holds each key to perSecond on average with bursts of burst,
// remembering at most most keys. perSecond <= 0 admits everything.
func NewRates(perSecond float64, burst, most int) *Rates {
	return &Rates{every: rate.Limit(perSecond), burst: max(burst, 1), most: max(most, 1),
		keys: map[string]*list.Element{}, order: list.New()}
}

// Allow takes one token from key's bucket at now. When there is none it
// takes nothing and says how long until there will be.
func (r *Rates) Allow(key string, now time.Time) (bool, time.Duration) {
	if r.every <= 0 {
		return true, 0
	}
	lim := r.limiter(key)
	res := lim.ReserveN(now, 1)
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// limiter is key's bucket, made (and the oldest key forgotten) as needed.
func (r *Rates) limiter(key string) *rate.Limiter {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.keys[key]; ok {
		r.order.MoveToFront(e)
		return e.Value.(*keyed).lim
	}
	if r.order.Len() >= r.most {
		oldest := r.order.Back()
		r.order.Remove(oldest)
		delete(r.keys, oldest.Value.(*keyed).key)
	}
	k := &keyed{key: key, lim: rate.NewLimiter(r.every, r.burst)}
	r.keys[key] = r.order.PushFront(k)
	return k.lim
}

// Len is how many keys are remembered.
func (r *Rates) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.order.Len()
}
