package video

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Comment is what a signed-in user wrote under a video: a top-level
// comment, or a reply to one. Replies go one level deep: a reply to a reply
// joins the thread of the top-level comment the replied-to reply is under,
// so ParentID always names a top-level comment.
type Comment struct {
	ID         string
	VideoID    string
	ParentID   string // the top-level comment replied to; "" for a top-level comment
	AuthorID   string
	AuthorName string // the author's username, read with the comment
	Body       string
	Replies    int64 // of a top-level comment, the replies under it
	CreatedAt  time.Time
	EditedAt   time.Time // zero when never edited
	// HiddenAt is when a moderator hid the comment, zero while it shows;
	// HiddenReason is why, which its author reads.
	HiddenAt     time.Time
	HiddenReason string
}

// TopLevel reports whether c starts a thread rather than replying in one.
func (c Comment) TopLevel() bool { return c.ParentID == "" }

// Hidden reports whether a moderator took c out of sight.
func (c Comment) Hidden() bool { return !c.HiddenAt.IsZero() }

// Placeholder is what stands in a thread for a hidden comment: its place
// (id, video, thread, time, replies) without what was written or who wrote
// it, so that the replies under it still read as a conversation. It is
// what readers of a video on YouTube or PeerTube meet where a comment was
// removed with replies under it: a line saying so, not a gap.
func (c Comment) Placeholder() Comment {
	return Comment{
		ID: c.ID, VideoID: c.VideoID, ParentID: c.ParentID, Replies: c.Replies,
		CreatedAt: c.CreatedAt, HiddenAt: c.HiddenAt,
	}
}

// MaxCommentRunes bounds a comment's body, in characters after trimming:
// long enough for a paragraph of discussion, short enough that one page of
// comments stays a small answer.
const MaxCommentRunes = 5000

// CommentBody checks the text of a comment as a person typed it and returns
// it as it is kept: trimmed of surrounding space, not empty, at most
// MaxCommentRunes characters of valid UTF-8, with no control characters but
// line breaks and tabs. The text is plain: it is shown as text, never as
// markup.
func CommentBody(text string) (string, error) {
	if !utf8.ValidString(text) {
		return "", Invalid("comment is not valid UTF-8 text")
	}
	text = strings.TrimSpace(strings.ReplaceAll(text, "\r\n", "\n"))
	if text == "" {
		return "", Invalid("comment is empty")
	}
	if n := utf8.RuneCountInString(text); n > MaxCommentRunes {
		return "", Invalid("comment is %d characters long; the limit is %d", n, MaxCommentRunes)
	}
	for _, r := range text {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return "", Invalid("comment holds the control character %U", r)
		}
	}
	return text, nil
}

// CommentPosition is a keyset position in a list of comments (by creation
// time, then id); the zero value is the start of the list.
type CommentPosition struct {
	CreatedAt time.Time
	ID        string
}

// Comment posting is limited per user by a token bucket: a user may post
// CommentBurst comments at once, and one more every CommentRefill after
// that. Deleting a comment gives nothing back, so posting and deleting in
// a loop is limited too.
const (
	CommentBurst  = 10
	CommentRefill = 20 * time.Second
)

// CommentRate is the bucket a user's comments are counted in.
type CommentRate struct {
	Burst  int           // comments a user may post at once
	Refill time.Duration // time for one more comment to be allowed; zero allows any number
}

// DefaultCommentRate is the platform's rate of comments per user.
var DefaultCommentRate = CommentRate{Burst: CommentBurst, Refill: CommentRefill}

// Allowance is what is left of a user's bucket at a time: tokens, of at
// most Burst, each one comment.
type Allowance struct {
	Tokens float64
	At     time.Time
}

// Spend takes one comment from the allowance a, as it stood at a.At, at
// time now: refilled for the time since, at most Burst. It returns the
// allowance left, or how long until one comment is allowed when none is.
// A bucket never seen before (zero At) is full.
func (r CommentRate) Spend(a Allowance, now time.Time) (Allowance, time.Duration) {
	if r.Refill <= 0 {
		return a, 0
	}
	tokens := float64(r.Burst)
	if !a.At.IsZero() {
		tokens = a.Tokens
		if elapsed := now.Sub(a.At); elapsed > 0 {
			tokens += float64(elapsed) / float64(r.Refill)
		}
		tokens = min(tokens, float64(r.Burst))
	}
	if tokens < 1 {
		wait := time.Duration((1 - tokens) * float64(r.Refill))
		return a, max(wait, time.Second)
	}
	at := now
	if at.Before(a.At) { // another replica's clock ran ahead: never go back
		at = a.At
	}
	return Allowance{Tokens: tokens - 1, At: at}, 0
}

// Errors of comments; transports map them to codes.
var (
	// ErrCommentsOff: the video's owner turned comments off; the ones
	// already there stay readable.
	ErrCommentsOff = errors.New("comments are turned off for this video")
)

// RateLimitedError refuses a comment posted faster than the user's
// CommentRate allows; RetryAfter says when one more is.
type RateLimitedError struct{ RetryAfter time.Duration }

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("too many comments; try again in %s", e.RetryAfter.Round(time.Second))
}

// AsRateLimited returns the *RateLimitedError err is or wraps, or nil.
func AsRateLimited(err error) *RateLimitedError {
	var rl *RateLimitedError
	if errors.As(err, &rl) {
		return rl
	}
	return nil
}
