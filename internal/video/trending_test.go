package video

import (
	"math"
	"testing"
	"time"
)

// Stored points add up to the decayed sum of the weights: a like now and a
// view one half-life ago score 3 + 1/2.
func TestTrendPointsDecayByHalfLife(t *testing.T) {
	now := time.Date(2026, time.March, 4, 12, 0, 0, 0, time.UTC)
	like := TrendPoint(LikeWeight, now)
	view := TrendPoint(ViewWeight, now.Add(-TrendHalfLife))
	stored := math.Max(like, view) + math.Log1p(math.Exp(-math.Abs(like-view)))
	if got := TrendScore(stored, now); math.Abs(got-3.5) > 1e-9 {
		t.Fatalf("score = %v, want 3.5", got)
	}
	if got := TrendScore(stored, now.Add(TrendHalfLife)); math.Abs(got-1.75) > 1e-9 {
		t.Fatalf("a half-life later the score = %v, want 1.75", got)
	}
	if c := TrendScore(TrendCutoff(now), now); math.Abs(c-TrendFloor) > 1e-12 {
		t.Fatalf("cutoff scores %v, want the floor %v", c, TrendFloor)
	}
	// Ten years on, a stored score is still a small number.
	if p := TrendPoint(ViewWeight, trendEpoch.AddDate(10, 0, 0)); p > 3000 {
		t.Fatalf("a point ten years after the epoch is %v", p)
	}
}
