package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/webhook"
)

// commentColumns is what scanComment reads, in order, of comments (as c).
const commentColumns = `c.id, c.video_id, coalesce(c.parent_id, ''), c.author_id,
	coalesce((SELECT u.username FROM users u WHERE u.id = c.author_id), ''),
	c.body, c.replies, c.created_at, c.edited_at, c.hidden_at, c.hidden_reason`

// liveVideo holds a page of comments to those of a video that is not
// deleted, in the page's one statement.
const liveVideo = `EXISTS (SELECT 1 FROM videos v WHERE v.id = c.video_id AND v.state <> 'deleted')`

func scanComment(row scanner) (video.Comment, error) {
	var (
		c         video.Comment
		createdAt int64
		editedAt  sql.NullInt64
		hiddenAt  sql.NullInt64
	)
	err := row.Scan(&c.ID, &c.VideoID, &c.ParentID, &c.AuthorID, &c.AuthorName,
		&c.Body, &c.Replies, &createdAt, &editedAt, &hiddenAt, &c.HiddenReason)
	if err != nil {
		return video.Comment{}, err
	}
	c.CreatedAt = fromUnixMicros(createdAt)
	if editedAt.Valid {
		c.EditedAt = fromUnixMicros(editedAt.Int64)
	}
	if hiddenAt.Valid {
		c.HiddenAt = fromUnixMicros(hiddenAt.Int64)
	}
	return c, nil
}

// AddComment implements [store.Comments.AddComment]. Writes are
// serialized by the one writer connection, so the allowance, the insert
// and the counts cannot interleave with another comment.
func (s *Store) AddComment(ctx context.Context, c video.Comment, rate video.CommentRate) (video.Comment, error) {
	videoID := c.VideoID
	c, err := store.NewComment(c)
	if err != nil {
		return video.Comment{}, fmt.Errorf("comment on %s: %w", videoID, err)
	}
	err = s.write(ctx, func(tx *sql.Tx, now int64) error {
		var (
			off   bool
			owner string
		)
		err := tx.QueryRowContext(ctx, `
			SELECT comments_off, coalesce(owner_id, '') FROM videos WHERE id = ?1 AND state <> 'deleted'`, c.VideoID).Scan(&off, &owner)
		if errors.Is(err, sql.ErrNoRows) {
			return video.ErrNotFound
		}
		if err != nil {
			return err
		}
		if off {
			return video.ErrCommentsOff
		}
		if c.ParentID != "" {
			// A reply to a reply joins its thread: the parent is the
			// replied-to comment's own parent when it has one.
			err := tx.QueryRowContext(ctx, `
				SELECT coalesce(parent_id, id) FROM comments WHERE id = ?1 AND video_id = ?2`,
				c.ParentID, c.VideoID).Scan(&c.ParentID)
			if errors.Is(err, sql.ErrNoRows) {
				return video.ErrNotFound
			}
			if err != nil {
				return err
			}
		}
		if err := spendAllowance(ctx, tx, c.AuthorID, rate, c.CreatedAt); err != nil {
			return err
		}
		var parent any
		if c.ParentID != "" {
			parent = c.ParentID
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO comments (id, video_id, parent_id, author_id, body, created_at)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6)`,
			c.ID, c.VideoID, parent, c.AuthorID, c.Body, c.CreatedAt.UnixMicro()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE videos SET comments = comments + 1 WHERE id = ?1`, c.VideoID); err != nil {
			return err
		}
		if c.ParentID != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE comments SET replies = replies + 1 WHERE id = ?1`, c.ParentID); err != nil {
				return err
			}
		}
		if err := tx.QueryRowContext(ctx, `SELECT username FROM users WHERE id = ?1`, c.AuthorID).Scan(&c.AuthorName); err != nil {
			return err
		}
		e, err := webhook.CommentEvent(c, owner, fromUnixMicros(now))
		if err != nil {
			return err
		}
		return insertEvent(ctx, tx, e, now)
	})
	if err != nil {
		return video.Comment{}, fmt.Errorf("comment on %s by %s: %w", c.VideoID, c.AuthorID, err)
	}
	return c, nil
}

// spendAllowance takes one comment from the user's allowance at now, or
// refuses with a *video.RateLimitedError. An absent user has none:
// ErrNotFound.
func spendAllowance(ctx context.Context, tx *sql.Tx, userID string, rate video.CommentRate, now time.Time) error {
	var (
		a      video.Allowance
		tokens sql.NullFloat64
		at     sql.NullInt64
	)
	err := tx.QueryRowContext(ctx, `
		SELECT a.tokens, a.at FROM users u LEFT JOIN comment_allowances a ON a.user_id = u.id
		WHERE u.id = ?1`, userID).Scan(&tokens, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return video.ErrNotFound
	}
	if err != nil {
		return err
	}
	if at.Valid {
		a = video.Allowance{Tokens: tokens.Float64, At: fromUnixMicros(at.Int64)}
	}
	if rate.Refill <= 0 { // no limit: nothing to spend
		return nil
	}
	left, wait := rate.Spend(a, now)
	if wait > 0 {
		return &video.RateLimitedError{RetryAfter: wait}
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO comment_allowances (user_id, tokens, at) VALUES (?1, ?2, ?3)
		ON CONFLICT (user_id) DO UPDATE SET tokens = excluded.tokens, at = excluded.at`,
		userID, left.Tokens, left.At.UnixMicro())
	return err
}

// Comment implements [store.Comments.Comment].
func (s *Store) Comment(ctx context.Context, id string) (video.Comment, error) {
	if !store.ValidID(id) {
		return video.Comment{}, store.CommentNotFound(id)
	}
	c, err := scanComment(s.r.QueryRowContext(ctx, `SELECT `+commentColumns+` FROM comments c WHERE c.id = ?1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return video.Comment{}, store.CommentNotFound(id)
	}
	if err != nil {
		return video.Comment{}, fmt.Errorf("comment %s: %w", id, err)
	}
	return c, nil
}

// VideoComments implements [store.Comments.VideoComments]: a scan of
// comments_video_idx.
func (s *Store) VideoComments(ctx context.Context, videoID string, limit int, after video.CommentPosition) ([]video.Comment, error) {
	if err := store.CheckCommentPosition(after); err != nil {
		return nil, err
	}
	if !store.ValidID(videoID) {
		return nil, fmt.Errorf("comments of %s: %w", videoID, video.ErrNotFound)
	}
	limit = max(limit, 0) // a page of none still tells an absent video
	where, args := `c.video_id = ?1 AND c.parent_id IS NULL AND `+liveVideo, []any{videoID, limit}
	if after.ID != "" {
		where += ` AND (c.created_at, c.id) < (?3, ?4)`
		args = append(args, after.CreatedAt.UnixMicro(), after.ID)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+commentColumns+` FROM comments c
		WHERE `+where+` ORDER BY c.created_at DESC, c.id DESC LIMIT ?2`, args...)
	if err != nil {
		return nil, fmt.Errorf("comments of %s: %w", videoID, err)
	}
	cs, err := collectComments(rows)
	if err == nil && len(cs) == 0 {
		// An empty page may be of no video at all: only then is it asked.
		err = s.videoLive(ctx, videoID)
	}
	if err != nil {
		return nil, fmt.Errorf("comments of %s: %w", videoID, err)
	}
	return cs, nil
}

// CommentReplies implements [store.Comments.CommentReplies]: a scan of
// comments_parent_idx.
func (s *Store) CommentReplies(ctx context.Context, parentID string, limit int, after video.CommentPosition) ([]video.Comment, error) {
	if err := store.CheckCommentPosition(after); err != nil {
		return nil, err
	}
	if !store.ValidID(parentID) {
		return nil, store.CommentNotFound(parentID)
	}
	limit = max(limit, 0) // a page of none still tells an absent comment
	where, args := `c.parent_id = ?1`, []any{parentID, limit}
	if after.ID != "" {
		where += ` AND (c.created_at, c.id) > (?3, ?4)`
		args = append(args, after.CreatedAt.UnixMicro(), after.ID)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+commentColumns+` FROM comments c
		WHERE `+where+` ORDER BY c.created_at, c.id LIMIT ?2`, args...)
	if err != nil {
		return nil, fmt.Errorf("replies to %s: %w", parentID, err)
	}
	cs, err := collectComments(rows)
	if err == nil && len(cs) == 0 {
		err = s.threadExists(ctx, parentID)
	}
	if err != nil {
		return nil, fmt.Errorf("replies to %s: %w", parentID, err)
	}
	return cs, nil
}

func collectComments(rows *sql.Rows) ([]video.Comment, error) {
	defer rows.Close()
	var cs []video.Comment
	for rows.Next() {
		c, err := scanComment(rows)
		if err != nil {
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, rows.Err()
}

// EditComment implements [store.Comments.EditComment].
func (s *Store) EditComment(ctx context.Context, id, body string, at time.Time) (video.Comment, error) {
	body, err := video.CommentBody(body)
	if err != nil {
		return video.Comment{}, fmt.Errorf("edit comment %s: %w", id, err)
	}
	if !store.ValidID(id) {
		return video.Comment{}, store.CommentNotFound(id)
	}
	var c video.Comment
	err = s.write(ctx, func(tx *sql.Tx, _ int64) error {
		res, err := tx.ExecContext(ctx, `UPDATE comments SET body = ?2, edited_at = ?3 WHERE id = ?1`,
			id, body, store.LikeTime(at).UnixMicro())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, video.ErrNotFound)
		}
		c, err = scanComment(tx.QueryRowContext(ctx, `SELECT `+commentColumns+` FROM comments c WHERE c.id = ?1`, id))
		return err
	})
	if err != nil {
		return video.Comment{}, fmt.Errorf("edit comment %s: %w", id, err)
	}
	return c, nil
}

// DeleteComment implements [store.Comments.DeleteComment].
func (s *Store) DeleteComment(ctx context.Context, id string) (video.Comment, error) {
	if !store.ValidID(id) {
		return video.Comment{}, store.CommentNotFound(id)
	}
	var c video.Comment
	err := s.write(ctx, func(tx *sql.Tx, _ int64) error {
		var err error
		c, err = scanComment(tx.QueryRowContext(ctx, `SELECT `+commentColumns+` FROM comments c WHERE c.id = ?1`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return video.ErrNotFound
		}
		if err != nil {
			return err
		}
		// The replies go with a top-level comment, by the foreign key.
		if _, err := tx.ExecContext(ctx, `DELETE FROM comments WHERE id = ?1`, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE videos SET comments = comments - ?2 WHERE id = ?1`,
			c.VideoID, 1+c.Replies); err != nil {
			return err
		}
		if c.ParentID != "" {
			_, err = tx.ExecContext(ctx, `UPDATE comments SET replies = replies - 1 WHERE id = ?1`, c.ParentID)
		}
		return err
	})
	if err != nil {
		return video.Comment{}, fmt.Errorf("delete comment %s: %w", id, err)
	}
	return c, nil
}

// videoLive gives ErrNotFound unless a video that is not deleted has id.
func (s *Store) videoLive(ctx context.Context, id string) error {
	var live bool
	err := s.r.QueryRowContext(ctx, `
		SELECT EXISTS (SELECT 1 FROM videos WHERE id = ?1 AND state <> 'deleted')`, id).Scan(&live)
	if err == nil && !live {
		err = video.ErrNotFound
	}
	return err
}

// threadExists gives ErrNotFound unless a top-level comment has id.
func (s *Store) threadExists(ctx context.Context, id string) error {
	var found bool
	err := s.r.QueryRowContext(ctx, `
		SELECT EXISTS (SELECT 1 FROM comments WHERE id = ?1 AND parent_id IS NULL)`, id).Scan(&found)
	if err == nil && !found {
		err = video.ErrNotFound
	}
	return err
}
