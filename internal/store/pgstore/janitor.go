package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

// TakeLease implements [store.Janitor.TakeLease]: one upsert, which a
// lease held by another and still running leaves as it is.
func (s *Store) TakeLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	var got string
	err := s.pool.QueryRow(ctx, `
		INSERT INTO leases AS l (name, holder, expires_at)
		VALUES ($1, $2, now() + $3 * interval '1 microsecond')
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE l.holder = excluded.holder OR l.expires_at < now()
		RETURNING holder`, name, holder, ttl.Microseconds()).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("take lease %s: %w", name, err)
	}
	return true, nil
}

// ExpiredUploads implements [store.Janitor.ExpiredUploads].
func (s *Store) ExpiredUploads(ctx context.Context, limit int) ([]video.UploadSession, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT u.video_id::text, coalesce(v.owner_id::text, ''), u.upload_id, u.object_key, u.size_bytes, u.part_size, u.expires_at
		FROM upload_sessions u JOIN videos v ON v.id = u.video_id
		WHERE u.expires_at < now()
		ORDER BY u.expires_at, u.video_id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("expired uploads: %w", err)
	}
	sessions, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (video.UploadSession, error) {
		var u video.UploadSession
		err := r.Scan(&u.VideoID, &u.OwnerID, &u.UploadID, &u.ObjectKey, &u.SizeBytes, &u.PartSize, &u.ExpiresAt)
		return u, err
	})
	if err != nil {
		return nil, fmt.Errorf("expired uploads: %w", err)
	}
	return sessions, nil
}

// PurgeOutbox implements [store.Janitor.PurgeOutbox].
func (s *Store) PurgeOutbox(ctx context.Context, sentFor time.Duration, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	tag, err := s.pool.Exec(ctx, `
		DELETE FROM outbox WHERE id IN (
			SELECT id FROM outbox
			WHERE sent_at < now() - $1 * interval '1 microsecond'
			ORDER BY sent_at LIMIT $2)`, max(sentFor, 0).Microseconds(), limit)
	if err != nil {
		return 0, fmt.Errorf("purge outbox: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// DropFailedSources implements [store.Janitor.DropFailedSources]. SKIP
// LOCKED keeps it from waiting on a video someone is changing: that one
// waits for a later pass.
func (s *Store) DropFailedSources(ctx context.Context, failedFor time.Duration, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
		UPDATE videos SET source_removed_at = now()
		WHERE id IN (
			SELECT id FROM videos
			WHERE state = 'failed' AND source_removed_at IS NULL
			  AND updated_at < now() - $1 * interval '1 microsecond'
			ORDER BY updated_at LIMIT $2
			FOR UPDATE SKIP LOCKED)
		RETURNING id::text`, max(failedFor, 0).Microseconds(), limit)
	if err != nil {
		return nil, fmt.Errorf("drop failed sources: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("drop failed sources: %w", err)
	}
	return ids, nil
}

// LiveVideos implements [store.Janitor.LiveVideos].
func (s *Store) LiveVideos(ctx context.Context, ids []string) (map[string]bool, error) {
	valid := store.VideoIDs(ids)
	live := make(map[string]bool, len(valid))
	if len(valid) == 0 {
		return live, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT id::text, source_removed_at IS NULL FROM videos
		WHERE id = ANY ($1::uuid[]) AND state <> 'deleted'`, valid)
	if err != nil {
		return nil, fmt.Errorf("live videos: %w", err)
	}
	var (
		id   string
		kept bool
	)
	_, err = pgx.ForEachRow(rows, []any{&id, &kept}, func() error {
		live[id] = kept
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("live videos: %w", err)
	}
	return live, nil
}
