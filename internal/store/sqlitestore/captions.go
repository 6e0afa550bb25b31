package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

// PutCaption implements [store.Captions.PutCaption]. Writes are serialized
// by the one writer connection, so the count of languages cannot change
// between its check and the insert.
func (s *Store) PutCaption(ctx context.Context, videoID string, c video.Caption) (video.Caption, error) {
	if err := store.CheckCaption(videoID, c); err != nil {
		return video.Caption{}, err
	}
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		var languages int
		var had bool
		err := tx.QueryRowContext(ctx, `
			SELECT (SELECT count(*) FROM video_captions WHERE video_id = ?1),
				EXISTS (SELECT 1 FROM video_captions WHERE video_id = ?1 AND language = ?2)
			FROM videos WHERE id = ?1 AND state <> 'deleted'`, videoID, c.Language).Scan(&languages, &had)
		if errors.Is(err, sql.ErrNoRows) {
			return video.ErrNotFound
		}
		if err != nil {
			return err
		}
		if !had && languages >= video.MaxCaptions {
			return store.TooManyCaptions(videoID)
		}
		var at int64
		err = tx.QueryRowContext(ctx, `
			INSERT INTO video_captions (video_id, language, label, size_bytes, updated_at)
			VALUES (?1, ?2, ?3, ?4, ?5)
			ON CONFLICT (video_id, language) DO UPDATE SET label = excluded.label,
				size_bytes = excluded.size_bytes, updated_at = excluded.updated_at
			RETURNING updated_at`, videoID, c.Language, c.Label, c.SizeBytes, now).Scan(&at)
		c.UpdatedAt = fromUnixMicros(at)
		return err
	})
	if err != nil {
		return video.Caption{}, fmt.Errorf("put %s captions of %s: %w", c.Language, videoID, err)
	}
	return c, nil
}

// DeleteCaption implements [store.Captions.DeleteCaption].
func (s *Store) DeleteCaption(ctx context.Context, videoID, language string) error {
	err := s.write(ctx, func(tx *sql.Tx, _ int64) error {
		res, err := tx.ExecContext(ctx, `
			DELETE FROM video_captions WHERE video_id = ?1 AND language = ?2`, videoID, language)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, video.ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete %s captions of %s: %w", language, videoID, err)
	}
	return nil
}

// Captions implements [store.Captions.Captions].
func (s *Store) Captions(ctx context.Context, videoID string) ([]video.Caption, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT c.language, c.label, c.size_bytes, c.updated_at
		FROM video_captions c JOIN videos v ON v.id = c.video_id
		WHERE c.video_id = ?1 AND v.state <> 'deleted'
		ORDER BY c.language`, videoID)
	if err != nil {
		return nil, fmt.Errorf("captions of %s: %w", videoID, err)
	}
	defer rows.Close()
	var out []video.Caption
	for rows.Next() {
		var c video.Caption
		var at int64
		if err := rows.Scan(&c.Language, &c.Label, &c.SizeBytes, &at); err != nil {
			return nil, fmt.Errorf("captions of %s: %w", videoID, err)
		}
		c.UpdatedAt = fromUnixMicros(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("captions of %s: %w", videoID, err)
	}
	return out, nil
}
