package searchsvc

import (
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
}

// newFixture runs the service on the backends of p, caching results for ttl.
func newFixture(t *testing.T, p *platform.Process, ttl time.Duration) fixture {
	t.Helper()
	ctx := t.Context()
	db, err := p.Store(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Cache(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{svc: New(db, c, ttl, prometheus.NewRegistry()), store: db}
}

func TestSearchPagesWithCursors(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testSearchPagesWithCursors)
}

func testSearchPagesWithCursors(t *testing.T, p *platform.Process) {
	f := newFixture(t, p, 0)
	want := map[string]bool{}
	for _, title := range []string{"Lighthouse one", "Lighthouse two", "Lighthouse three"} {
		want[storetest.Ready(t, f.store, title).ID] = true
	}
	seen := map[string]bool{}
	cursor := ""
	for pages := 0; ; pages++ {
		resp, err := f.svc.Search(t.Context(), &pb.SearchRequest{Query: "lighthouse", PageSize: proto.Int32(2), Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range resp.GetResults() {
			seen[r.GetVideo().GetId()] = true
		}
		if cursor = resp.GetNextCursor(); cursor == "" {
			if pages != 1 {
				t.Fatalf("3 hits in pages of 2 took %d pages", pages+1)
			}
			break
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("found %v, want %v", seen, want)
	}
}

func TestHotQueriesAreCached(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testHotQueriesAreCached)
}

func testHotQueriesAreCached(t *testing.T, p *platform.Process) {
	f := newFixture(t, p, time.Minute)
	storetest.Ready(t, f.store, "Canyon rafting")
	first, err := f.svc.Search(t.Context(), &pb.SearchRequest{Query: "canyon"})
	if err != nil || len(first.GetResults()) != 1 {
		t.Fatalf("first search = %v, %v", first, err)
	}
	// A video that becomes ready meanwhile shows up once the cached page
	// expires, not before: the cache answered.
	storetest.Ready(t, f.store, "Canyon hiking")
	second, err := f.svc.Search(t.Context(), &pb.SearchRequest{Query: "  CANYON "})
	if err != nil || len(second.GetResults()) != 1 {
		t.Fatalf("cached search = %v, %v; want the cached page of one hit", second, err)
	}
	// Another page size is another query.
	third, err := f.svc.Search(t.Context(), &pb.SearchRequest{Query: "canyon", PageSize: proto.Int32(5)})
	if err != nil || len(third.GetResults()) != 2 {
		t.Fatalf("uncached search = %v, %v; want both hits", third, err)
	}
	// A writer's change (here a video made private, as far as the cache
	// is told) starts a new generation: no cached page hides it.
	c, err := p.Cache(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	videocache.New(c, 0, nil).Forget(t.Context(), first.GetResults()[0].GetVideo().GetId())
	fourth, err := f.svc.Search(t.Context(), &pb.SearchRequest{Query: "canyon"})
	if err != nil || len(fourth.GetResults()) != 2 {
		t.Fatalf("search after a change = %v, %v; want both hits, not the cached page", fourth, err)
	}
}

func TestBadRequestsAreInvalidArgument(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testBadRequestsAreInvalidArgument)
}

func testBadRequestsAreInvalidArgument(t *testing.T, p *platform.Process) {
	f := newFixture(t, p, 0)
	ctx := t.Context()
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'a'
	}
	for name, req := range map[string]*pb.SearchRequest{
		"empty query":    {Query: "   "},
		"long query":     {Query: string(long)},
		"page too large": {Query: "x", PageSize: proto.Int32(1000)},
		"foreign cursor": {Query: "x", Cursor: "not-ours"},
		"offset too far": {Query: "x", Cursor: encodeOffset(maxOffset + 1)},
	} {
		if _, err := f.svc.Search(ctx, req); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: %v, want InvalidArgument", name, err)
		}
	}
	if _, err := f.svc.Suggest(ctx, &pb.SuggestRequest{Prefix: "x", Limit: proto.Int32(100)}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("suggest limit: %v", err)
	}
	if _, err := f.svc.Suggest(ctx, &pb.SuggestRequest{Prefix: " "}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("empty prefix: %v, want InvalidArgument", err)
	}
}
