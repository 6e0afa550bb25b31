package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/webhook"
)

// commentColumns is what scanComment reads, in order, of comments (as c).
const commentColumns = `c.id::text, c.video_id::text, coalesce(c.parent_id::text, ''), c.author_id::text,
	coalesce((SELECT u.username FROM users u WHERE u.id = c.author_id), ''),
	c.body, c.replies, c.created_at, c.edited_at, c.hidden_at, c.hidden_reason`

// liveVideo holds a page of comments to those of a video that is not
// deleted, in the page's one statement.
const liveVideo = `EXISTS (SELECT 1 FROM videos v WHERE v.id = c.video_id AND v.state <> 'deleted')`

func scanComment(row pgx.Row) (video.Comment, error) {
	var (
		c        video.Comment
		editedAt *time.Time
		hiddenAt *time.Time
	)
	err := row.Scan(&c.ID, &c.VideoID, &c.ParentID, &c.AuthorID, &c.AuthorName,
		&c.Body, &c.Replies, &c.CreatedAt, &editedAt, &hiddenAt, &c.HiddenReason)
	if err != nil {
		return video.Comment{}, err
	}
	// In UTC, as the stores' times compare equal with ==.
	c.CreatedAt = c.CreatedAt.UTC()
	if editedAt != nil {
		c.EditedAt = editedAt.UTC()
	}
	if hiddenAt != nil {
		c.HiddenAt = hiddenAt.UTC()
	}
	return c, nil
}

// AddComment implements [store.Comments.AddComment]. The video's row is
// locked first, as a like locks it, so that turning comments off and
// posting one are in one order, and the count moves exactly; the author's
// row is locked next, so that one user's concurrent posts spend their
// allowance one after another whichever replica takes them.
func (s *Store) AddComment(ctx context.Context, c video.Comment, rate video.CommentRate) (video.Comment, error) {
	videoID := c.VideoID
	c, err := store.NewComment(c)
	if err != nil {
		return video.Comment{}, fmt.Errorf("comment on %s: %w", videoID, err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var (
			off   bool
			owner string
		)
		err := tx.QueryRow(ctx, `
			SELECT comments_off, coalesce(owner_id::text, '') FROM videos WHERE id = $1 AND state <> 'deleted' FOR NO KEY UPDATE`,
			c.VideoID).Scan(&off, &owner)
		if errors.Is(err, pgx.ErrNoRows) {
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
			err := tx.QueryRow(ctx, `
				SELECT coalesce(parent_id, id)::text FROM comments WHERE id = $1 AND video_id = $2`,
				c.ParentID, c.VideoID).Scan(&c.ParentID)
			if errors.Is(err, pgx.ErrNoRows) {
				return video.ErrNotFound
			}
			if err != nil {
				return err
			}
		}
		if err := spendAllowance(ctx, tx, c.AuthorID, rate, c.CreatedAt, &c.AuthorName); err != nil {
			return err
		}
		var parent *string
		if c.ParentID != "" {
			parent = &c.ParentID
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO comments (id, video_id, parent_id, author_id, body, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`,
			c.ID, c.VideoID, parent, c.AuthorID, c.Body, c.CreatedAt); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE videos SET comments = comments + 1 WHERE id = $1`, c.VideoID); err != nil {
			return err
		}
		if c.ParentID != "" {
			if _, err := tx.Exec(ctx, `UPDATE comments SET replies = replies + 1 WHERE id = $1`, c.ParentID); err != nil {
				return err
			}
		}
		e, err := webhook.CommentEvent(c, owner, time.Now())
		if err != nil {
			return err
		}
		return insertEvent(ctx, tx, e)
	})
	if err != nil {
		return video.Comment{}, fmt.Errorf("comment on %s by %s: %w", c.VideoID, c.AuthorID, err)
	}
	return c, nil
}

// spendAllowance takes one comment from the user's allowance at now, or
// refuses with a *video.RateLimitedError, and reads the user's username
// into name. The user's row is locked until the transaction ends: the
// allowance's row may not exist yet, and a lock on it could not order two
// first posts. An absent user has none: ErrNotFound.
func spendAllowance(ctx context.Context, tx pgx.Tx, userID string, rate video.CommentRate, now time.Time, name *string) error {
	var (
		a      video.Allowance
		tokens *float64
		at     *time.Time
	)
	err := tx.QueryRow(ctx, `
		SELECT u.username, a.tokens, a.at FROM users u LEFT JOIN comment_allowances a ON a.user_id = u.id
		WHERE u.id = $1 FOR NO KEY UPDATE OF u`, userID).Scan(name, &tokens, &at)
	if errors.Is(err, pgx.ErrNoRows) {
		return video.ErrNotFound
	}
	if err != nil {
		return err
	}
	if at != nil && tokens != nil {
		a = video.Allowance{Tokens: *tokens, At: *at}
	}
	if rate.Refill <= 0 { // no limit: nothing to spend
		return nil
	}
	left, wait := rate.Spend(a, now)
	if wait > 0 {
		return &video.RateLimitedError{RetryAfter: wait}
	}
	_, err = tx.Exec(ctx, `
		INSERT INTO comment_allowances (user_id, tokens, at) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET tokens = excluded.tokens, at = excluded.at`,
		userID, left.Tokens, left.At)
	return err
}

// Comment implements [store.Comments.Comment].
func (s *Store) Comment(ctx context.Context, id string) (video.Comment, error) {
	if !store.ValidID(id) {
		return video.Comment{}, store.CommentNotFound(id)
	}
	c, err := scanComment(s.pool.QueryRow(ctx, `SELECT `+commentColumns+` FROM comments c WHERE c.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
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
	where, args := `c.video_id = $1 AND c.parent_id IS NULL AND `+liveVideo, []any{videoID, limit}
	if after.ID != "" {
		where += ` AND (c.created_at, c.id) < ($3, $4::uuid)`
		args = append(args, after.CreatedAt, after.ID)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+commentColumns+` FROM comments c
		WHERE `+where+` ORDER BY c.created_at DESC, c.id DESC LIMIT $2`, args...)
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
	where, args := `c.parent_id = $1`, []any{parentID, limit}
	if after.ID != "" {
		where += ` AND (c.created_at, c.id) > ($3, $4::uuid)`
		args = append(args, after.CreatedAt, after.ID)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+commentColumns+` FROM comments c
		WHERE `+where+` ORDER BY c.created_at, c.id LIMIT $2`, args...)
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

func collectComments(rows pgx.Rows) ([]video.Comment, error) {
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
	c, err := scanComment(s.pool.QueryRow(ctx, `
		UPDATE comments c SET body = $2, edited_at = $3 WHERE c.id = $1
		RETURNING `+commentColumns, id, body, store.LikeTime(at)))
	if errors.Is(err, pgx.ErrNoRows) {
		return video.Comment{}, store.CommentNotFound(id)
	}
	if err != nil {
		return video.Comment{}, fmt.Errorf("edit comment %s: %w", id, err)
	}
	return c, nil
}

// DeleteComment implements [store.Comments.DeleteComment]. The video's
// row is locked before the comment's, in the order AddComment takes them,
// so that a delete and a post of one video cannot deadlock.
func (s *Store) DeleteComment(ctx context.Context, id string) (video.Comment, error) {
	if !store.ValidID(id) {
		return video.Comment{}, store.CommentNotFound(id)
	}
	var c video.Comment
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var videoID string
		err := tx.QueryRow(ctx, `SELECT video_id::text FROM comments WHERE id = $1`, id).Scan(&videoID)
		if errors.Is(err, pgx.ErrNoRows) {
			return video.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `SELECT 1 FROM videos WHERE id = $1 FOR NO KEY UPDATE`, videoID); err != nil {
			return err
		}
		// Under the video's lock no reply can join the comment any more:
		// its reply count is final.
		c, err = scanComment(tx.QueryRow(ctx, `
			DELETE FROM comments c WHERE c.id = $1 RETURNING `+commentColumns, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return video.ErrNotFound // removed meanwhile
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE videos SET comments = comments - $2 WHERE id = $1`,
			c.VideoID, 1+c.Replies); err != nil {
			return err
		}
		if c.ParentID != "" {
			_, err = tx.Exec(ctx, `UPDATE comments SET replies = replies - 1 WHERE id = $1`, c.ParentID)
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
	err := s.pool.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM videos WHERE id = $1 AND state <> 'deleted')`, id).Scan(&live)
	if err == nil && !live {
		err = video.ErrNotFound
	}
	return err
}

// threadExists gives ErrNotFound unless a top-level comment has id.
func (s *Store) threadExists(ctx context.Context, id string) error {
	var found bool
	err := s.pool.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM comments WHERE id = $1 AND parent_id IS NULL)`, id).Scan(&found)
	if err == nil && !found {
		err = video.ErrNotFound
	}
	return err
}
