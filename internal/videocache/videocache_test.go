package videocache

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cloudflix/cloudflix/internal/cache/rediscache"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
)

func openRedis(t *testing.T) *rediscache.Cache {
	t.Helper()
	rc, err := rediscache.Open(t.Context(), rediscache.Options{Addr: testenv.RedisAddr(), Prefix: testenv.RedisPrefix(t), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	return rc
}

func TestHitNeedsNoLoad(t *testing.T) {
	t.Parallel()
	c := New(openRedis(t), time.Minute, prometheus.NewRegistry())
	ctx := context.Background()
	var loads atomic.Int32
	load := func(_ context.Context, id string) (video.Video, error) {
		loads.Add(1)
		return video.Video{ID: id, Title: "Sunrise", State: video.StateReady, Tags: []string{"nature"}}, nil
	}
	for range 3 {
		v, err := c.Video(ctx, "v1", load)
		if err != nil || v.Title != "Sunrise" || v.Tags[0] != "nature" {
			t.Fatalf("Video = %+v, %v", v, err)
		}
	}
	if n := loads.Load(); n != 1 {
		t.Fatalf("loads = %d, want 1 (then hits)", n)
	}
	if err := c.Invalidate(ctx, "v1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Video(ctx, "v1", load); err != nil || loads.Load() != 2 {
		t.Fatalf("after invalidation loads = %d, %v; want a reload", loads.Load(), err)
	}
}

func TestColdKeyLoadsOnceForConcurrentReaders(t *testing.T) {
	t.Parallel()
	const readers = 50
	reg := prometheus.NewRegistry()
	c := New(openRedis(t), time.Minute, reg)
	var loads atomic.Int32
	release := make(chan struct{})
	load := func(_ context.Context, id string) (video.Video, error) {
		loads.Add(1)
		<-release
		return video.Video{ID: id, State: video.StateReady}, nil
	}
	var wg sync.WaitGroup
	for range readers {
		wg.Go(func() {
			if _, err := c.Video(context.Background(), "hot", load); err != nil {
				t.Error(err)
			}
		})
	}
	// The load blocks until every reader has missed the cache, so each of
	// them must share the one load rather than start its own.
	misses := c.lookups.WithLabelValues("video", "miss")
	deadline := time.Now().Add(30 * time.Second)
	for testutil.ToFloat64(misses) < readers {
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("only %v of %d readers missed the cache", testutil.ToFloat64(misses), readers)
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	if n := loads.Load(); n != 1 {
		t.Fatalf("loads = %d for %d readers that missed, want 1", n, readers)
	}
}

func TestChangingVideosExpireSoon(t *testing.T) {
	c := New(nil, time.Hour, nil)
	if got := c.lifetime(video.Video{State: video.StateProcessing}); got != changingTTL {
		t.Errorf("processing lifetime = %v", got)
	}
	if got := c.lifetime(video.Video{State: video.StateReady}); got != time.Hour {
		t.Errorf("ready lifetime = %v", got)
	}
}

func TestCacheDownFallsBackToLoader(t *testing.T) {
	t.Parallel()
	// A cache whose Redis connection is gone still answers from the loader.
	live := openRedis(t)
	live.Close()
	c := New(live, time.Minute, nil)
	v, err := c.Video(context.Background(), "v1", func(_ context.Context, id string) (video.Video, error) {
		return video.Video{ID: id, Title: "from the database"}, nil
	})
	if err != nil || v.Title != "from the database" {
		t.Fatalf("Video with the cache down = %+v, %v", v, err)
	}
}
