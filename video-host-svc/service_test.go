package hostsvc

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/videocache"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

type fixture struct {
	svc   *Service
	store store.Store
	cache *videocache.Cache
	reg   *prometheus.Registry
}

// newFixture runs the service on the backends of p.
func newFixture(t testing.TB, p *platform.Process) fixture {
	t.Helper()
	ctx := t.Context()
	db, err := p.Store(ctx)
	must(t, err)
	c, err := p.Cache(ctx)
	must(t, err)
	reg := prometheus.NewRegistry()
	cache := videocache.New(c, time.Minute, reg)
	return fixture{svc: New(db, cache, c, reg), store: db, cache: cache, reg: reg}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// changeBehindTheCache changes a video in the database without telling the
// cache, as only a cached read would then miss: it adds views.
func (f fixture) changeBehindTheCache(t *testing.T, id string, views int64) {
	t.Helper()
	must(t, f.store.AddViews(t.Context(), map[string]int64{id: views}))
}

func TestGetVideoIsServedFromTheCache(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testGetVideoIsServedFromTheCache)
}

func testGetVideoIsServedFromTheCache(t *testing.T, p *platform.Process) {
	f := newFixture(t, p)
	ctx := t.Context()
	id := storetest.Ready(t, f.store, "Original title").ID

	first, err := f.svc.GetVideo(ctx, &pb.GetVideoRequest{Id: id})
	must(t, err)
	f.changeBehindTheCache(t, id, 7)
	second, err := f.svc.GetVideo(ctx, &pb.GetVideoRequest{Id: id})
	must(t, err)
	if first.GetViews() != 0 || second.GetViews() != 0 {
		t.Fatalf("views %d, %d: the second read went to the database", first.GetViews(), second.GetViews())
	}
	if len(second.GetRenditions()) == 0 || len(second.GetRenditions()) != len(first.GetRenditions()) || second.GetState() != pb.VideoState_VIDEO_STATE_READY {
		t.Fatalf("cached video lost fields: %v", second)
	}
	if hits := f.cacheLookups(t, "hit"); hits != 1 {
		t.Fatalf("cache hits = %v, want 1", hits)
	}

	// A writer's invalidation makes the next read see the change.
	must(t, f.cache.Invalidate(ctx, id))
	third, err := f.svc.GetVideo(ctx, &pb.GetVideoRequest{Id: id})
	must(t, err)
	if third.GetViews() != 7 {
		t.Fatalf("after invalidation views = %d, want 7", third.GetViews())
	}
}

// cacheLookups reads the count of cache lookups with the given result.
func (f fixture) cacheLookups(t *testing.T, result string) float64 {
	t.Helper()
	mfs, err := f.reg.Gather()
	must(t, err)
	var n float64
	for _, mf := range mfs {
		if mf.GetName() != "cloudflix_cache_lookups_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "result" && lp.GetValue() == result {
					n += m.GetCounter().GetValue()
				}
			}
		}
	}
	return n
}

func TestViewsAreCountedAndFlushed(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testViewsAreCountedAndFlushed)
}

func testViewsAreCountedAndFlushed(t *testing.T, p *platform.Process) {
	f := newFixture(t, p)
	ctx := t.Context()
	id := storetest.Ready(t, f.store, "Watched").ID
	for range 3 {
		_, err := f.svc.RecordView(ctx, &pb.RecordViewRequest{Id: id})
		must(t, err)
	}
	must(t, f.svc.FlushViews(ctx))
	v, err := f.svc.GetVideo(ctx, &pb.GetVideoRequest{Id: id})
	must(t, err)
	if v.GetViews() != 3 {
		t.Fatalf("views = %d, want 3", v.GetViews())
	}
	// Nothing is counted twice.
	must(t, f.svc.FlushViews(ctx))
	v, _ = f.svc.GetVideo(ctx, &pb.GetVideoRequest{Id: id})
	if v.GetViews() != 3 {
		t.Fatalf("views after a second flush = %d, want 3", v.GetViews())
	}
}

func TestErrorsMapToCodes(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testErrorsMapToCodes)
}

func testErrorsMapToCodes(t *testing.T, p *platform.Process) {
	f := newFixture(t, p)
	ctx := t.Context()
	cases := []struct {
		err  error
		want codes.Code
	}{
		{get(f, ctx, "0190a1b2-0000-7000-8000-00000000dead"), codes.NotFound},
		{get(f, ctx, ""), codes.InvalidArgument},
		{list(f, ctx, &pb.ListVideosRequest{PageSize: proto.Int32(1000)}), codes.InvalidArgument},
		{list(f, ctx, &pb.ListVideosRequest{Cursor: "not-ours"}), codes.InvalidArgument},
	}
	for i, c := range cases {
		if got := status.Code(c.err); got != c.want {
			t.Errorf("case %d: code %v (%v), want %v", i, got, c.err, c.want)
		}
	}
}

func get(f fixture, ctx context.Context, id string) error {
	_, err := f.svc.GetVideo(ctx, &pb.GetVideoRequest{Id: id})
	return err
}

func list(f fixture, ctx context.Context, r *pb.ListVideosRequest) error {
	_, err := f.svc.ListVideos(ctx, r)
	return err
}

func TestListPagesThroughReadyVideos(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testListPagesThroughReadyVideos)
}

func testListPagesThroughReadyVideos(t *testing.T, p *platform.Process) {
	f := newFixture(t, p)
	ctx := t.Context()
	var ids []string
	for _, title := range []string{"One", "Two", "Three"} {
		ids = append(ids, storetest.Ready(t, f.store, title).ID)
	}
	var seen []string
	cursor := ""
	for {
		resp, err := f.svc.ListVideos(ctx, &pb.ListVideosRequest{PageSize: proto.Int32(2), Cursor: cursor})
		must(t, err)
		for _, v := range resp.GetVideos() {
			seen = append(seen, v.GetId())
		}
		if cursor = resp.GetNextCursor(); cursor == "" {
			break
		}
	}
	if len(seen) != 3 || seen[0] != ids[2] || seen[2] != ids[0] {
		t.Fatalf("pages = %v, want newest first %v", seen, ids)
	}
}
