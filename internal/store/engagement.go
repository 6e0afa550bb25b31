package store

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/cloudflix/cloudflix/internal/video"
)

// Engagement is the part of the store that keeps what viewers do with a
// video beyond watching it: likes, and the trending score that views (in
// AddViews) and likes move (video.TrendPoint says how).
type Engagement interface {
	// Like records that the user with id userID likes a video, at at, and
	// returns the video's likes now with Liked true. Liking again changes
	// nothing. The like adds video.LikeWeight to the video's trending
	// score. An absent or deleted video, or an absent user, gives
	// ErrNotFound; which videos a user may like is the caller's business.
	Like(ctx context.Context, videoID, userID string, at time.Time) (video.Likes, error)
	// Unlike takes a user's like of a video back, and what it added to
	// the trending score with it, and returns the video's likes now with
	// Liked false. Unliking what the user does not like changes nothing.
	// An absent or deleted video gives ErrNotFound.
	Unlike(ctx context.Context, videoID, userID string) (video.Likes, error)
	// Liked reports whether the user with id userID likes a video; an id
	// that names no video or user likes nothing.
	Liked(ctx context.Context, videoID, userID string) (bool, error)
	// TrendingVideos returns up to limit READY public videos whose score
	// at now is at least video.TrendFloor, highest score first (then id,
	// descending), strictly after the position `after`; the zero position
	// starts from the top. Each comes with its stored score, for the
	// position of the next page.
	TrendingVideos(ctx context.Context, limit int, after video.TrendPosition, now time.Time) ([]video.Trending, error)
}

// CheckLike refuses ids that cannot name a video or a user: neither
// exists, so the like has nothing to be of.
func CheckLike(videoID, userID string) error {
	if !ValidID(videoID) || !ValidID(userID) {
		return fmt.Errorf("like of %s by %s: %w", videoID, userID, video.ErrNotFound)
	}
	return nil
}

// CheckTrendPosition refuses a TrendingVideos position whose id cannot name
// a video, or whose score is not a number: it is the caller's mistake.
func CheckTrendPosition(after video.TrendPosition) error {
	if after.ID != "" && !ValidID(after.ID) {
		return video.Invalid("trending position id %q is not a video id", after.ID)
	}
	if math.IsNaN(after.Score) || math.IsInf(after.Score, 0) {
		return video.Invalid("trending position score %v is not a number", after.Score)
	}
	return nil
}

// LikeTime is at as stores keep it, to the microsecond, so that the point
// a like added (video.TrendPoint of this time) is the very point its
// Unlike takes away, computed from the stored time.
func LikeTime(at time.Time) time.Time { return at.UTC().Truncate(time.Microsecond) }

// ViewPoints are the trending points of AddViews' counts, in the order of
// ids and ns (ViewCounts): n views at at add video.TrendPoint(n ·
// ViewWeight, at). A count below one (a correction) adds nothing to the
// score: its point is nil.
func ViewPoints(ns []int64, at time.Time) []*float64 {
	points := make([]*float64, len(ns))
	for i, n := range ns {
		if n > 0 {
			p := video.TrendPoint(float64(n)*video.ViewWeight, at)
			points[i] = &p
		}
	}
	return points
}

// TrendSum is the SQL of a stored trending score plus a point, both in
// log scale (video.TrendPoint): ln(eˢ + eˣ), computed without overflow. A
// NULL score is no score yet; a NULL point adds nothing. larger names the
// dialect's two-argument maximum (greatest in PostgreSQL, max in SQLite).
func TrendSum(larger, score, point string) string {
	return fmt.Sprintf(`CASE WHEN %[2]s IS NULL THEN %[1]s WHEN %[1]s IS NULL THEN %[2]s
		ELSE %[3]s(%[1]s, %[2]s) + ln(1 + exp(-abs(%[1]s - %[2]s))) END`, score, point, larger)
}

// TrendDifference is the SQL of a stored trending score less a point it
// holds: ln(eˢ − eˣ), or NULL (no score) when nothing is left of it beyond
// rounding.
func TrendDifference(score, point string) string {
	return fmt.Sprintf(`CASE WHEN %[1]s IS NULL OR %[1]s - %[2]s < 1e-9 THEN NULL
		ELSE %[1]s + ln(1 - exp(%[2]s - %[1]s)) END`, score, point)
}
