// Package pgstore is the PostgreSQL adapter of CloudFlix's metadata store:
// videos, upload sessions, the encode outbox and full-text search, over pgx.
//
// Every change of a video's state is one conditional UPDATE with the expected
// state (and, for encodes, the lease owner) in its WHERE clause, so a repeated
// message or a retried request can never move a video backwards or let two
// workers encode it. It must never build SQL or tsquery text from caller input
// beyond the sanitised words of a search query.
package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/webhook"
)

// Options configure Open.
type Options struct {
	URL      string          // postgres://user@host:port/db?sslmode=...
	MaxConns int32           // pool size; 0 keeps pgxpool's default
	Tracer   pgx.QueryTracer // e.g. an OpenTelemetry tracer; nil for none
}

// Store is the PostgreSQL metadata store. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

// Advisory lock keys; arbitrary constants that only need to differ from each
// other and from anything else locking in the same database.
const (
	migrateLockKey = 0x636c6f7564666c01 // "cloudfl" + 1
	requeueLockKey = 0x636c6f7564666c02
	adoptLockKey   = 0x636c6f7564666c03
)

// Open connects a pool to o.URL and checks that the server answers.
func Open(ctx context.Context, o Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(o.URL)
	if err != nil {
		return nil, fmt.Errorf("pgstore: parse url: %w", err)
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	if o.Tracer != nil {
		cfg.ConnConfig.Tracer = o.Tracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: open pool: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the pool, waiting for connections in use to be returned.
func (s *Store) Close() { s.pool.Close() }

// Ping implements [store.Store.Ping].
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("pgstore: ping: %w", err)
	}
	return nil
}

// videoColumns is what scanVideo reads, in order, of videos (unaliased). The
// owner's username is a subquery rather than a join so that an UPDATE's
// RETURNING reads it too.
const videoColumns = `id::text, coalesce(owner_id::text, ''),
	coalesce((SELECT o.username FROM users o WHERE o.id = videos.owner_id), ''), privacy,
	title, description, tags, state, failure_reason, progress,
	duration_seconds, width, height, renditions, views, size_bytes, content_type,
	created_at, updated_at, likes, comments, comments_off, hidden_at, hidden_reason, playable_seconds`

func scanVideo(row pgx.Row, extra ...any) (video.Video, error) {
	var (
		v          video.Video
		renditions []byte
		hiddenAt   *time.Time
	)
	dest := append([]any{&v.ID, &v.OwnerID, &v.OwnerName, &v.Privacy,
		&v.Title, &v.Description, &v.Tags, &v.State, &v.FailureReason, &v.Progress,
		&v.DurationSeconds, &v.Width, &v.Height, &renditions, &v.Views, &v.SizeBytes, &v.ContentType,
		&v.CreatedAt, &v.UpdatedAt, &v.Likes, &v.Comments, &v.CommentsOff, &hiddenAt, &v.HiddenReason, &v.PlayableSeconds}, extra...)
	if err := row.Scan(dest...); err != nil {
		return video.Video{}, err
	}
	if hiddenAt != nil {
		v.HiddenAt = *hiddenAt
	}
	return store.ScannedVideo(v, renditions)
}

// querier is what both the pool and a transaction offer.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// whyNot looks up why a conditional UPDATE matched no row; store.WhyNot
// says what that means.
func whyNot(ctx context.Context, q querier, id string, deletedIsGone bool) error {
	var state video.State
	err := q.QueryRow(ctx, "SELECT state FROM videos WHERE id = $1", id).Scan(&state)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	return store.WhyNot(state, err == nil, deletedIsGone)
}

// whyNotReencode looks up why Reencode matched no row.
func whyNotReencode(ctx context.Context, q querier, id string) error {
	var (
		state   video.State
		dropped bool
	)
	err := q.QueryRow(ctx, "SELECT state, source_removed_at IS NOT NULL FROM videos WHERE id = $1", id).Scan(&state, &dropped)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return err
	}
	return store.WhyNotReencode(state, err == nil, dropped)
}

// CreateVideo implements [store.Store.CreateVideo].
func (s *Store) CreateVideo(ctx context.Context, v video.Video, u video.UploadSession) error {
	v, u, err := store.NewVideo(v, u)
	if err != nil {
		return err
	}
	var createdAt *time.Time
	if !v.CreatedAt.IsZero() {
		createdAt = &v.CreatedAt
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO videos (id, owner_id, privacy, title, description, tags, state, size_bytes, content_type, created_at, updated_at)
			VALUES ($1, nullif($2, '')::uuid, $3, $4, $5, $6, 'uploading', $7, $8, coalesce($9, now()), now())`,
			v.ID, v.OwnerID, v.Privacy, v.Title, v.Description, v.Tags, v.SizeBytes, v.ContentType, createdAt)
		switch code, _ := pgError(err); {
		case code == uniqueViolation:
			return video.Invalid("video %s already exists", v.ID)
		case code == foreignKeyViolation:
			return video.Invalid("owner %s is no user", v.OwnerID)
		case err != nil:
			return err
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO upload_sessions (video_id, upload_id, object_key, size_bytes, part_size, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			u.VideoID, u.UploadID, u.ObjectKey, u.SizeBytes, u.PartSize, u.ExpiresAt)
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
	var u video.UploadSession
	var owner *string
	err := s.pool.QueryRow(ctx, `
		SELECT u.video_id::text, v.owner_id::text, u.upload_id, u.object_key, u.size_bytes, u.part_size, u.expires_at
		FROM upload_sessions u JOIN videos v ON v.id = u.video_id WHERE u.video_id = $1`, videoID).
		Scan(&u.VideoID, &owner, &u.UploadID, &u.ObjectKey, &u.SizeBytes, &u.PartSize, &u.ExpiresAt)
	if owner != nil {
		u.OwnerID = *owner
	}
	if errors.Is(err, pgx.ErrNoRows) {
		err = video.ErrNotFound
	}
	if err != nil {
		return video.UploadSession{}, fmt.Errorf("upload session %s: %w", videoID, err)
	}
	return u, nil
}

// MarkUploaded implements [store.Store.MarkUploaded].
func (s *Store) MarkUploaded(ctx context.Context, videoID string) (video.Video, error) {
	if !store.ValidID(videoID) {
		return video.Video{}, fmt.Errorf("mark %s uploaded: %w", videoID, video.ErrNotFound)
	}
	var v video.Video
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		v, err = scanVideo(tx.QueryRow(ctx, `
			UPDATE videos SET state = 'uploaded', updated_at = now()
			WHERE id = $1 AND state = 'uploading'
			RETURNING `+videoColumns, videoID))
		if errors.Is(err, pgx.ErrNoRows) {
			return whyNot(ctx, tx, videoID, true)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM upload_sessions WHERE video_id = $1", videoID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO outbox (video_id, trace_parent) VALUES ($1, $2)", videoID, store.TraceParent(ctx))
		return err
	})
	if err != nil {
		return video.Video{}, fmt.Errorf("mark %s uploaded: %w", videoID, err)
	}
	return v, nil
}

// DeleteVideo implements [store.Store.DeleteVideo].
func (s *Store) DeleteVideo(ctx context.Context, videoID string) (video.Video, error) {
	if !store.ValidID(videoID) {
		return video.Video{}, fmt.Errorf("delete video %s: %w", videoID, video.ErrNotFound)
	}
	var v video.Video
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		v, err = scanVideo(tx.QueryRow(ctx, `
			SELECT `+videoColumns+` FROM videos
			WHERE id = $1 AND state <> 'deleted' FOR UPDATE`, videoID))
		if errors.Is(err, pgx.ErrNoRows) {
			return video.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			UPDATE videos SET state = 'deleted', lease_owner = NULL, lease_until = NULL, updated_at = now()
			WHERE id = $1`, videoID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM upload_sessions WHERE video_id = $1", videoID); err != nil {
			return err
		}
		if _, err = tx.Exec(ctx, "DELETE FROM outbox WHERE video_id = $1 AND sent_at IS NULL", videoID); err != nil {
			return err
		}
		return insertVideoEvent(ctx, tx, webhook.VideoDeleted, v)
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
	v, err := scanVideo(s.pool.QueryRow(ctx, `
		SELECT `+videoColumns+` FROM videos WHERE id = $1 AND state <> 'deleted'`, id))
	if errors.Is(err, pgx.ErrNoRows) {
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
	filter := "owner_id = $2 AND " + store.ListedSQL
	if everything {
		filter = "owner_id = $2 AND state <> 'deleted'"
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
// parameters are args, from $2 on: $1 is the limit.
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
		args = append(args, after.CreatedAt)
		filter += fmt.Sprintf(" AND created_at < $%d", len(args))
	default:
		args = append(args, after.CreatedAt, after.ID)
		filter += fmt.Sprintf(" AND (created_at, id) < ($%d, $%d::uuid)", len(args)-1, len(args))
	}
	// The order names the table's columns: a bare id would be the output
	// column id::text, which no index orders.
	rows, err := s.pool.Query(ctx, `
		SELECT `+videoColumns+` FROM videos WHERE `+filter+`
		ORDER BY videos.created_at DESC, videos.id DESC LIMIT $1`, args...)
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
	err = s.pool.QueryRow(ctx, `
		SELECT coalesce(sum(size_bytes) FILTER (WHERE state <> 'deleted'), 0)::bigint,
			coalesce(sum(size_bytes) FILTER (WHERE created_at >= $2), 0)::bigint
		FROM videos WHERE owner_id = $1`, owner, since).Scan(&stored, &uploaded)
	if err != nil {
		return 0, 0, fmt.Errorf("upload usage of %s: %w", owner, err)
	}
	return stored, uploaded, nil
}

// UpdateVideo implements [store.Store.UpdateVideo].
func (s *Store) UpdateVideo(ctx context.Context, id string, change video.Change) (video.Video, error) {
	c, err := store.CheckVideoChange(change)
	if err != nil {
		return video.Video{}, fmt.Errorf("update video %s: %w", id, err)
	}
	if !store.ValidID(id) {
		return video.Video{}, fmt.Errorf("update video %s: %w", id, video.ErrNotFound)
	}
	var privacy *string
	if c.Privacy != nil {
		privacy = (*string)(c.Privacy)
	}
	v, err := scanVideo(s.pool.QueryRow(ctx, `
		UPDATE videos SET title = coalesce($2, title), description = coalesce($3, description),
			tags = coalesce($4, tags), privacy = coalesce($5, privacy),
			comments_off = coalesce($6, comments_off), updated_at = now()
		WHERE id = $1 AND state <> 'deleted'
		RETURNING `+videoColumns, id, c.Title, c.Description, c.Tags, privacy, c.CommentsOff))
	if errors.Is(err, pgx.ErrNoRows) {
		err = video.ErrNotFound
	}
	if err != nil {
		return video.Video{}, fmt.Errorf("update video %s: %w", id, err)
	}
	return v, nil
}

func collectVideos(rows pgx.Rows) ([]video.Video, error) {
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

// AddViews implements [store.Store.AddViews].
func (s *Store) AddViews(ctx context.Context, counts map[string]int64) error {
	ids, ns := store.ViewCounts(counts)
	if len(ids) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Lock the rows in id order first: two flushers updating the same
		// videos then queue behind each other instead of deadlocking.
		if _, err := tx.Exec(ctx, `
			SELECT 1 FROM videos WHERE id = ANY ($1::uuid[]) ORDER BY id FOR NO KEY UPDATE`, ids); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			UPDATE videos v SET views = v.views + c.n, updated_at = now(),
				trending = `+trendSum("v.trending", "c.point")+`
			FROM unnest($1::uuid[], $2::bigint[], $3::float8[]) AS c (id, n, point)
			WHERE v.id = c.id`, ids, ns, store.ViewPoints(ns, time.Now()))
		return err
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
	v, err := scanVideo(s.pool.QueryRow(ctx, `
		UPDATE videos SET state = 'processing', lease_owner = $2,
			lease_until = now() + $3 * interval '1 microsecond',
			progress = 0, playable_seconds = 0, encode_attempts = encode_attempts + 1, updated_at = now()
		WHERE id = $1 AND (state = 'uploaded' OR (state = 'processing' AND lease_until < now()))
		RETURNING `+videoColumns+`, encode_attempts`, id, worker, lease.Microseconds()), &c.Attempt)
	if errors.Is(err, pgx.ErrNoRows) {
		err = whyNot(ctx, s.pool, id, false)
	}
	if err != nil {
		return video.Claim{}, fmt.Errorf("claim encode of %s: %w", id, err)
	}
	c.Video = v
	return c, nil
}

// leaseHeld is the guard of every write by the worker holding an encode.
const leaseHeld = `id = $1 AND state = 'processing' AND lease_owner = $2`

// RenewLease implements [store.Store.RenewLease].
func (s *Store) RenewLease(ctx context.Context, id, worker string, lease time.Duration) error {
	if err := s.execHeld(ctx, id, `
		UPDATE videos SET lease_until = now() + $3 * interval '1 microsecond', updated_at = now()
		WHERE `+leaseHeld, worker, lease.Microseconds()); err != nil {
		return fmt.Errorf("renew lease on %s: %w", id, err)
	}
	return nil
}

// SetProgress implements [store.Store.SetProgress].
func (s *Store) SetProgress(ctx context.Context, id, worker string, progress float64) error {
	progress = min(max(progress, 0), 1)
	if err := s.execHeld(ctx, id, `
		UPDATE videos SET progress = $3, updated_at = now() WHERE `+leaseHeld, worker, progress); err != nil {
		return fmt.Errorf("set progress of %s: %w", id, err)
	}
	return nil
}

func (s *Store) execHeld(ctx context.Context, id, sql string, worker string, arg any) error {
	if !store.ValidID(id) {
		return video.ErrLeaseLost
	}
	tag, err := s.pool.Exec(ctx, sql, id, worker, arg)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return video.ErrLeaseLost
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
			duration_seconds = $3, width = $4, height = $5, renditions = $6,
			lease_owner = NULL, lease_until = NULL, updated_at = now()
		WHERE `+leaseHeld+` RETURNING `+videoColumns,
		e.DurationSeconds, e.Width, e.Height, renditions)
	if err != nil {
		return video.Video{}, fmt.Errorf("mark %s ready: %w", id, err)
	}
	return v, nil
}

// MarkFailed implements [store.Store.MarkFailed].
func (s *Store) MarkFailed(ctx context.Context, id, worker, reason string) (video.Video, error) {
	v, err := s.finishHeld(ctx, id, worker, webhook.VideoFailed, `
		UPDATE videos SET state = 'failed', failure_reason = $3,
			lease_owner = NULL, lease_until = NULL, updated_at = now()
		WHERE `+leaseHeld+` RETURNING `+videoColumns, reason)
	if err != nil {
		return video.Video{}, fmt.Errorf("mark %s failed: %w", id, err)
	}
	return v, nil
}

// finishHeld runs a leaseHeld UPDATE … RETURNING whose parameters are id,
// worker and args, giving ErrLeaseLost when it changed nothing, and writes
// the webhook event it announces in the same transaction.
func (s *Store) finishHeld(ctx context.Context, id, worker string, event webhook.EventType, sql string, args ...any) (video.Video, error) {
	if !store.ValidID(id) {
		return video.Video{}, video.ErrLeaseLost
	}
	var v video.Video
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		v, err = scanVideo(tx.QueryRow(ctx, sql, append([]any{id, worker}, args...)...))
		if errors.Is(err, pgx.ErrNoRows) {
			return video.ErrLeaseLost
		}
		if err != nil {
			return err
		}
		return insertVideoEvent(ctx, tx, event, v)
	})
	return v, err
}

// ReleaseEncode implements [store.Store.ReleaseEncode].
func (s *Store) ReleaseEncode(ctx context.Context, id, worker string, retryAfter time.Duration) error {
	if !store.ValidID(id) {
		return fmt.Errorf("release encode of %s: %w", id, video.ErrLeaseLost)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE videos SET state = 'uploaded', progress = 0,
				lease_owner = NULL, lease_until = NULL, updated_at = now()
			WHERE `+leaseHeld, id, worker)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return video.ErrLeaseLost
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO outbox (video_id, available_at, trace_parent)
			VALUES ($1, now() + $2 * interval '1 microsecond', $3)`, id, max(retryAfter, 0).Microseconds(), store.TraceParent(ctx))
		return err
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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		v, err = scanVideo(tx.QueryRow(ctx, `
			UPDATE videos SET state = 'uploaded', failure_reason = '', progress = 0,
				encode_attempts = 0, updated_at = now()
			WHERE id = $1 AND state IN ('ready', 'failed') AND source_removed_at IS NULL
			RETURNING `+videoColumns, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return whyNotReencode(ctx, tx, id)
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO outbox (video_id, trace_parent) VALUES ($1, $2)", id, store.TraceParent(ctx))
		return err
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
	rows, err := s.pool.Query(ctx, `
		SELECT id, video_id::text, created_at, trace_parent FROM outbox
		WHERE sent_at IS NULL AND available_at <= now()
		ORDER BY available_at, id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("pending outbox: %w", err)
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (video.OutboxEntry, error) {
		var e video.OutboxEntry
		err := r.Scan(&e.ID, &e.VideoID, &e.CreatedAt, &e.TraceParent)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("pending outbox: %w", err)
	}
	return entries, nil
}

// MarkOutboxSent implements [store.Store.MarkOutboxSent].
func (s *Store) MarkOutboxSent(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `
		UPDATE outbox SET sent_at = now() WHERE id = ANY ($1) AND sent_at IS NULL`, ids); err != nil {
		return fmt.Errorf("mark outbox sent: %w", err)
	}
	return nil
}

// RequeueStuck implements [store.Store.RequeueStuck].
func (s *Store) RequeueStuck(ctx context.Context, uploadedFor time.Duration) (int, error) {
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Reconcilers of several replicas take turns, or both would requeue.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(requeueLockKey)); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO outbox (video_id)
			SELECT v.id FROM videos v
			WHERE ((v.state = 'uploaded' AND v.updated_at < now() - $1 * interval '1 microsecond')
			    OR (v.state = 'processing' AND v.lease_until < now()))
			  AND NOT EXISTS (
				SELECT 1 FROM outbox o WHERE o.video_id = v.id
				AND (o.sent_at IS NULL OR o.created_at > now() - $1 * interval '1 microsecond'))
			ORDER BY v.id`, max(uploadedFor, 0).Microseconds())
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("requeue stuck videos: %w", err)
	}
	return int(n), nil
}

// ExpireLeases implements [store.Store.ExpireLeases].
func (s *Store) ExpireLeases(ctx context.Context, ownerPrefix string) (int, error) {
	tag, err := s.pool.Exec(ctx, `
		UPDATE videos SET lease_until = least(lease_until, now() - interval '1 microsecond'), updated_at = now()
		WHERE state = 'processing' AND starts_with(lease_owner, $1)`, ownerPrefix)
	if err != nil {
		return 0, fmt.Errorf("expire leases of %q: %w", ownerPrefix, err)
	}
	return int(tag.RowsAffected()), nil
}

// EncodeBacklog implements [store.Store.EncodeBacklog].
func (s *Store) EncodeBacklog(ctx context.Context) (int, time.Time, error) {
	var (
		n      int
		oldest *time.Time
	)
	err := s.pool.QueryRow(ctx, `
		SELECT count(*), min(updated_at) FROM videos WHERE state = 'uploaded'`).Scan(&n, &oldest)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("encode backlog: %w", err)
	}
	if oldest == nil {
		return 0, time.Time{}, nil
	}
	return n, oldest.UTC(), nil
}
