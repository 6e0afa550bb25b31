package hostsvc

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/cloudflix/cloudflix/internal/auth"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/testenv"
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
	return fixture{svc: New(db, cache, c, testViews, reg), store: db, cache: cache, reg: reg}
}

// testViews counts a viewer once an hour, as no test waits that long.
var testViews = ViewRule{Window: time.Hour, Key: []byte("viewers of the host service's tests")}

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
	for _, address := range []string{"192.0.2.1", "192.0.2.2", "2001:db8::1"} {
		resp, err := f.svc.RecordView(ctx, &pb.RecordViewRequest{Id: id, ClientAddress: address, UserAgent: "Firefox"})
		must(t, err)
		if !resp.GetCounted() {
			t.Fatalf("the first view from %s was not counted", address)
		}
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

// A video is watched, and its views counted, as soon as it is playable,
// while it encodes; one not playable yet counts none.
func TestViewsWhileEncoding(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		f := newFixture(t, p)
		ctx := t.Context()
		id := storetest.Uploaded(t, f.store, "Encoding").ID
		view := func() (*pb.RecordViewResponse, error) {
			return f.svc.RecordView(ctx, &pb.RecordViewRequest{Id: id, ClientAddress: "192.0.2.1", UserAgent: "Firefox"})
		}
		if _, err := view(); status.Code(err) != codes.FailedPrecondition {
			t.Fatalf("a view of an uploaded video: %v, want FailedPrecondition", err)
		}
		if _, err := f.store.ClaimEncode(ctx, id, "w1", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := view(); status.Code(err) != codes.FailedPrecondition {
			t.Fatalf("a view of a video encoding, not playable yet: %v, want FailedPrecondition", err)
		}
		must(t, f.store.SetPlayable(ctx, id, "w1", 4, 30))
		f.cache.Forget(ctx, id)
		resp, err := view()
		must(t, err)
		if !resp.GetCounted() {
			t.Fatal("the first view of a video playable while encoding was not counted")
		}
		must(t, f.svc.FlushViews(ctx))
		if v, err := f.store.Video(ctx, id); err != nil || v.Views != 1 {
			t.Errorf("after a view while encoding: %+v, %v", v, err)
		}
	})
}

// A viewer is counted once per video within the window: reloads and loops
// from one address and browser, or from one user wherever they are, add
// nothing; another browser at the same address, another video, or the
// same viewer once the window is over, count.
func TestViewsAreCountedOncePerViewer(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, testViewsAreCountedOncePerViewer)
}

func testViewsAreCountedOncePerViewer(t *testing.T, p *platform.Process) {
	f := newFixture(t, p)
	ctx := t.Context()
	watched := storetest.Ready(t, f.store, "Watched").ID
	other := storetest.Ready(t, f.store, "Other").ID
	ada := storetest.NewUser(t, f.store, testenv.Name("ada"), auth.RoleUser)
	asAda := storetest.SignedIn(ctx, ada)
	views := []struct {
		ctx          context.Context
		id, addr, ua string
		counted      bool
		why          string
	}{
		{ctx, watched, "192.0.2.1", "Firefox", true, "a first view"},
		{ctx, watched, "192.0.2.1", "Firefox", false, "a reload"},
		{ctx, watched, "192.0.2.1", "Firefox", false, "a loop"},
		{ctx, watched, "192.0.2.1", "Chromium", true, "another browser at the address"},
		{ctx, other, "192.0.2.1", "Firefox", true, "another video"},
		{asAda, watched, "192.0.2.7", "Firefox", true, "a signed-in user"},
		{asAda, watched, "198.51.100.9", "Safari", false, "the same user elsewhere"},
	}
	for _, v := range views {
		resp, err := f.svc.RecordView(v.ctx, &pb.RecordViewRequest{Id: v.id, ClientAddress: v.addr, UserAgent: v.ua})
		must(t, err)
		if resp.GetCounted() != v.counted {
			t.Errorf("%s: counted %v, want %v", v.why, resp.GetCounted(), v.counted)
		}
	}
	must(t, f.svc.FlushViews(ctx))
	for id, want := range map[string]int64{watched: 3, other: 1} {
		v, err := f.svc.GetVideo(ctx, &pb.GetVideoRequest{Id: id})
		must(t, err)
		if v.GetViews() != want {
			t.Errorf("video %s has %d views, want %d", id, v.GetViews(), want)
		}
	}

	// With a window of a second, the same viewer counts again once it is
	// over.
	short := New(f.store, f.cache, f.svc.engagement, ViewRule{Window: time.Second, Key: testViews.Key}, nil)
	req := &pb.RecordViewRequest{Id: other, ClientAddress: "203.0.113.5", UserAgent: "Firefox"}
	first := time.Now()
	resp, err := short.RecordView(ctx, req)
	must(t, err)
	if !resp.GetCounted() {
		t.Fatal("a first view was not counted")
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := short.RecordView(ctx, req)
		must(t, err)
		if resp.GetCounted() {
			if since := time.Since(first); since < time.Second {
				t.Fatalf("counted again %v after the first view, within the window", since)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a viewer was not counted again once the window was over")
		}
	}
}

// The keyed hash of an anonymous viewer holds neither their address nor
// their browser, and another install's key gives another hash.
func TestAnonymousViewerIsAKeyedHash(t *testing.T) {
	t.Parallel()
	mine := testViews.viewer(auth.Principal{}, "192.0.2.1", "Firefox")
	if strings.Contains(mine, "192.0.2.1") || strings.Contains(mine, "Firefox") {
		t.Fatalf("viewer %q shows what it hashes", mine)
	}
	theirs := ViewRule{Window: time.Hour, Key: []byte("another install")}.viewer(auth.Principal{}, "192.0.2.1", "Firefox")
	if mine == theirs {
		t.Fatalf("two keys give one hash %q", mine)
	}
	// The address and the browser cannot trade characters.
	if testViews.viewer(auth.Principal{}, "192.0.2.1F", "irefox") == mine {
		t.Fatal("address and User-Agent run together")
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
