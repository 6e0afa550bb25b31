package pgstore

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// open returns a store on a fresh database of the test's own, migrated.
func open(t *testing.T, o Options) *Store {
	t.Helper()
	if o.URL == "" {
		o.URL = testenv.Postgres(t)
	}
	if o.MaxConns == 0 {
		// Many subtests run at once, each with its own database: keep the
		// server's connection count well inside max_connections.
		o.MaxConns = 4
	}
	s, err := Open(testCtx(t), o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(s.Close)
	if err := s.Migrate(testCtx(t)); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Store { return open(t, Options{}) })
}

func TestMigrateIsIdempotentAndSafeConcurrently(t *testing.T) {
	t.Parallel()
	url := testenv.Postgres(t)
	a := open(t, Options{URL: url})
	ctx := testCtx(t)
	v := video.Video{ID: uuid.NewString(), Title: "Survives migrations"}
	if err := a.CreateVideo(ctx, v, video.UploadSession{UploadID: "u", ObjectKey: video.SourceKey(v.ID), ExpiresAt: time.Now()}); err != nil {
		t.Fatalf("CreateVideo: %v", err)
	}
	// Replicas starting together all migrate the same database at once.
	b := open(t, Options{URL: url})
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = []*Store{a, b}[i%2].Migrate(ctx)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
	}
	if got, err := b.Video(ctx, v.ID); err != nil || got.Title != v.Title {
		t.Fatalf("Video after re-migrating = %+v, %v; want the data kept", got, err)
	}
}

// A fresh server has no CloudFlix database yet: Migrate creates it, and
// running it again changes nothing.
func TestMigrateCreatesMissingDatabase(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	// testenv drops the database when the test ends, whoever created it.
	url := testenv.Postgres(t)
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(ctx, testenv.PostgresAdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE "+pgx.Identifier{cfg.Database}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(ctx, Options{URL: url}); err == nil {
		s.Close()
		t.Fatal("Open of a missing database succeeded")
	}
	for range 2 {
		if err := Migrate(ctx, Options{URL: url}); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	s := open(t, Options{URL: url})
	if _, err := s.LatestVideos(ctx, 10, video.ListPosition{}); err != nil {
		t.Fatalf("LatestVideos after Migrate: %v", err)
	}
}

func TestOpenFailsOnUnreachableServer(t *testing.T) {
	t.Parallel()
	addr, err := testenv.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	closed := Options{URL: "postgres://postgres@" + addr + "/x?sslmode=disable&connect_timeout=2"}
	if s, err := Open(ctx, closed); err == nil {
		s.Close()
		t.Fatal("Open of a closed port succeeded")
	}
	if err := Migrate(ctx, closed); err == nil {
		t.Fatal("Migrate on a closed port succeeded")
	}
	if _, err := Open(ctx, Options{URL: "::not a url::"}); err == nil {
		t.Fatal("Open of a malformed URL succeeded")
	}
}

// countingTracer counts the queries it sees, standing in for OpenTelemetry.
type countingTracer struct{ queries atomic.Int64 }

func (c *countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.queries.Add(1)
	return ctx
}

func (c *countingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func TestOptionsTracerAndMaxConns(t *testing.T) {
	t.Parallel()
	tracer := &countingTracer{}
	s := open(t, Options{Tracer: tracer, MaxConns: 3})
	if got := s.pool.Config().MaxConns; got != 3 {
		t.Fatalf("MaxConns = %d, want 3", got)
	}
	before := tracer.queries.Load()
	if _, err := s.LatestVideos(testCtx(t), 10, video.ListPosition{}); err != nil {
		t.Fatalf("LatestVideos: %v", err)
	}
	if tracer.queries.Load() == before {
		t.Fatal("the tracer saw no query")
	}
}

func TestSearchWordsFollowReadyVideos(t *testing.T) {
	t.Parallel()
	s := open(t, Options{})
	ctx := testCtx(t)
	words := func() map[string]int {
		t.Helper()
		rows, err := s.pool.Query(ctx, "SELECT word, videos FROM search_words")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for rows.Next() {
			var w string
			var n int
			if err := rows.Scan(&w, &n); err != nil {
				t.Fatal(err)
			}
			got[w] = n
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}
	mk := func(title, desc string) string {
		t.Helper()
		id := uuid.NewString()
		if err := s.CreateVideo(ctx, video.Video{ID: id, Title: title, Description: desc, Tags: []string{"tag-one"}},
			video.UploadSession{UploadID: "u", ObjectKey: video.SourceKey(id), ExpiresAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MarkUploaded(ctx, id); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ClaimEncode(ctx, id, "w", time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MarkReady(ctx, id, "w", video.Encoded{}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	a := mk("Blue Lake", "example.com at 1.5x speed")
	b := mk("Blue Sky", "")
	// Only plain words: "tag-one" and "example.com" are kept by the search
	// document but are no query word's typo.
	want := map[string]int{"blue": 2, "lake": 1, "sky": 1, "tag": 2, "one": 2, "at": 1, "x": 1, "speed": 1}
	got := words()
	for w, n := range want {
		if got[w] != n {
			t.Fatalf("search_words = %v, want %v", got, want)
		}
	}
	for w := range got {
		if _, ok := want[w]; !ok {
			t.Fatalf("search_words has unexpected word %q: %v", w, got)
		}
	}
	if _, err := s.DeleteVideo(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got := words(); got["blue"] != 1 || got["lake"] != 0 || len(got) != 4 {
		t.Fatalf("search_words after deleting %q = %v", "Blue Lake", got)
	}
	if _, err := s.Reencode(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got := words(); len(got) != 0 {
		t.Fatalf("search_words with no ready video = %v, want empty", got)
	}
}
