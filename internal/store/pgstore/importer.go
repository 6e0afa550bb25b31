package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

// importColumns are the columns ImportVideos copies, in the order of
// importRow's values.
var importColumns = []string{"id", "owner_id", "privacy", "title", "description", "tags", "state", "progress",
	"duration_seconds", "width", "height", "renditions", "views", "size_bytes", "content_type", "created_at", "updated_at"}

// ImportVideos implements [store.Store.ImportVideos] with one COPY in one
// transaction. The vocabulary follows per statement, not per row (the
// trigger videos_search_words_added): a word that thousands of the videos
// share is counted up once. The full-text index gathers new entries in a
// pending list that every search reads through until it is merged; the
// import merges it at once rather than leave that to the next vacuum.
func (s *Store) ImportVideos(ctx context.Context, vs []video.Video) error {
	vs, err := store.ImportedVideos(vs, time.Now())
	if err != nil {
		return fmt.Errorf("import videos: %w", err)
	}
	if len(vs) == 0 {
		return nil
	}
	rows := make([][]any, len(vs))
	for i, v := range vs {
		if rows[i], err = importRow(v); err != nil {
			return fmt.Errorf("import videos: %w", err)
		}
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"videos"}, importColumns, pgx.CopyFromRows(rows)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "SELECT gin_clean_pending_list('videos_search_idx')")
		return err
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case uniqueViolation:
			return fmt.Errorf("import videos: %w", video.Invalid("a video imported already exists (%s)", pgErr.Detail))
		case foreignKeyViolation:
			return fmt.Errorf("import videos: %w", video.Invalid("an owner of a video imported is no user (%s)", pgErr.Detail))
		}
	}
	if err != nil {
		return fmt.Errorf("import videos: %w", err)
	}
	return nil
}

// importRow is v as the values of importColumns, in COPY's binary form.
func importRow(v video.Video) ([]any, error) {
	id, err := uuid.Parse(v.ID)
	if err != nil {
		return nil, err
	}
	var owner *uuid.UUID
	if v.OwnerID != "" {
		o, err := uuid.Parse(v.OwnerID)
		if err != nil {
			return nil, err
		}
		owner = &o
	}
	renditions, err := store.EncodeRenditions(v.Renditions)
	if err != nil {
		return nil, err
	}
	return []any{id, owner, string(v.Privacy), v.Title, v.Description, v.Tags, string(v.State), v.Progress,
		v.DurationSeconds, int32(v.Width), int32(v.Height), renditions, v.Views, v.SizeBytes, v.ContentType,
		v.CreatedAt, v.UpdatedAt}, nil
}
