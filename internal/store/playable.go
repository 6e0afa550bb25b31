package store

import "context"

// Playback is the part of the store that says how much of a video still
// encoding can be watched already (video.Video.PlayableSeconds).
type Playback interface {
	// SetPlayable records that worker's encode of a video lasting
	// durationSeconds can be played from its start for playableSeconds:
	// its growing playlists list that much. The playable length only
	// grows within an encode (a smaller one is ignored) and starts again
	// from 0 with each claim, whose attempt publishes files of its own.
	// ErrLeaseLost when the video is no longer processing under worker's
	// lease.
	SetPlayable(ctx context.Context, id, worker string, playableSeconds, durationSeconds float64) error
}
