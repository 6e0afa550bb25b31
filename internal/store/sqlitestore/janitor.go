package sqlitestore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

// TakeLease implements [store.Janitor.TakeLease]: one upsert, which a
// lease held by another and still running leaves as it is.
func (s *Store) TakeLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	taken := false
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		var got string
		err := tx.QueryRowContext(ctx, `
			INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3 + ?4)
			ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
			WHERE leases.holder = excluded.holder OR leases.expires_at < ?3
			RETURNING holder`, name, holder, now, ttl.Microseconds()).Scan(&got)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		taken = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("take lease %s: %w", name, err)
	}
	return taken, nil
}

// ExpiredUploads implements [store.Janitor.ExpiredUploads].
func (s *Store) ExpiredUploads(ctx context.Context, limit int) ([]video.UploadSession, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.r.QueryContext(ctx, `
		SELECT u.video_id, coalesce(v.owner_id, ''), u.upload_id, u.object_key, u.size_bytes, u.part_size, u.expires_at
		FROM upload_sessions u JOIN videos v ON v.id = u.video_id
		WHERE u.expires_at < ?1
		ORDER BY u.expires_at, u.video_id LIMIT ?2`, time.Now().UnixMicro(), limit)
	if err != nil {
		return nil, fmt.Errorf("expired uploads: %w", err)
	}
	defer rows.Close()
	var sessions []video.UploadSession
	for rows.Next() {
		var (
			u         video.UploadSession
			expiresAt int64
		)
		if err := rows.Scan(&u.VideoID, &u.OwnerID, &u.UploadID, &u.ObjectKey, &u.SizeBytes, &u.PartSize, &expiresAt); err != nil {
			return nil, fmt.Errorf("expired uploads: %w", err)
		}
		u.ExpiresAt = fromUnixMicros(expiresAt)
		sessions = append(sessions, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("expired uploads: %w", err)
	}
	return sessions, nil
}

// PurgeOutbox implements [store.Janitor.PurgeOutbox].
func (s *Store) PurgeOutbox(ctx context.Context, sentFor time.Duration, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	var n int64
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		res, err := tx.ExecContext(ctx, `
			DELETE FROM outbox WHERE id IN (
				SELECT id FROM outbox WHERE sent_at < ?1 - ?2
				ORDER BY sent_at LIMIT ?3)`, now, max(sentFor, 0).Microseconds(), limit)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge outbox: %w", err)
	}
	return int(n), nil
}

// DropFailedSources implements [store.Janitor.DropFailedSources].
func (s *Store) DropFailedSources(ctx context.Context, failedFor time.Duration, limit int) ([]string, error) {
	if limit <= 0 {
		return nil, nil
	}
	var ids []string
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		rows, err := tx.QueryContext(ctx, `
			UPDATE videos SET source_removed_at = ?1
			WHERE id IN (
				SELECT id FROM videos
				WHERE state = 'failed' AND source_removed_at IS NULL AND updated_at < ?1 - ?2
				ORDER BY updated_at LIMIT ?3)
			RETURNING id`, now, max(failedFor, 0).Microseconds(), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("drop failed sources: %w", err)
	}
	return ids, nil
}

// LiveVideos implements [store.Janitor.LiveVideos]. The ids go in as one
// JSON array, however many there are.
func (s *Store) LiveVideos(ctx context.Context, ids []string) (map[string]bool, error) {
	valid := store.VideoIDs(ids)
	live := make(map[string]bool, len(valid))
	if len(valid) == 0 {
		return live, nil
	}
	list, err := json.Marshal(valid)
	if err != nil {
		return nil, fmt.Errorf("live videos: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `
		SELECT id, source_removed_at IS NULL FROM videos
		WHERE id IN (SELECT value FROM json_each(?1)) AND state <> 'deleted'`, string(list))
	if err != nil {
		return nil, fmt.Errorf("live videos: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id   string
			kept bool
		)
		if err := rows.Scan(&id, &kept); err != nil {
			return nil, fmt.Errorf("live videos: %w", err)
		}
		live[id] = kept
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("live videos: %w", err)
	}
	return live, nil
}
