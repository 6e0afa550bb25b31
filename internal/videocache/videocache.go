// Package videocache is the cache-aside layer in front of a video's info:
// protobuf bytes under one key per video, a lifetime that is short while the
// video is still changing, singleflight so a cold key costs one load however
// many ask at once, and invalidation that every writer calls after a change.
// A cache failure never fails a read: it falls back to the loader.
package videocache

import (
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"
	"google.golang.org/protobuf/proto"

	"github.com/cloudflix/cloudflix/internal/cache"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videopb"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// Store is the cache port this package needs.
type Store interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	Delete(ctx context.Context, keys ...string) error
}

// changingTTL bounds how stale a video that is still uploading or encoding
// can be, should an invalidation race a read.
const changingTTL = 5 * time.Second

// Key is the cache key of a video's info.
func Key(id string) string { return "video:" + id }

// Cache caches video info.
type Cache struct {
	store   Store
	ttl     time.Duration
	group   singleflight.Group
	lookups *prometheus.CounterVec
}

// New returns a cache keeping settled (ready, failed) videos for ttl. reg may
// be nil when the caller only invalidates.
func New(store Store, ttl time.Duration, reg prometheus.Registerer) *Cache {
	c := &Cache{store: store, ttl: ttl, lookups: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cloudflix_cache_lookups_total",
		Help: "Cache lookups by cache and result (hit, miss, error).",
	}, []string{"cache", "result"})}
	if reg != nil {
		reg.MustRegister(c.lookups)
	}
	return c
}

// Video returns the video with id from the cache, or loads it once for all
// concurrent callers and caches it.
func (c *Cache) Video(ctx context.Context, id string, load func(context.Context, string) (video.Video, error)) (video.Video, error) {
	key := Key(id)
	b, err := c.store.Get(ctx, key)
	switch {
	case err == nil:
		var p pb.Video
		if err := proto.Unmarshal(b, &p); err == nil {
			c.lookups.WithLabelValues("video", "hit").Inc()
			return videopb.FromProto(&p), nil
		}
		slog.WarnContext(ctx, "corrupt cache entry, reloading", "key", key)
	case errors.Is(err, cache.ErrMiss):
		c.lookups.WithLabelValues("video", "miss").Inc()
	default:
		c.lookups.WithLabelValues("video", "error").Inc()
		Warn(ctx, "cache unavailable, reading through", err)
	}

	v, err, _ := c.group.Do(key, func() (any, error) {
		// One caller giving up must not fail the others waiting on this load.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		// A load that finished just before this one started has filled the
		// cache: look again before going to the database.
		if b, err := c.store.Get(lctx, key); err == nil {
			var p pb.Video
			if proto.Unmarshal(b, &p) == nil {
				return videopb.FromProto(&p), nil
			}
		}
		v, err := load(lctx, id)
		if err != nil {
			return video.Video{}, err
		}
		if b, err := proto.Marshal(videopb.ToProto(v)); err == nil {
			if err := c.store.Set(lctx, key, b, c.lifetime(v)); err != nil {
				Warn(ctx, "cache set failed", err)
			}
		}
		return v, nil
	})
	if err != nil {
		return video.Video{}, err
	}
	return v.(video.Video), nil
}

// Warn logs a cache failure, except an unavailable cache's: the cache
// adapter says once when it becomes unavailable and once when it is back,
// and a log line per read would flood the logs for the whole outage.
func Warn(ctx context.Context, msg string, err error) {
	if !errors.Is(err, cache.ErrUnavailable) {
		slog.WarnContext(ctx, msg, "err", err)
	}
}

func (c *Cache) lifetime(v video.Video) time.Duration {
	if v.State.Terminal() || c.ttl < changingTTL {
		return c.ttl
	}
	return changingTTL
}

// SearchGenerationKey holds a value that every change of a video replaces:
// cached search pages are kept under it, so that a change (a video made
// private, deleted, edited, ready) is never hidden by a cached page.
const SearchGenerationKey = "search:generation"

// searchGenerationTTL bounds the key's life; a generation that expired is
// a new one, which only costs the pages cached under the old.
const searchGenerationTTL = 24 * time.Hour

// Forget is Invalidate for writers that have committed their change and
// must not fail because of the cache: a failure is logged, and the cache
// adapter makes sure the entry is not read once the cache is back (see
// rediscache). It also starts a new search generation.
func (c *Cache) Forget(ctx context.Context, ids ...string) {
	if err := c.Invalidate(ctx, ids...); err != nil {
		Warn(ctx, "cache invalidation failed", err)
	}
	if err := c.store.Set(ctx, SearchGenerationKey, []byte(rand.Text()), searchGenerationTTL); err != nil {
		Warn(ctx, "search generation not renewed", err)
	}
}

// Invalidate drops the cached info of the given videos; writers call it after
// every committed change.
func (c *Cache) Invalidate(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = Key(id)
	}
	return c.store.Delete(ctx, keys...)
}
