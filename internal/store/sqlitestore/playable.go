package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

// SetPlayable implements [store.Playback.SetPlayable].
func (s *Store) SetPlayable(ctx context.Context, id, worker string, playableSeconds, durationSeconds float64) error {
	if !store.ValidID(id) {
		return fmt.Errorf("set playable length of %s: %w", id, video.ErrLeaseLost)
	}
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE videos SET playable_seconds = max(playable_seconds, ?4), duration_seconds = ?5, updated_at = ?3
			WHERE `+leaseHeld, id, worker, now, max(playableSeconds, 0), max(durationSeconds, 0))
		return changed(res, err, video.ErrLeaseLost)
	})
	if err != nil {
		return fmt.Errorf("set playable length of %s: %w", id, err)
	}
	return nil
}
