package pgstore

import (
	"context"
	_ "embed"
	"fmt"
	"maps"
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

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// open returns a store on a fresh database of the test's own, migrated.
func open(t testing.TB, o Options) *Store {
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
	if !maps.Equal(got, want) {
		t.Fatalf("search_words = %v, want %v", got, want)
	}
	// A video that is not public leaves the vocabulary, and comes back with
	// its privacy.
	for _, p := range []video.Privacy{video.PrivacyUnlisted, video.PrivacyPrivate, video.PrivacyPublic} {
		if _, err := s.UpdateVideo(ctx, b, video.Change{Privacy: &p}); err != nil {
			t.Fatal(err)
		}
		w := map[string]int{"blue": 1, "lake": 1, "tag": 1, "one": 1, "at": 1, "x": 1, "speed": 1}
		if p == video.PrivacyPublic {
			w = want
		}
		if got := words(); !maps.Equal(got, w) {
			t.Fatalf("search_words with %q %s = %v, want %v", "Blue Sky", p, got, w)
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

// schemaBeforeAccounts is videos_schema.sql as it was before accounts.
//
//go:embed testdata/schema_0a97faf.sql
var schemaBeforeAccounts string

// A database from before accounts is migrated in place, by replicas of the
// new version starting together.
func TestUpgradeFromBeforeAccounts(t *testing.T) {
	t.Parallel()
	storetest.Upgrade(t, func(t *testing.T) (storetest.Store, string) {
		url := testenv.Postgres(t)
		ctx := testCtx(t)
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, schemaBeforeAccounts); err != nil {
			t.Fatalf("the old schema: %v", err)
		}
		id := uuid.NewString()
		if _, err := conn.Exec(ctx, `
			INSERT INTO videos (id, title, description, tags, state, progress, size_bytes, content_type)
			VALUES ($1, $2, $3, '{coast}', 'ready', 1, $4, 'video/mp4')`,
			id, storetest.LegacyTitle, storetest.LegacyDescription, storetest.LegacySize); err != nil {
			t.Fatalf("a video with the old schema: %v", err)
		}
		var stores []*Store
		for range 2 {
			s, err := Open(ctx, Options{URL: url, MaxConns: 4})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			t.Cleanup(s.Close)
			stores = append(stores, s)
		}
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() { errs[i] = stores[i%2].Migrate(ctx) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("concurrent Migrate of the old schema: %v", err)
			}
		}
		// Each migration after the first found the columns there and added
		// no second constraint.
		var fks int
		if err := conn.QueryRow(ctx, `
			SELECT count(*) FROM pg_constraint
			WHERE conrelid = 'videos'::regclass AND (conname LIKE '%owner%' OR conname LIKE '%privacy%')`).Scan(&fks); err != nil {
			t.Fatal(err)
		}
		if fks != 2 {
			t.Fatalf("videos has %d owner and privacy constraints after four migrations, want 2", fks)
		}
		return stores[1], id
	})
}

// A word more videos use than directMatches is matched against the newest
// videos only, and still finds a title match first, and nothing that is not
// public.
func TestSearchCommonWordsWalkTheNewest(t *testing.T) {
	t.Parallel()
	s := open(t, Options{})
	ctx := testCtx(t)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var vs []video.Video
	for i := range directMatches + 500 {
		vs = append(vs, video.Video{ID: uuid.NewString(), Title: fmt.Sprintf("Clip %d", i), Description: "an ordinary harbour",
			CreatedAt: base.Add(time.Duration(i) * time.Minute)})
	}
	oldTitle := video.Video{ID: uuid.NewString(), Title: "Harbour at Dawn", CreatedAt: base.Add(-time.Hour)}
	newTitle := video.Video{ID: uuid.NewString(), Title: "Harbour Lights", CreatedAt: base.Add(time.Duration(len(vs)-10) * time.Minute)}
	hidden := video.Video{ID: uuid.NewString(), Title: "Harbour Secret", Privacy: video.PrivacyPrivate, CreatedAt: base.Add(24 * time.Hour)}
	if err := s.ImportVideos(ctx, append(vs, oldTitle, newTitle, hidden)); err != nil {
		t.Fatalf("ImportVideos: %v", err)
	}
	hits, err := s.Search(ctx, "harbour", 20, 0)
	if err != nil || len(hits) != 20 {
		t.Fatalf("Search(harbour) = %d hits, %v; want a full page", len(hits), err)
	}
	if hits[0].Video.ID != newTitle.ID {
		t.Fatalf("Search(harbour) put %q first, want the newest title match", hits[0].Video.Title)
	}
	for _, h := range hits {
		if h.Video.ID == hidden.ID {
			t.Fatal("Search(harbour) found a private video")
		}
	}
	// Past the newest walkWindow videos, only the words' rarer companions
	// find the old title match.
	if hits, err := s.Search(ctx, "harbour dawn", 20, 0); err != nil || len(hits) != 1 || hits[0].Video.ID != oldTitle.ID {
		t.Fatalf("Search(harbour dawn) = %v, %v; want the old title match", hits, err)
	}
	if sug, err := s.Suggest(ctx, "harb", 5); err != nil || len(sug) == 0 || sug[0] != "Harbour Lights" {
		t.Fatalf("Suggest(harb) = %q, %v", sug, err)
	}
}
