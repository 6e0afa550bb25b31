package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

// trendSum and trendDifference are store.TrendSum and
// store.TrendDifference in this dialect.
func trendSum(score, point string) string { return store.TrendSum("greatest", score, point) }

var trendDifference = store.TrendDifference

// Like implements [store.Engagement.Like]. The insert and the count move
// in one transaction; the update of the video's row queues concurrent
// likes of one video behind each other, so the count stays exact.
func (s *Store) Like(ctx context.Context, videoID, userID string, at time.Time) (video.Likes, error) {
	if err := store.CheckLike(videoID, userID); err != nil {
		return video.Likes{}, err
	}
	at = store.LikeTime(at)
	likes := video.Likes{Liked: true}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Lock the video first, so that a deleted one is not liked and a
		// like and an unlike of one video take their locks in one order.
		err := tx.QueryRow(ctx, `
			SELECT likes FROM videos WHERE id = $1 AND state <> 'deleted' FOR NO KEY UPDATE`, videoID).Scan(&likes.Count)
		if errors.Is(err, pgx.ErrNoRows) {
			return video.ErrNotFound
		}
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO video_likes (video_id, user_id, created_at) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, videoID, userID, at)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23503" { // foreign_key_violation: no such user
			return video.ErrNotFound
		}
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return tx.QueryRow(ctx, `
			UPDATE videos SET likes = likes + 1, trending = `+trendSum("trending", "$2::float8")+`
			WHERE id = $1 RETURNING likes`, videoID, video.TrendPoint(video.LikeWeight, at)).Scan(&likes.Count)
	})
	if err != nil {
		return video.Likes{}, fmt.Errorf("like %s by %s: %w", videoID, userID, err)
	}
	return likes, nil
}

// Unlike implements [store.Engagement.Unlike].
func (s *Store) Unlike(ctx context.Context, videoID, userID string) (video.Likes, error) {
	if !store.ValidID(videoID) {
		return video.Likes{}, fmt.Errorf("unlike %s: %w", videoID, video.ErrNotFound)
	}
	var likes video.Likes
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			SELECT likes FROM videos WHERE id = $1 AND state <> 'deleted' FOR NO KEY UPDATE`, videoID).Scan(&likes.Count)
		if errors.Is(err, pgx.ErrNoRows) {
			return video.ErrNotFound
		}
		if err != nil || !store.ValidID(userID) {
			return err
		}
		var at time.Time
		err = tx.QueryRow(ctx, `
			DELETE FROM video_likes WHERE video_id = $1 AND user_id = $2 RETURNING created_at`, videoID, userID).Scan(&at)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, `
			UPDATE videos SET likes = likes - 1, trending = `+trendDifference("trending", "$2::float8")+`
			WHERE id = $1 RETURNING likes`, videoID, video.TrendPoint(video.LikeWeight, at)).Scan(&likes.Count)
	})
	if err != nil {
		return video.Likes{}, fmt.Errorf("unlike %s by %s: %w", videoID, userID, err)
	}
	return likes, nil
}

// Liked implements [store.Engagement.Liked].
func (s *Store) Liked(ctx context.Context, videoID, userID string) (bool, error) {
	if store.CheckLike(videoID, userID) != nil {
		return false, nil
	}
	var liked bool
	err := s.pool.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM video_likes WHERE video_id = $1 AND user_id = $2)`, videoID, userID).Scan(&liked)
	if err != nil {
		return false, fmt.Errorf("like of %s by %s: %w", videoID, userID, err)
	}
	return liked, nil
}

// trendingQuery is the SQL of a page of trending videos, a scan of
// videos_trending_idx from the top down to the floor: $1 is the limit,
// $2 the least score, and for a page after the first ($3, $4) the
// position it starts after. The order names the table's columns: a bare id
// would be videoColumns' id::text, and sorting by it would cost a sort of
// every video above the floor instead of reading the index in order.
func trendingQuery(paged bool) string {
	after := ""
	if paged {
		after = " AND (trending, id) < ($3, $4::uuid)"
	}
	return `SELECT ` + videoColumns + `, trending FROM videos
		WHERE ` + store.ListedSQL + ` AND trending IS NOT NULL AND trending >= $2` + after + `
		ORDER BY videos.trending DESC, videos.id DESC LIMIT $1`
}

// TrendingVideos implements [store.Engagement.TrendingVideos].
func (s *Store) TrendingVideos(ctx context.Context, limit int, after video.TrendPosition, now time.Time) ([]video.Trending, error) {
	if err := store.CheckTrendPosition(after); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	args := []any{limit, video.TrendCutoff(now)}
	if after.ID != "" {
		args = append(args, after.Score, after.ID)
	}
	rows, err := s.pool.Query(ctx, trendingQuery(after.ID != ""), args...)
	if err != nil {
		return nil, fmt.Errorf("trending videos: %w", err)
	}
	defer rows.Close()
	var out []video.Trending
	for rows.Next() {
		var t video.Trending
		if t.Video, err = scanVideo(rows, &t.Score); err != nil {
			return nil, fmt.Errorf("trending videos: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("trending videos: %w", err)
	}
	return out, nil
}
