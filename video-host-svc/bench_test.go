package hostsvc

import (
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/cache/rediscache"
	"github.com/cloudflix/cloudflix/internal/faulttest"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/videocache"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// BenchmarkGetVideo compares a read served from the cache with one that
// goes to the database (the entry dropped before each read), on the real
// PostgreSQL and Redis, and with one made while Redis is down:
//
//	go test -run '^$' -bench GetVideo -count 5 ./video-host-svc
func BenchmarkGetVideo(b *testing.B) {
	f := newFixture(b, platformtest.Process(b, platformtest.Production))
	id := storetest.Ready(b, f.store, "Benchmarked").ID
	req := &pb.GetVideoRequest{Id: id}
	b.Run("cache-hit", func(b *testing.B) {
		if _, err := f.svc.GetVideo(b.Context(), req); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := f.svc.GetVideo(b.Context(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cache-miss", func(b *testing.B) {
		for b.Loop() {
			if err := f.cache.Invalidate(b.Context(), id); err != nil {
				b.Fatal(err)
			}
			if _, err := f.svc.GetVideo(b.Context(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Redis refuses connections (through a fault proxy that is down):
	// every read goes to the database past the cache's open breaker.
	b.Run("redis-down", func(b *testing.B) {
		proxy := faulttest.New(b, testenv.RedisAddr())
		c, err := rediscache.Open(b.Context(), rediscache.Options{Addr: proxy.Addr(), Prefix: testenv.RedisPrefix(b)})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		svc := New(f.store, videocache.New(c, time.Minute, nil), c, testViews, nil)
		proxy.Inject(faulttest.Down, 0)
		for b.Loop() {
			if _, err := svc.GetVideo(b.Context(), req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
