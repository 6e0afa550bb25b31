// Package sqlitestore is the embedded adapter of CloudFlix's metadata store:
// videos, upload sessions, the encode outbox and full-text search in one
// SQLite file, through a pure-Go driver (no cgo), for the single-process
// install. It keeps the very contract of the PostgreSQL adapter
// (internal/store/storetest proves both).
//
// Every write runs in a BEGIN IMMEDIATE transaction on the store's single
// write connection, so writers queue in the process instead of failing with
// "database is locked", and reads run in parallel on their own connections
// (WAL). As in PostgreSQL, every change of a video's state is one conditional
// UPDATE with the expected state (and, for encodes, the lease owner) in its
// WHERE clause. It must never build SQL or an FTS5 query from caller input
// beyond the quoted, sanitised words of a search query.
package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/webhook"
)

// Options configure Open.
type Options struct {
	Path string // the database file; created when missing
}

// Store is the SQLite metadata store. It is safe for concurrent use, and
// other processes may open the same file (they wait for each other's writes
// up to busyTimeout).
type Store struct {
	w *sql.DB // one connection: every write transaction, in turn
	r *sql.DB // read-only connections for single-statement reads

	mu       sync.Mutex
	prepared map[string]*sql.Stmt // of the readers, by their SQL
}

// What each reader connection maps of the database file and caches of it.
const (
	readerMmapBytes  = 1 << 30
	readerCacheBytes = 16 << 20
)

// busyTimeout is how long a statement waits for another process's write
// lock before giving up; within one process writers queue on the write
// connection instead.
const busyTimeout = 5 * time.Second

// dsn is the driver's data source name for path. The file: URI form lets a
// path hold any character once '%', '?' and '#' are escaped.
func dsn(path string, readOnly bool) string {
	q := []string{
		fmt.Sprintf("_pragma=busy_timeout(%d)", busyTimeout.Milliseconds()),
		"_pragma=foreign_keys(1)",
		"_pragma=synchronous(NORMAL)",
	}
	if readOnly {
		// Readers map the file rather than read it page by page with a
		// system call each, and keep more of it cached.
		q = append(q, "_pragma=query_only(1)", fmt.Sprintf("_pragma=mmap_size(%d)", readerMmapBytes),
			fmt.Sprintf("_pragma=cache_size(-%d)", readerCacheBytes>>10))
	} else {
		// journal_mode is a property of the file; the writer, opened first,
		// sets it for every connection.
		q = append(q, "_pragma=journal_mode(WAL)", "_txlock=immediate")
	}
	return fileURI(path) + "?" + strings.Join(q, "&")
}

// fileURI is path as a file: URI.
func fileURI(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}

// Open opens (creating when missing) the database file at o.Path, in WAL
// mode, and checks that it answers. Store.Migrate creates the tables.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.Path == "" {
		return nil, errors.New("sqlitestore: open: no database path")
	}
	w, err := sql.Open("sqlite", dsn(o.Path, false))
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", o.Path, err)
	}
	w.SetMaxOpenConns(1)
	// Keep the one connection: reopening it would re-run the pragmas.
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	// Connect the writer first so that the file exists in WAL mode before
	// any reader opens it.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", o.Path, err)
	}
	r, err := sql.Open("sqlite", dsn(o.Path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", o.Path, err)
	}
	// Each connection has its own page cache: bound them.
	readers := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	s := &Store{w: w, r: r}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// query runs a read that the store makes often (a search's) as a statement
// the readers prepare once, rather than parse it every time.
func (s *Store) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s.mu.Lock()
	stmt, ok := s.prepared[query]
	if !ok {
		var err error
		if stmt, err = s.r.PrepareContext(ctx, query); err != nil {
			s.mu.Unlock()
			return nil, err
		}
		if s.prepared == nil {
			s.prepared = map[string]*sql.Stmt{}
		}
		s.prepared[query] = stmt
	}
	s.mu.Unlock()
	return stmt.QueryContext(ctx, args...)
}

// Close closes the database, waiting for statements in progress.
func (s *Store) Close() error {
	s.mu.Lock()
	var errs []error
	for _, stmt := range s.prepared {
		errs = append(errs, stmt.Close())
	}
	s.prepared = nil
	s.mu.Unlock()
	if err := errors.Join(append(errs, s.r.Close(), s.w.Close())...); err != nil {
		return fmt.Errorf("sqlitestore: close: %w", err)
	}
	return nil
}

// Ping implements [store.Store.Ping]: both the readers and the writer
// answer.
func (s *Store) Ping(ctx context.Context) error {
	if err := errors.Join(s.r.PingContext(ctx), s.w.PingContext(ctx)); err != nil {
		return fmt.Errorf("sqlitestore: ping: %w", err)
	}
	return nil
}

// write runs fn in a write transaction (BEGIN IMMEDIATE, on the single write
// connection) and commits it when fn returns nil. now, in Unix microseconds,
// is read once the transaction holds the write lock: every statement of fn
// uses the same time, and times grow in commit order.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx, now int64) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx, time.Now().UnixMicro()); err != nil {
		// ErrTxDone: the context was cancelled and database/sql has rolled
		// back already.
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, rbErr)
		}
		return err
	}
	return tx.Commit()
}

// fromUnixMicros is a time as the schema keeps it, in Unix microseconds
// (time.Time.UnixMicro), back in UTC.
func fromUnixMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// videoColumns is what scanVideo reads, in order, of videos (unaliased). The
// owner's username is a subquery rather than a join so that an UPDATE's
// RETURNING reads it too.
const videoColumns = `id, coalesce(owner_id, ''),
	coalesce((SELECT o.username FROM users o WHERE o.id = videos.owner_id), ''), privacy,
	title, description, tags, state, failure_reason, progress,
	duration_seconds, width, height, renditions, views, size_bytes, content_type,
	created_at, updated_at, likes, comments, comments_off, hidden_at, hidden_reason, playable_seconds`

// scanner is what both *sql.Row and *sql.Rows offer.
type scanner interface {
	Scan(dest ...any) error
}

// scanVideo reads a row of videoColumns, then extra. Tags are a JSON array
// and times Unix microseconds in this schema.
func scanVideo(row scanner, extra ...any) (video.Video, error) {
	var (
		v                    video.Video
		tags, renditions     []byte
		createdAt, updatedAt int64
		hiddenAt             sql.NullInt64
	)
	dest := append([]any{&v.ID, &v.OwnerID, &v.OwnerName, &v.Privacy,
		&v.Title, &v.Description, &tags, &v.State, &v.FailureReason, &v.Progress,
		&v.DurationSeconds, &v.Width, &v.Height, &renditions, &v.Views, &v.SizeBytes, &v.ContentType,
		&createdAt, &updatedAt, &v.Likes, &v.Comments, &v.CommentsOff, &hiddenAt, &v.HiddenReason, &v.PlayableSeconds}, extra...)
	if err := row.Scan(dest...); err != nil {
		return video.Video{}, err
	}
	if err := json.Unmarshal(tags, &v.Tags); err != nil {
		return video.Video{}, fmt.Errorf("tags of %s: %w", v.ID, err)
	}
	v.CreatedAt, v.UpdatedAt = fromUnixMicros(createdAt), fromUnixMicros(updatedAt)
	if hiddenAt.Valid {
		v.HiddenAt = fromUnixMicros(hiddenAt.Int64)
	}
	return store.ScannedVideo(v, renditions)
}

func collectVideos(rows *sql.Rows) ([]video.Video, error) {
	defer rows.Close()
	var vs []video.Video
	for rows.Next() {
		v, err := scanVideo(rows)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, rows.Err()
}

// whyNot looks up why a conditional UPDATE matched no row; store.WhyNot
// says what that means.
func whyNot(ctx context.Context, tx *sql.Tx, id string, deletedIsGone bool) error {
	var state video.State
	err := tx.QueryRowContext(ctx, "SELECT state FROM videos WHERE id = ?", id).Scan(&state)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return store.WhyNot(state, err == nil, deletedIsGone)
}

// whyNotReencode looks up why Reencode matched no row.
func whyNotReencode(ctx context.Context, tx *sql.Tx, id string) error {
	var (
		state   video.State
		dropped bool
	)
	err := tx.QueryRowContext(ctx, "SELECT state, source_removed_at IS NOT NULL FROM videos WHERE id = ?", id).Scan(&state, &dropped)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return store.WhyNotReencode(state, err == nil, dropped)
}

// resultCode is the extended result code of SQLite's refusal err, which
// tells a UNIQUE constraint from a PRIMARY KEY or FOREIGN KEY one; 0 for any
// other error.
func resultCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// isUniqueViolation reports whether err is SQLite refusing a duplicate key.
func isUniqueViolation(err error) bool {
	c := resultCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// CreateVideo implements [store.Store.CreateVideo].
func (s *Store) CreateVideo(ctx context.Context, v video.Video, u video.UploadSession) error {
	v, u, err := store.NewVideo(v, u)
	if err != nil {
		return err
	}
	tagsJSON, err := json.Marshal(v.Tags)
	if err != nil {
		return fmt.Errorf("create video %s: %w", v.ID, err)
	}
	wordsJSON, err := json.Marshal(documentWords(v.Title, v.Tags, v.Description))
	if err != nil {
		return fmt.Errorf("create video %s: %w", v.ID, err)
	}
	err = s.write(ctx, func(tx *sql.Tx, now int64) error {
		createdAt := now
		if !v.CreatedAt.IsZero() {
			createdAt = v.CreatedAt.UnixMicro()
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO videos (id, owner_id, privacy, title, description, tags, words, state, size_bytes, content_type, created_at, updated_at)
			VALUES (?, nullif(?, ''), ?, ?, ?, ?, ?, 'uploading', ?, ?, ?, ?)`,
			v.ID, v.OwnerID, v.Privacy, v.Title, v.Description, string(tagsJSON), string(wordsJSON), v.SizeBytes, v.ContentType, createdAt, now)
		switch {
		case isUniqueViolation(err):
			return video.Invalid("video %s already exists", v.ID)
		case resultCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return video.Invalid("owner %s is no user", v.OwnerID)
		case err != nil:
			return err
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO upload_sessions (video_id, upload_id, object_key, size_bytes, part_size, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`,
			u.VideoID, u.UploadID, u.ObjectKey, u.SizeBytes, u.PartSize, u.ExpiresAt.UnixMicro())
		return err
	})
	if err != nil {
		return fmt.Errorf("create video %s: %w", v.ID, err)
	}
	return nil
}

// UploadSession implements [store.Store.UploadSession].
func (s *Store) UploadSession(ctx context.Context, videoID string) (video.UploadSession, error) {
	if !store.ValidID(videoID) {
		return video.UploadSession{}, fmt.Errorf("upload session %s: %w", videoID, video.ErrNotFound)
	}
	var (
		u         video.UploadSession
		owner     sql.NullString
		expiresAt int64
	)
	err := s.r.QueryRowContext(ctx, `
		SELECT u.video_id, v.owner_id, u.upload_id, u.object_key, u.size_bytes, u.part_size, u.expires_at
		FROM upload_sessions u JOIN videos v ON v.id = u.video_id WHERE u.video_id = ?`, videoID).
		Scan(&u.VideoID, &owner, &u.UploadID, &u.ObjectKey, &u.SizeBytes, &u.PartSize, &expiresAt)
	u.OwnerID = owner.String
	if errors.Is(err, sql.ErrNoRows) {
		err = video.ErrNotFound
	}
	if err != nil {
		return video.UploadSession{}, fmt.Errorf("upload session %s: %w", videoID, err)
	}
	u.ExpiresAt = fromUnixMicros(expiresAt)
	return u, nil
}

// MarkUploaded implements [store.Store.MarkUploaded].
func (s *Store) MarkUploaded(ctx context.Context, videoID string) (video.Video, error) {
	if !store.ValidID(videoID) {
		return video.Video{}, fmt.Errorf("mark %s uploaded: %w", videoID, video.ErrNotFound)
	}
	var v video.Video
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		var err error
		v, err = scanVideo(tx.QueryRowContext(ctx, `
			UPDATE videos SET state = 'uploaded', updated_at = ?2
			WHERE id = ?1 AND state = 'uploading'
			RETURNING `+videoColumns, videoID, now))
		if errors.Is(err, sql.ErrNoRows) {
			return whyNot(ctx, tx, videoID, true)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM upload_sessions WHERE video_id = ?", videoID); err != nil {
			return err
		}
		return insertJob(ctx, tx, videoID, now, now, store.TraceParent(ctx))
	})
	if err != nil {
		return video.Video{}, fmt.Errorf("mark %s uploaded: %w", videoID, err)
	}
	return v, nil
}

// insertJob writes an encode job for videoID to the outbox, due at availableAt.
func insertJob(ctx context.Context, tx *sql.Tx, videoID string, now, availableAt int64, traceParent string) error {
	_, err := tx.ExecContext(ctx, `
		INSERT INTO outbox (video_id, created_at, available_at, trace_parent) VALUES (?, ?, ?, ?)`,
		videoID, now, availableAt, traceParent)
	return err
}

// DeleteVideo implements [store.Store.DeleteVideo].
func (s *Store) DeleteVideo(ctx context.Context, videoID string) (video.Video, error) {
	if !store.ValidID(videoID) {
		return video.Video{}, fmt.Errorf("delete video %s: %w", videoID, video.ErrNotFound)
	}
	var v video.Video
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		var err error
		// The write transaction holds the database's only write lock, so
		// the row cannot change between this read and the update.
		v, err = scanVideo(tx.QueryRowContext(ctx, `
			SELECT `+videoColumns+` FROM videos WHERE id = ? AND state <> 'deleted'`, videoID))
		if errors.Is(err, sql.ErrNoRows) {
			return video.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE videos SET state = 'deleted', lease_owner = NULL, lease_until = NULL, updated_at = ?2
			WHERE id = ?1`, videoID, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM upload_sessions WHERE video_id = ?", videoID); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, "DELETE FROM outbox WHERE video_id = ? AND sent_at IS NULL", videoID); err != nil {
			return err
		}
		return insertVideoEvent(ctx, tx, webhook.VideoDeleted, v, now)
	})
	if err != nil {
		return video.Video{}, fmt.Errorf("delete video %s: %w", videoID, err)
	}
	return v, nil
}

// Video implements [store.Store.Video].
func (s *Store) Video(ctx context.Context, id string) (video.Video, error) {
	if !store.ValidID(id) {
		return video.Video{}, fmt.Errorf("video %s: %w", id, video.ErrNotFound)
	}
	v, err := scanVideo(s.r.QueryRowContext(ctx, `
		SELECT `+videoColumns+` FROM videos WHERE id = ? AND state <> 'deleted'`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = video.ErrNotFound
	}
	if err != nil {
		return video.Video{}, fmt.Errorf("video %s: %w", id, err)
	}
	return v, nil
}

// LatestVideos implements [store.Store.LatestVideos].
func (s *Store) LatestVideos(ctx context.Context, limit int, after video.ListPosition) ([]video.Video, error) {
	vs, err := s.listVideos(ctx, limit, after, store.ListedSQL)
	if err != nil {
		return nil, fmt.Errorf("latest videos: %w", err)
	}
	return vs, nil
}

// ChannelVideos implements [store.Store.ChannelVideos]. An owner that is
// not a UUID has no videos.
func (s *Store) ChannelVideos(ctx context.Context, owner string, everything bool, limit int, after video.ListPosition) ([]video.Video, error) {
	filter := "owner_id = ?2 AND " + store.ListedSQL
	if everything {
		filter = "owner_id = ?2 AND state <> 'deleted'"
	}
	if err := store.CheckListPosition(after); err != nil || !store.ValidID(owner) {
		return nil, err
	}
	vs, err := s.listVideos(ctx, limit, after, filter, owner)
	if err != nil {
		return nil, fmt.Errorf("videos of %s: %w", owner, err)
	}
	return vs, nil
}

// listVideos returns up to limit videos that match filter, newest first,
// strictly after the position `after` as LatestVideos says. filter's
// parameters are args, from ?2 on: ?1 is the limit.
func (s *Store) listVideos(ctx context.Context, limit int, after video.ListPosition, filter string, args ...any) ([]video.Video, error) {
	if err := store.CheckListPosition(after); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	args = append([]any{limit}, args...)
	switch {
	case after.CreatedAt.IsZero():
	case after.ID == "":
		args = append(args, after.CreatedAt.UnixMicro())
		filter += fmt.Sprintf(" AND created_at < ?%d", len(args))
	default:
		args = append(args, after.CreatedAt.UnixMicro(), after.ID)
		filter += fmt.Sprintf(" AND (created_at, id) < (?%d, ?%d)", len(args)-1, len(args))
	}
	rows, err := s.r.QueryContext(ctx, `
		SELECT `+videoColumns+` FROM videos WHERE `+filter+`
		ORDER BY created_at DESC, id DESC LIMIT ?1`, args...)
	if err != nil {
		return nil, err
	}
	return collectVideos(rows)
}

// UploadUsage implements [store.Store.UploadUsage]. An owner that is not a
// UUID has used nothing.
func (s *Store) UploadUsage(ctx context.Context, owner string, since time.Time) (stored, uploaded int64, err error) {
	if !store.ValidID(owner) {
		return 0, 0, nil
	}
	err = s.r.QueryRowContext(ctx, `
		SELECT coalesce(sum(size_bytes) FILTER (WHERE state <> 'deleted'), 0),
			coalesce(sum(size_bytes) FILTER (WHERE created_at >= ?2), 0)
		FROM videos WHERE owner_id = ?1`, owner, since.UnixMicro()).Scan(&stored, &uploaded)
	if err != nil {
		return 0, 0, fmt.Errorf("upload usage of %s: %w", owner, err)
	}
	return stored, uploaded, nil
}

// UpdateVideo implements [store.Store.UpdateVideo]: the video is read,
// changed and written back under the write lock, since its words column
// follows its text.
func (s *Store) UpdateVideo(ctx context.Context, id string, change video.Change) (video.Video, error) {
	c, err := store.CheckVideoChange(change)
	if err != nil {
		return video.Video{}, fmt.Errorf("update video %s: %w", id, err)
	}
	if !store.ValidID(id) {
		return video.Video{}, fmt.Errorf("update video %s: %w", id, video.ErrNotFound)
	}
	var v video.Video
	err = s.write(ctx, func(tx *sql.Tx, now int64) error {
		was, err := scanVideo(tx.QueryRowContext(ctx, `
			SELECT `+videoColumns+` FROM videos WHERE id = ? AND state <> 'deleted'`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return video.ErrNotFound
		}
		if err != nil {
			return err
		}
		v = store.ChangedVideo(was, c)
		tagsJSON, err := json.Marshal(nonNil(v.Tags))
		if err != nil {
			return err
		}
		wordsJSON, err := json.Marshal(documentWords(v.Title, v.Tags, v.Description))
		if err != nil {
			return err
		}
		v, err = scanVideo(tx.QueryRowContext(ctx, `
			UPDATE videos SET title = ?2, description = ?3, tags = ?4, words = ?5, privacy = ?6,
				comments_off = ?7, updated_at = ?8
			WHERE id = ?1 RETURNING `+videoColumns,
			id, v.Title, v.Description, string(tagsJSON), string(wordsJSON), v.Privacy, v.CommentsOff, now))
		return err
	})
	if err != nil {
		return video.Video{}, fmt.Errorf("update video %s: %w", id, err)
	}
	return v, nil
}

// nonNil is tags as a list to store: none is an empty list, never null.
func nonNil(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return tags
}

// AddViews implements [store.Store.AddViews].
func (s *Store) AddViews(ctx context.Context, counts map[string]int64) error {
	ids, ns := store.ViewCounts(counts)
	if len(ids) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		stmt, err := tx.PrepareContext(ctx, `
			UPDATE videos SET views = views + ?2, updated_at = ?3, trending = `+trendSum("trending", "?4")+`
			WHERE id = ?1`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		points := store.ViewPoints(ns, fromUnixMicros(now))
		for i, id := range ids {
			if _, err := stmt.ExecContext(ctx, id, ns[i], now, points[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add views: %w", err)
	}
	return nil
}

// ClaimEncode implements [store.Store.ClaimEncode].
func (s *Store) ClaimEncode(ctx context.Context, id, worker string, lease time.Duration) (video.Claim, error) {
	if !store.ValidID(id) {
		return video.Claim{}, fmt.Errorf("claim encode of %s: %w", id, video.ErrNotFound)
	}
	var c video.Claim
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		var err error
		c.Video, err = scanVideo(tx.QueryRowContext(ctx, `
			UPDATE videos SET state = 'processing', lease_owner = ?2, lease_until = ?3 + ?4,
				progress = 0, playable_seconds = 0, encode_attempts = encode_attempts + 1, updated_at = ?3
			WHERE id = ?1 AND (state = 'uploaded' OR (state = 'processing' AND lease_until < ?3))
			RETURNING `+videoColumns+`, encode_attempts`, id, worker, now, lease.Microseconds()), &c.Attempt)
		if errors.Is(err, sql.ErrNoRows) {
			return whyNot(ctx, tx, id, false)
		}
		return err
	})
	if err != nil {
		return video.Claim{}, fmt.Errorf("claim encode of %s: %w", id, err)
	}
	return c, nil
}

// leaseHeld is the guard of every write by the worker holding an encode.
const leaseHeld = `id = ?1 AND state = 'processing' AND lease_owner = ?2`

// RenewLease implements [store.Store.RenewLease].
func (s *Store) RenewLease(ctx context.Context, id, worker string, lease time.Duration) error {
	if err := s.execHeld(ctx, id, worker, `
		UPDATE videos SET lease_until = ?3 + ?4, updated_at = ?3 WHERE `+leaseHeld, lease.Microseconds()); err != nil {
		return fmt.Errorf("renew lease on %s: %w", id, err)
	}
	return nil
}

// SetProgress implements [store.Store.SetProgress].
func (s *Store) SetProgress(ctx context.Context, id, worker string, progress float64) error {
	progress = min(max(progress, 0), 1)
	if err := s.execHeld(ctx, id, worker, `
		UPDATE videos SET progress = ?4, updated_at = ?3 WHERE `+leaseHeld, progress); err != nil {
		return fmt.Errorf("set progress of %s: %w", id, err)
	}
	return nil
}

// execHeld runs a leaseHeld UPDATE whose parameters are id, worker, now and
// arg, giving ErrLeaseLost when it changed nothing.
func (s *Store) execHeld(ctx context.Context, id, worker, query string, arg any) error {
	if !store.ValidID(id) {
		return video.ErrLeaseLost
	}
	return s.write(ctx, func(tx *sql.Tx, now int64) error {
		res, err := tx.ExecContext(ctx, query, id, worker, now, arg)
		return changed(res, err, video.ErrLeaseLost)
	})
}

// changed is the error of a statement (its result and error) that must
// change a row: its own, or none when it changed no row.
func changed(res sql.Result, err, none error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return none
	}
	return nil
}

// MarkReady implements [store.Store.MarkReady].
func (s *Store) MarkReady(ctx context.Context, id, worker string, e video.Encoded) (video.Video, error) {
	renditions, err := store.EncodeRenditions(e.Renditions)
	if err != nil {
		return video.Video{}, fmt.Errorf("mark %s ready: %w", id, err)
	}
	v, err := s.finishHeld(ctx, id, worker, webhook.VideoReady, `
		UPDATE videos SET state = 'ready', progress = 1, failure_reason = '',
			duration_seconds = ?4, width = ?5, height = ?6, renditions = ?7,
			lease_owner = NULL, lease_until = NULL, updated_at = ?3
		WHERE `+leaseHeld+` RETURNING `+videoColumns,
		e.DurationSeconds, e.Width, e.Height, string(renditions))
	if err != nil {
		return video.Video{}, fmt.Errorf("mark %s ready: %w", id, err)
	}
	return v, nil
}

// MarkFailed implements [store.Store.MarkFailed].
func (s *Store) MarkFailed(ctx context.Context, id, worker, reason string) (video.Video, error) {
	v, err := s.finishHeld(ctx, id, worker, webhook.VideoFailed, `
		UPDATE videos SET state = 'failed', failure_reason = ?4,
			lease_owner = NULL, lease_until = NULL, updated_at = ?3
		WHERE `+leaseHeld+` RETURNING `+videoColumns, reason)
	if err != nil {
		return video.Video{}, fmt.Errorf("mark %s failed: %w", id, err)
	}
	return v, nil
}

// finishHeld runs a leaseHeld UPDATE … RETURNING whose parameters are id,
// worker, now and args, giving ErrLeaseLost when it changed nothing, and
// writes the webhook event it announces in the same transaction.
func (s *Store) finishHeld(ctx context.Context, id, worker string, event webhook.EventType, query string, args ...any) (video.Video, error) {
	if !store.ValidID(id) {
		return video.Video{}, video.ErrLeaseLost
	}
	var v video.Video
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		var err error
		v, err = scanVideo(tx.QueryRowContext(ctx, query, append([]any{id, worker, now}, args...)...))
		if errors.Is(err, sql.ErrNoRows) {
			return video.ErrLeaseLost
		}
		if err != nil {
			return err
		}
		return insertVideoEvent(ctx, tx, event, v, now)
	})
	return v, err
}

// ReleaseEncode implements [store.Store.ReleaseEncode].
func (s *Store) ReleaseEncode(ctx context.Context, id, worker string, retryAfter time.Duration) error {
	if !store.ValidID(id) {
		return fmt.Errorf("release encode of %s: %w", id, video.ErrLeaseLost)
	}
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE videos SET state = 'uploaded', progress = 0,
				lease_owner = NULL, lease_until = NULL, updated_at = ?3
			WHERE `+leaseHeld, id, worker, now)
		if err := changed(res, err, video.ErrLeaseLost); err != nil {
			return err
		}
		return insertJob(ctx, tx, id, now, now+max(retryAfter, 0).Microseconds(), store.TraceParent(ctx))
	})
	if err != nil {
		return fmt.Errorf("release encode of %s: %w", id, err)
	}
	return nil
}

// Reencode implements [store.Store.Reencode].
func (s *Store) Reencode(ctx context.Context, id string) (video.Video, error) {
	if !store.ValidID(id) {
		return video.Video{}, fmt.Errorf("re-encode %s: %w", id, video.ErrNotFound)
	}
	var v video.Video
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		var err error
		v, err = scanVideo(tx.QueryRowContext(ctx, `
			UPDATE videos SET state = 'uploaded', failure_reason = '', progress = 0,
				encode_attempts = 0, updated_at = ?2
			WHERE id = ?1 AND state IN ('ready', 'failed') AND source_removed_at IS NULL
			RETURNING `+videoColumns, id, now))
		if errors.Is(err, sql.ErrNoRows) {
			return whyNotReencode(ctx, tx, id)
		}
		if err != nil {
			return err
		}
		return insertJob(ctx, tx, id, now, now, store.TraceParent(ctx))
	})
	if err != nil {
		return video.Video{}, fmt.Errorf("re-encode %s: %w", id, err)
	}
	return v, nil
}

// PendingOutbox implements [store.Store.PendingOutbox].
func (s *Store) PendingOutbox(ctx context.Context, limit int) ([]video.OutboxEntry, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, `
		SELECT id, video_id, created_at, trace_parent FROM outbox
		WHERE sent_at IS NULL AND available_at <= ?1
		ORDER BY available_at, id LIMIT ?2`, time.Now().UnixMicro(), limit)
	if err != nil {
		return nil, fmt.Errorf("pending outbox: %w", err)
	}
	defer rows.Close()
	var entries []video.OutboxEntry
	for rows.Next() {
		var (
			e         video.OutboxEntry
			createdAt int64
		)
		if err := rows.Scan(&e.ID, &e.VideoID, &createdAt, &e.TraceParent); err != nil {
			return nil, fmt.Errorf("pending outbox: %w", err)
		}
		e.CreatedAt = fromUnixMicros(createdAt)
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending outbox: %w", err)
	}
	return entries, nil
}

// MarkOutboxSent implements [store.Store.MarkOutboxSent].
func (s *Store) MarkOutboxSent(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE outbox SET sent_at = ?2 WHERE id = ?1 AND sent_at IS NULL`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, id := range ids {
			if _, err := stmt.ExecContext(ctx, id, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mark outbox sent: %w", err)
	}
	return nil
}

// RequeueStuck implements [store.Store.RequeueStuck].
func (s *Store) RequeueStuck(ctx context.Context, uploadedFor time.Duration) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO outbox (video_id, created_at, available_at)
			SELECT v.id, ?1, ?1 FROM videos v
			WHERE ((v.state = 'uploaded' AND v.updated_at < ?1 - ?2)
			    OR (v.state = 'processing' AND v.lease_until < ?1))
			  AND NOT EXISTS (
				SELECT 1 FROM outbox o WHERE o.video_id = v.id
				AND (o.sent_at IS NULL OR o.created_at > ?1 - ?2))
			ORDER BY v.id`, now, max(uploadedFor, 0).Microseconds())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("requeue stuck videos: %w", err)
	}
	return int(n), nil
}

// ExpireLeases implements [store.Store.ExpireLeases].
func (s *Store) ExpireLeases(ctx context.Context, ownerPrefix string) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE videos SET lease_until = min(lease_until, ?1 - 1), updated_at = ?1
			WHERE state = 'processing' AND substr(lease_owner, 1, length(?2)) = ?2`, now, ownerPrefix)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("expire leases of %q: %w", ownerPrefix, err)
	}
	return int(n), nil
}

// EncodeBacklog implements [store.Store.EncodeBacklog].
func (s *Store) EncodeBacklog(ctx context.Context) (int, time.Time, error) {
	var (
		n      int
		oldest sql.NullInt64
	)
	err := s.r.QueryRowContext(ctx, `
		SELECT count(*), min(updated_at) FROM videos WHERE state = 'uploaded'`).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("encode backlog: %w", err)
	}
	if !oldest.Valid {
		return 0, time.Time{}, nil
	}
	return n, fromUnixMicros(oldest.Int64), nil
}

// importRows is how many videos one INSERT of ImportVideos adds: the
// full-text index flushes what it has gathered at the end of each
// statement, so one statement a video would write a segment a video.
const importRows = 500

// importValues is one row of ImportVideos' INSERT.
const importValues = "(?, nullif(?, ''), ?, ?, ?, ?, ?, 'ready', 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

// ImportVideos implements [store.Store.ImportVideos]: INSERTs of up to
// importRows videos each, in one write transaction; the triggers index the
// public ones for search as they arrive.
func (s *Store) ImportVideos(ctx context.Context, vs []video.Video) error {
	vs, err := store.ImportedVideos(vs, time.Now())
	if err != nil {
		return fmt.Errorf("import videos: %w", err)
	}
	err = s.write(ctx, func(tx *sql.Tx, _ int64) error {
		for len(vs) > 0 {
			n := min(len(vs), importRows)
			if err := importChunk(ctx, tx, vs[:n]); err != nil {
				return err
			}
			vs = vs[n:]
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("import videos: %w", err)
	}
	return nil
}

// importChunk inserts vs with one statement.
func importChunk(ctx context.Context, tx *sql.Tx, vs []video.Video) error {
	args := make([]any, 0, 16*len(vs))
	for _, v := range vs {
		tagsJSON, err := json.Marshal(v.Tags)
		if err != nil {
			return err
		}
		wordsJSON, err := json.Marshal(documentWords(v.Title, v.Tags, v.Description))
		if err != nil {
			return err
		}
		renditions, err := store.EncodeRenditions(v.Renditions)
		if err != nil {
			return err
		}
		args = append(args, v.ID, v.OwnerID, v.Privacy, v.Title, v.Description, string(tagsJSON), string(wordsJSON),
			v.DurationSeconds, v.Width, v.Height, string(renditions), v.Views, v.SizeBytes, v.ContentType,
			v.CreatedAt.UnixMicro(), v.UpdatedAt.UnixMicro())
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO videos (id, owner_id, privacy, title, description, tags, words, state, progress,
			duration_seconds, width, height, renditions, views, size_bytes, content_type, created_at, updated_at)
		VALUES `+strings.Repeat(importValues+", ", len(vs)-1)+importValues, args...)
	switch {
	case isUniqueViolation(err):
		return video.Invalid("a video imported already exists (%v)", err)
	case resultCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return video.Invalid("an owner of a video imported is no user")
	}
	return err
}
