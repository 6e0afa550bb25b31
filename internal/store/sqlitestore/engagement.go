package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

// trendSum and trendDifference are store.TrendSum and
// store.TrendDifference in this dialect.
func trendSum(score, point string) string { return store.TrendSum("max", score, point) }

var trendDifference = store.TrendDifference

// Like implements [store.Engagement.Like]. Writes are serialized by the
// one writer connection, so the insert and the count cannot interleave
// with another like.
func (s *Store) Like(ctx context.Context, videoID, userID string, at time.Time) (video.Likes, error) {
	if err := store.CheckLike(videoID, userID); err != nil {
		return video.Likes{}, err
	}
	at = store.LikeTime(at)
	likes := video.Likes{Liked: true}
	err := s.write(ctx, func(tx *sql.Tx, _ int64) error {
		err := tx.QueryRowContext(ctx, `
			SELECT likes FROM videos WHERE id = ?1 AND state <> 'deleted'`, videoID).Scan(&likes.Count)
		if errors.Is(err, sql.ErrNoRows) {
			return video.ErrNotFound
		}
		if err != nil {
			return err
		}
		var user int
		err = tx.QueryRowContext(ctx, "SELECT 1 FROM users WHERE id = ?1", userID).Scan(&user)
		if errors.Is(err, sql.ErrNoRows) {
			return video.ErrNotFound
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `
			INSERT INTO video_likes (video_id, user_id, created_at) VALUES (?1, ?2, ?3)
			ON CONFLICT DO NOTHING`, videoID, userID, at.UnixMicro())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return tx.QueryRowContext(ctx, `
			UPDATE videos SET likes = likes + 1, trending = `+trendSum("trending", "?2")+`
			WHERE id = ?1 RETURNING likes`, videoID, video.TrendPoint(video.LikeWeight, at)).Scan(&likes.Count)
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
	err := s.write(ctx, func(tx *sql.Tx, _ int64) error {
		err := tx.QueryRowContext(ctx, `
			SELECT likes FROM videos WHERE id = ?1 AND state <> 'deleted'`, videoID).Scan(&likes.Count)
		if errors.Is(err, sql.ErrNoRows) {
			return video.ErrNotFound
		}
		if err != nil {
			return err
		}
		var at int64
		err = tx.QueryRowContext(ctx, `
			DELETE FROM video_likes WHERE video_id = ?1 AND user_id = ?2 RETURNING created_at`, videoID, userID).Scan(&at)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		point := video.TrendPoint(video.LikeWeight, fromUnixMicros(at))
		return tx.QueryRowContext(ctx, `
			UPDATE videos SET likes = likes - 1, trending = `+trendDifference("trending", "?2")+`
			WHERE id = ?1 RETURNING likes`, videoID, point).Scan(&likes.Count)
	})
	if err != nil {
		return video.Likes{}, fmt.Errorf("unlike %s by %s: %w", videoID, userID, err)
	}
	return likes, nil
}

// Liked implements [store.Engagement.Liked].
func (s *Store) Liked(ctx context.Context, videoID, userID string) (bool, error) {
	var liked bool
	err := s.r.QueryRowContext(ctx, `
		SELECT EXISTS (SELECT 1 FROM video_likes WHERE video_id = ?1 AND user_id = ?2)`, videoID, userID).Scan(&liked)
	if err != nil {
		return false, fmt.Errorf("like of %s by %s: %w", videoID, userID, err)
	}
	return liked, nil
}

// trendingQuery is the SQL of a page of trending videos, a scan of
// videos_trending_idx from the top down to the floor: ?1 is the limit,
// ?2 the least score, and for a page after the first (?3, ?4) the
// position it starts after.
func trendingQuery(paged bool) string {
	after := ""
	if paged {
		after = " AND (trending, id) < (?3, ?4)"
	}
	return `SELECT ` + videoColumns + `, trending FROM videos
		WHERE ` + store.ListedSQL + ` AND trending IS NOT NULL AND trending >= ?2` + after + `
		ORDER BY trending DESC, id DESC LIMIT ?1`
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
	rows, err := s.r.QueryContext(ctx, trendingQuery(after.ID != ""), args...)
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
