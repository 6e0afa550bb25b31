package video

import (
	"math"
	"time"
)

// Trending ranks videos by an exponentially decayed count of what viewers
// did with them: every counted view adds ViewWeight and every like
// LikeWeight, and what was added halves every TrendHalfLife. A video's
// score at a time now is
//
//	score(now) = Σ weightᵢ · 2^(−(now − tᵢ)/TrendHalfLife)
//
// over its views and likes at times tᵢ. Unlike a Hacker-News-style score
// (points over a power of the age of the item), it rewards activity that is
// recent rather than a video that is new: an old video that people start
// watching again trends again, and one counted burst fades in days.
//
// Every score shrinks by the same factor as time passes, so their order
// does not change by itself. Stores therefore keep, instead of the score,
// its natural log scaled to a fixed epoch,
//
//	stored = ln Σ weightᵢ · 2^((tᵢ − epoch)/TrendHalfLife)
//
// which orders videos as their scores do at any moment, never needs
// rewriting as time passes (so reading trending videos is an index scan),
// and grows by only ln 2 per half-life, so it cannot overflow. An event
// adds its point (TrendPoint) by a log-sum (ln(eᵃ + eᵇ)); an undone like
// takes its point away again by a log-difference, so liking and unliking
// in a loop earns nothing.
const (
	// TrendHalfLife is how long it takes what a view or like adds to a
	// score to halve: a day, so that the row follows what people watch
	// today, while yesterday's hit still counts for half.
	TrendHalfLife = 24 * time.Hour
	// ViewWeight is what one counted view adds.
	ViewWeight = 1.0
	// LikeWeight is what one like adds: a like says more than a view (it
	// takes a signed-in viewer and a decision), but not so much that a few
	// accounts outweigh an audience.
	LikeWeight = 3.0
	// TrendFloor is the least score a trending video has: a single view
	// some three and a third half-lives (80 hours) ago. A video with no
	// view or like within days leaves the list.
	TrendFloor = 0.1
)

// trendEpoch is the fixed origin of stored scores. Changing it, or
// TrendHalfLife, would make stored scores meaningless.
var trendEpoch = time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)

// TrendPoint is what weight added at time at contributes to a stored score:
// ln(weight) + ln 2 · (at − epoch)/TrendHalfLife.
func TrendPoint(weight float64, at time.Time) float64 {
	return math.Log(weight) + trendOffset(at)
}

// TrendScore is the score at now of a video whose stored score is stored.
func TrendScore(stored float64, now time.Time) float64 {
	return math.Exp(stored - trendOffset(now))
}

// TrendCutoff is the least stored score a video listed as trending at now
// has: TrendFloor in the stored scale.
func TrendCutoff(now time.Time) float64 { return TrendPoint(TrendFloor, now) }

func trendOffset(at time.Time) float64 {
	return math.Ln2 * float64(at.Sub(trendEpoch)) / float64(TrendHalfLife)
}

// TrendPosition is a keyset position in the trending list: the stored
// score and id of the last video of a page; the zero value is the start.
// Scores move while someone pages, so a video may show on two pages or on
// none; a trending list is looked at, not audited.
type TrendPosition struct {
	Score float64
	ID    string
}

// Likes is how a viewer stands with a video: its count of likes and
// whether the viewer is among them.
type Likes struct {
	Count int64
	Liked bool
}

// Trending is a video in the trending list with its stored score.
type Trending struct {
	Video Video
	Score float64
}
