package sqlitestore

import (
	"context"
	"database/sql"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/google/uuid"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/video"
)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// openAt opens the database file at path and migrates it; the store is
// closed when the test ends.
func openAt(t testing.TB, path string) *Store {
	t.Helper()
	s, err := Open(testCtx(t), Options{Path: path})
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if err := s.Migrate(testCtx(t)); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// open returns a migrated store on a fresh database file of the test's own.
func open(t testing.TB) *Store {
	t.Helper()
	return openAt(t, filepath.Join(t.TempDir(), "cloudflix.db"))
}

func TestContract(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) storetest.Store { return open(t) })
}

// newVideo creates a video in state uploading.
func newVideo(t *testing.T, s *Store, title, description string, tags ...string) string {
	t.Helper()
	id := uuid.NewString()
	err := s.CreateVideo(testCtx(t), video.Video{ID: id, Title: title, Description: description, Tags: tags},
		video.UploadSession{UploadID: "u", ObjectKey: video.SourceKey(id), ExpiresAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatalf("CreateVideo: %v", err)
	}
	return id
}

// readyVideo creates a video and takes it through its encode to ready.
func readyVideo(t *testing.T, s *Store, title, description string, tags ...string) string {
	t.Helper()
	ctx := testCtx(t)
	id := newVideo(t, s, title, description, tags...)
	if _, err := s.MarkUploaded(ctx, id); err != nil {
		t.Fatalf("MarkUploaded: %v", err)
	}
	if _, err := s.ClaimEncode(ctx, id, "w", time.Hour); err != nil {
		t.Fatalf("ClaimEncode: %v", err)
	}
	if _, err := s.MarkReady(ctx, id, "w", video.Encoded{}); err != nil {
		t.Fatalf("MarkReady: %v", err)
	}
	return id
}

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := testCtx(t)
	id := readyVideo(t, s, "Survives migrations", "")
	for range 2 {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate again: %v", err)
		}
	}
	if v, err := s.Video(ctx, id); err != nil || v.Title != "Survives migrations" {
		t.Fatalf("Video after re-migrating = %+v, %v; want the data kept", v, err)
	}
	if hits, err := s.Search(ctx, "survives", 10, 0); err != nil || len(hits) != 1 {
		t.Fatalf("Search after re-migrating = %v, %v; want the video", hits, err)
	}
}

// Migrate makes the file, and its folder, on a fresh install.
func TestMigrateCreatesMissingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "fresh", "data", "cloudflix.db")
	for range 2 {
		if err := Migrate(testCtx(t), Options{Path: path}); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
	}
	s := openAt(t, path)
	readyVideo(t, s, "After a fresh migration", "")
	if err := Migrate(testCtx(t), Options{}); err == nil {
		t.Fatal("Migrate without a path succeeded")
	}
}

// A single-process install keeps its catalogue across a restart: everything
// committed before Close is there when the file is opened again.
func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cloudflix.db")
	ctx := testCtx(t)

	first, err := Open(ctx, Options{Path: path})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := first.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	id := readyVideo(t, first, "Kept across restarts", "durable", "persist")
	if err := first.AddViews(ctx, map[string]int64{id: 42}); err != nil {
		t.Fatalf("AddViews: %v", err)
	}
	pending := newVideo(t, first, "Uploaded before the restart", "")
	if _, err := first.MarkUploaded(ctx, pending); err != nil {
		t.Fatalf("MarkUploaded: %v", err)
	}
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	again := openAt(t, path)
	v, err := again.Video(ctx, id)
	if err != nil || v.State != video.StateReady || v.Views != 42 || !slices.Equal(v.Tags, []string{"persist"}) {
		t.Fatalf("Video after reopening = %+v, %v", v, err)
	}
	if hits, err := again.Search(ctx, "durabel", 10, 0); err != nil || len(hits) != 1 || hits[0].Video.ID != id {
		t.Fatalf("Search (with a typo) after reopening = %v, %v", hits, err)
	}
	jobs, err := again.PendingOutbox(ctx, 10)
	if err != nil || len(jobs) != 2 || jobs[0].VideoID != id || jobs[1].VideoID != pending {
		t.Fatalf("PendingOutbox after reopening = %+v, %v; want the two unsent jobs", jobs, err)
	}
}

// Many goroutines writing at once queue for the write lock instead of
// failing with "database is locked", and readers carry on meanwhile.
func TestConcurrentWritersNeverBusy(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cloudflix.db")
	s := openAt(t, path)
	ctx := testCtx(t)
	const writers, each = 16, 10
	errs := make(chan error, writers*each+writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := uuid.NewString()
				err := s.CreateVideo(ctx, video.Video{ID: id, Title: fmt.Sprintf("Writer %d video %d", w, i)},
					video.UploadSession{UploadID: "u", ObjectKey: video.SourceKey(id), ExpiresAt: time.Now()})
				if err == nil {
					_, err = s.MarkUploaded(ctx, id)
				}
				if err == nil {
					_, err = s.Video(ctx, id)
				}
				if err != nil {
					errs <- err
				}
			}
			if _, err := s.LatestVideos(ctx, 10, video.ListPosition{}); err != nil {
				errs <- err
			}
		})
	}
	// A second store on the same file is another process's writer: it
	// waits for the lock too.
	other := openAt(t, path)
	wg.Go(func() {
		for range each {
			if _, err := other.RequeueStuck(ctx, time.Hour); err != nil {
				errs <- err
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write: %v", err)
	}
	jobs, err := s.PendingOutbox(ctx, 1000)
	if err != nil || len(jobs) != writers*each {
		t.Fatalf("PendingOutbox = %d jobs, %v; want %d", len(jobs), err, writers*each)
	}
}

// pragma reads a PRAGMA's value through db.
func pragma(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	var v string
	if err := db.QueryRowContext(testCtx(t), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestWALAndPragmas(t *testing.T) {
	t.Parallel()
	s := open(t)
	for _, db := range []struct {
		name string
		db   *sql.DB
	}{{"writer", s.w}, {"reader", s.r}} {
		for _, p := range []struct{ name, want string }{
			{"journal_mode", "wal"},
			{"foreign_keys", "1"},
			{"busy_timeout", "5000"},
			{"synchronous", "1"}, // NORMAL
		} {
			if got := pragma(t, db.db, p.name); !strings.EqualFold(got, p.want) {
				t.Fatalf("%s: PRAGMA %s = %q, want %q", db.name, p.name, got, p.want)
			}
		}
	}
	// Readers cannot write, even by mistake.
	if _, err := s.r.ExecContext(testCtx(t), "DELETE FROM videos"); err == nil {
		t.Fatal("a write through the read connections succeeded")
	}
}

// migrateTogether opens three stores on the file at path, as processes
// starting together do, and has each migrate it twice, all at once.
func migrateTogether(t *testing.T, path string) []*Store {
	t.Helper()
	var stores []*Store
	for range 3 {
		s, err := Open(testCtx(t), Options{Path: path})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Go(func() { errs[i] = stores[i%len(stores)].Migrate(testCtx(t)) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Migrate: %v", err)
		}
	}
	if v := pragma(t, stores[0].w, "user_version"); v != fmt.Sprint(len(migrations)) {
		t.Fatalf("user_version after migrating = %s, want %d", v, len(migrations))
	}
	return stores
}

// Processes starting together on one file all migrate it at once.
func TestConcurrentMigrate(t *testing.T) {
	t.Parallel()
	stores := migrateTogether(t, filepath.Join(t.TempDir(), "cloudflix.db"))
	readyVideo(t, stores[0], "Migrated once", "")
	if hits, err := stores[1].Search(testCtx(t), "migrated", 10, 0); err != nil || len(hits) != 1 {
		t.Fatalf("Search through another store = %v, %v", hits, err)
	}
}

func TestOpenPaths(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	if s, err := Open(ctx, Options{}); err == nil {
		s.Close()
		t.Fatal("Open without a path succeeded")
	}
	if s, err := Open(ctx, Options{Path: filepath.Join(t.TempDir(), "missing", "dir", "x.db")}); err == nil {
		s.Close()
		t.Fatal("Open in a missing directory succeeded")
	}
	// Characters that mean something in a URI are part of the file name.
	dir := filepath.Join(t.TempDir(), "odd?dir#1")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "cloud 100%?.db")
	s := openAt(t, path)
	readyVideo(t, s, "Odd path", "")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not at %q: %v", path, err)
	}
}

// A duplicate id is the caller's mistake, as a malformed one is.
func TestCreateDuplicateIsInvalid(t *testing.T) {
	t.Parallel()
	s := open(t)
	id := newVideo(t, s, "First", "")
	err := s.CreateVideo(testCtx(t), video.Video{ID: id, Title: "Second"},
		video.UploadSession{UploadID: "u", ObjectKey: video.SourceKey(id), ExpiresAt: time.Now()})
	if !video.IsInvalid(err) {
		t.Fatalf("CreateVideo with an existing id: got %v, want an invalid-input error", err)
	}
}

// Write transactions take the write lock when they begin (BEGIN IMMEDIATE),
// not at their first write: a transaction that reads before it writes then
// waits for another process's writer instead of failing midway.
func TestWriteTransactionsLockAtBegin(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "cloudflix.db")
	s := openAt(t, path)
	ctx := testCtx(t)
	// Another process's connection that does not wait for locks.
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tryWrite := func() error {
		conn, err := other.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
			return err
		}
		_, err = conn.ExecContext(ctx, "ROLLBACK")
		return err
	}

	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tryWrite(); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("another writer while a write transaction is open: got %v, want database is locked", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := tryWrite(); err != nil {
		t.Fatalf("another writer after commit: %v", err)
	}
}

// schemaBeforeAccounts is the SQLite schema as it was before accounts,
// before the schema had versions.
//
//go:embed testdata/schema_0a97faf.sql
var schemaBeforeAccounts string

// A file from before accounts is migrated in place, by processes of the new
// version starting together.
func TestUpgradeFromBeforeAccounts(t *testing.T) {
	t.Parallel()
	storetest.Upgrade(t, func(t *testing.T) (storetest.Store, string) {
		path := filepath.Join(t.TempDir(), "cloudflix.db")
		ctx := testCtx(t)
		db, err := sql.Open("sqlite", dsn(path, false))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, schemaBeforeAccounts); err != nil {
			t.Fatalf("the old schema: %v", err)
		}
		id := uuid.NewString()
		tags := []string{"coast"}
		words, err := json.Marshal(documentWords(storetest.LegacyTitle, tags, storetest.LegacyDescription))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UnixMicro()
		if _, err := db.ExecContext(ctx, `
			INSERT INTO videos (id, title, description, tags, words, state, progress, size_bytes, content_type, created_at, updated_at)
			VALUES (?, ?, ?, '["coast"]', ?, 'ready', 1, ?, 'video/mp4', ?, ?)`,
			id, storetest.LegacyTitle, storetest.LegacyDescription, string(words), storetest.LegacySize, now, now); err != nil {
			t.Fatalf("a video with the old schema: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		return migrateTogether(t, path)[1], id
	})
}

// A file that a newer build has migrated is left alone: this build would
// not know what its tables mean.
func TestMigrateRefusesANewerSchema(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := testCtx(t)
	newer := len(migrations) + 1
	if _, err := s.w.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", newer)); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Migrate of a newer schema: got %v, want a refusal", err)
	}
	if v := pragma(t, s.w, "user_version"); v != fmt.Sprint(newer) {
		t.Fatalf("user_version after a refused Migrate = %s, want %d", v, newer)
	}
}

// A version that fails leaves the file as it was, at its old version.
func TestFailedMigrationChangesNothing(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := testCtx(t)
	failing := append(slices.Clip(migrations), "CREATE TABLE half_done (x INTEGER); SELECT no_such_function();")
	if err := s.migrate(ctx, failing); err == nil {
		t.Fatal("a migration with a failing version succeeded")
	}
	if v := pragma(t, s.w, "user_version"); v != fmt.Sprint(len(migrations)) {
		t.Fatalf("user_version after a failed migration = %s, want %d", v, len(migrations))
	}
	var n int
	if err := s.w.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE name = 'half_done'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("a failed version left %d tables, %v", n, err)
	}
}

func TestMigrationsAreNumberedInOrder(t *testing.T) {
	t.Parallel()
	for _, names := range [][]string{
		{"migrations/001_a.sql", "migrations/003_b.sql"},
		{"migrations/001_a.sql", "migrations/001_b.sql"},
		{"migrations/a.sql"},
		{"migrations/000_a.sql"},
	} {
		fsys := fstest.MapFS{}
		for _, n := range names {
			fsys[n] = &fstest.MapFile{Data: []byte("SELECT 1;")}
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("migrations %q loaded", names)
				}
			}()
			mustLoadMigrations(fsys)
		}()
	}
	got := mustLoadMigrations(fstest.MapFS{
		"migrations/002_b.sql": {Data: []byte("two")},
		"migrations/001_a.sql": {Data: []byte("one")},
	})
	if !slices.Equal(got, []string{"one", "two"}) {
		t.Fatalf("migrations = %q", got)
	}
}

var _ store.Store = (*Store)(nil)
