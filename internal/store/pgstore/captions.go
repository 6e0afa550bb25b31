package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

// PutCaption implements [store.Captions.PutCaption]. The video's row is
// locked first, so that two new languages added at once are counted one
// after the other against video.MaxCaptions.
func (s *Store) PutCaption(ctx context.Context, videoID string, c video.Caption) (video.Caption, error) {
	if err := store.CheckCaption(videoID, c); err != nil {
		return video.Caption{}, err
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var live int
		err := tx.QueryRow(ctx, `
			SELECT 1 FROM videos WHERE id = $1 AND state <> 'deleted' FOR NO KEY UPDATE`, videoID).Scan(&live)
		if errors.Is(err, pgx.ErrNoRows) {
			return video.ErrNotFound
		}
		if err != nil {
			return err
		}
		var languages int
		var had bool
		err = tx.QueryRow(ctx, `
			SELECT count(*), coalesce(bool_or(language = $2), false) FROM video_captions WHERE video_id = $1`,
			videoID, c.Language).Scan(&languages, &had)
		if err != nil {
			return err
		}
		if !had && languages >= video.MaxCaptions {
			return store.TooManyCaptions(videoID)
		}
		err = tx.QueryRow(ctx, `
			INSERT INTO video_captions (video_id, language, label, size_bytes, updated_at)
			VALUES ($1, $2, $3, $4, now())
			ON CONFLICT (video_id, language) DO UPDATE SET label = excluded.label,
				size_bytes = excluded.size_bytes, updated_at = excluded.updated_at
			RETURNING updated_at`, videoID, c.Language, c.Label, c.SizeBytes).Scan(&c.UpdatedAt)
		c.UpdatedAt = c.UpdatedAt.UTC()
		return err
	})
	if err != nil {
		return video.Caption{}, fmt.Errorf("put %s captions of %s: %w", c.Language, videoID, err)
	}
	return c, nil
}

// DeleteCaption implements [store.Captions.DeleteCaption].
func (s *Store) DeleteCaption(ctx context.Context, videoID, language string) error {
	if !store.ValidID(videoID) {
		return fmt.Errorf("delete %s captions of %s: %w", language, videoID, video.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, `
		DELETE FROM video_captions WHERE video_id = $1 AND language = $2`, videoID, language)
	if err == nil && tag.RowsAffected() == 0 {
		err = video.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete %s captions of %s: %w", language, videoID, err)
	}
	return nil
}

// Captions implements [store.Captions.Captions].
func (s *Store) Captions(ctx context.Context, videoID string) ([]video.Caption, error) {
	if !store.ValidID(videoID) {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `
		SELECT c.language, c.label, c.size_bytes, c.updated_at
		FROM video_captions c JOIN videos v ON v.id = c.video_id
		WHERE c.video_id = $1 AND v.state <> 'deleted'
		ORDER BY c.language COLLATE "C"`, videoID)
	if err != nil {
		return nil, fmt.Errorf("captions of %s: %w", videoID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (video.Caption, error) {
		var c video.Caption
		err := r.Scan(&c.Language, &c.Label, &c.SizeBytes, &c.UpdatedAt)
		c.UpdatedAt = c.UpdatedAt.UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("captions of %s: %w", videoID, err)
	}
	return out, nil
}
