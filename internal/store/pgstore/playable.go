package pgstore

import (
	"context"
	"fmt"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

// SetPlayable implements [store.Playback.SetPlayable].
func (s *Store) SetPlayable(ctx context.Context, id, worker string, playableSeconds, durationSeconds float64) error {
	if !store.ValidID(id) {
		return fmt.Errorf("set playable length of %s: %w", id, video.ErrLeaseLost)
	}
	tag, err := s.pool.Exec(ctx, `
		UPDATE videos SET playable_seconds = greatest(playable_seconds, $3), duration_seconds = $4, updated_at = now()
		WHERE `+leaseHeld, id, worker, max(playableSeconds, 0), max(durationSeconds, 0))
	if err == nil && tag.RowsAffected() == 0 {
		err = video.ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("set playable length of %s: %w", id, err)
	}
	return nil
}
