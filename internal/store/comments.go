package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/cloudflix/cloudflix/internal/video"
)

// Comments is the part of the store that keeps what users write under
// videos. A video's Comments counts its comments, replies included, and a
// top-level comment's Replies its replies: both are counters moved in the
// transaction that adds or removes a comment, never counted per read.
// Which comments a principal may read, post, edit or remove is the
// caller's business (video.CanComment and its siblings).
type Comments interface {
	// AddComment stores c, a checked body (video.CommentBody) by the user
	// c.AuthorID on the video c.VideoID, at c.CreatedAt, as a top-level
	// comment or, with c.ParentID, a reply, and returns it as stored. An
	// empty c.ID is filled in. A reply to a reply goes to the top-level
	// comment that one is under. In the same transaction it spends one
	// comment of the author's allowance under rate (video.CommentRate):
	// when none is left nothing is stored and the error is a
	// *video.RateLimitedError. A video that is absent or deleted, an
	// absent author, or a parent that is not a comment of that video give
	// ErrNotFound; a video whose comments are off, video.ErrCommentsOff.
	AddComment(ctx context.Context, c video.Comment, rate video.CommentRate) (video.Comment, error)
	// Comment returns the comment with id, with its author's username, or
	// ErrNotFound.
	Comment(ctx context.Context, id string) (video.Comment, error)
	// VideoComments returns up to limit top-level comments of a video,
	// newest first (created_at, then id, descending), strictly after the
	// position `after`; an absent or deleted video gives ErrNotFound.
	VideoComments(ctx context.Context, videoID string, limit int, after video.CommentPosition) ([]video.Comment, error)
	// CommentReplies returns up to limit replies to the top-level comment
	// with id parentID, oldest first (created_at, then id, ascending) as a
	// conversation reads, strictly after the position `after`; an absent
	// comment gives ErrNotFound.
	CommentReplies(ctx context.Context, parentID string, limit int, after video.CommentPosition) ([]video.Comment, error)
	// EditComment replaces a comment's body with a checked one, records
	// at as the time of the edit, and returns the comment as it now is;
	// ErrNotFound when there is no such comment.
	EditComment(ctx context.Context, id, body string, at time.Time) (video.Comment, error)
	// DeleteComment removes a comment, and a top-level comment's replies
	// with it, takes them off the video's count (and a reply off its
	// parent's), and returns the comment as it was; ErrNotFound when there
	// is no such comment.
	DeleteComment(ctx context.Context, id string) (video.Comment, error)
}

// NewComment checks a comment as AddComment is given it and completes it
// for the insert: ids must be canonical UUIDs (anything else names
// nothing: ErrNotFound), the body is checked again, an empty id becomes a
// fresh one and the time is kept to the microsecond, as both stores keep
// times.
func NewComment(c video.Comment) (video.Comment, error) {
	if !ValidID(c.VideoID) || !ValidID(c.AuthorID) || (c.ParentID != "" && !ValidID(c.ParentID)) {
		return video.Comment{}, video.ErrNotFound
	}
	if c.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return video.Comment{}, err
		}
		c.ID = id.String()
	}
	if !ValidID(c.ID) {
		return video.Comment{}, video.Invalid("comment id %q is not a canonical UUID", c.ID)
	}
	body, err := video.CommentBody(c.Body)
	if err != nil {
		return video.Comment{}, err
	}
	c.Body = body
	if c.CreatedAt.IsZero() {
		c.CreatedAt = time.Now()
	}
	c.CreatedAt = LikeTime(c.CreatedAt)
	c.EditedAt, c.Replies, c.AuthorName = time.Time{}, 0, ""
	return c, nil
}

// CheckCommentPosition refuses a position whose id cannot name a comment:
// it is the caller's mistake, not the end of the list.
func CheckCommentPosition(after video.CommentPosition) error {
	if after.ID != "" && !ValidID(after.ID) {
		return video.Invalid("comment position id %q is not a comment id", after.ID)
	}
	return nil
}

// CommentNotFound is the error of a comment id that names nothing.
func CommentNotFound(id string) error {
	return fmt.Errorf("comment %s: %w", id, video.ErrNotFound)
}
