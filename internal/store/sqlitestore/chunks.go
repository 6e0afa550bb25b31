package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

const chunkColumns = `idx, start_seconds, end_seconds, state, worker, lease_until, attempts, output, failure`

func scanChunk(row interface{ Scan(...any) error }) (video.Chunk, error) {
	var c video.Chunk
	var until int64
	err := row.Scan(&c.Index, &c.Start, &c.End, &c.State, &c.Worker, &until, &c.Attempts, &c.Output, &c.Failure)
	if until != 0 {
		c.LeaseUntil = fromUnixMicros(until)
	}
	return c, err
}

// PlanChunks implements [store.Chunks.PlanChunks].
func (s *Store) PlanChunks(ctx context.Context, id, worker, plan string, chunks []video.Chunk) error {
	if err := store.CheckChunks(plan, chunks); err != nil {
		return err
	}
	if !store.ValidID(id) {
		return fmt.Errorf("plan chunks of %s: %w", id, video.ErrLeaseLost)
	}
	err := s.write(ctx, func(tx *sql.Tx, _ int64) error {
		var held int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM videos WHERE `+leaseHeld, id, worker).Scan(&held)
		if errors.Is(err, sql.ErrNoRows) {
			return video.ErrLeaseLost
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM encode_chunks WHERE video_id = ?1`, id); err != nil {
			return err
		}
		for _, c := range chunks {
			if _, err := tx.ExecContext(ctx, `
				INSERT INTO encode_chunks (video_id, idx, plan, start_seconds, end_seconds)
				VALUES (?1, ?2, ?3, ?4, ?5)`, id, c.Index, plan, c.Start, c.End); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("plan chunks of %s: %w", id, err)
	}
	return nil
}

// ClaimChunk implements [store.Chunks.ClaimChunk].
func (s *Store) ClaimChunk(ctx context.Context, id, plan string, index int, worker string, lease time.Duration) (video.Chunk, error) {
	var c video.Chunk
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		var err error
		c, err = scanChunk(tx.QueryRowContext(ctx, `
			UPDATE encode_chunks SET state = 'encoding', worker = ?4, lease_until = ?5 + ?6, attempts = attempts + 1
			WHERE video_id = ?1 AND idx = (
				SELECT idx FROM encode_chunks
				WHERE video_id = ?1 AND plan = ?2 AND (?3 < 0 OR idx = ?3)
					AND (state = 'pending' OR (state = 'encoding' AND lease_until < ?5))
				ORDER BY idx LIMIT 1)
			RETURNING `+chunkColumns, id, plan, index, worker, now, lease.Microseconds()))
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, `
			SELECT EXISTS (SELECT 1 FROM encode_chunks WHERE video_id = ?1 AND plan = ?2 AND (?3 < 0 OR idx = ?3))`,
			id, plan, index).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return video.ErrNotFound
		}
		return video.ErrWrongState
	})
	if err != nil {
		return video.Chunk{}, fmt.Errorf("claim chunk %d of %s: %w", index, id, err)
	}
	return c, nil
}

// chunkHeld is the guard of every write by the worker holding a chunk.
const chunkHeld = `video_id = ?1 AND plan = ?2 AND idx = ?3 AND state = 'encoding' AND worker = ?4`

// RenewChunk implements [store.Chunks.RenewChunk].
func (s *Store) RenewChunk(ctx context.Context, id, plan string, index int, worker string, lease time.Duration) error {
	err := s.write(ctx, func(tx *sql.Tx, now int64) error {
		res, err := tx.ExecContext(ctx, `UPDATE encode_chunks SET lease_until = ?5 + ?6 WHERE `+chunkHeld,
			id, plan, index, worker, now, lease.Microseconds())
		return changed(res, err, video.ErrLeaseLost)
	})
	if err != nil {
		return fmt.Errorf("renew chunk %d of %s: %w", index, id, err)
	}
	return nil
}

// FinishChunk implements [store.Chunks.FinishChunk].
func (s *Store) FinishChunk(ctx context.Context, id, plan string, index int, worker, output string) error {
	err := s.write(ctx, func(tx *sql.Tx, _ int64) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE encode_chunks SET state = 'done', output = ?5, lease_until = 0, failure = '' WHERE `+chunkHeld,
			id, plan, index, worker, output)
		return changed(res, err, video.ErrLeaseLost)
	})
	if err != nil {
		return fmt.Errorf("finish chunk %d of %s: %w", index, id, err)
	}
	return nil
}

// ReleaseChunk implements [store.Chunks.ReleaseChunk].
func (s *Store) ReleaseChunk(ctx context.Context, id, plan string, index int, worker, why string, failed bool) error {
	state := video.ChunkPending
	if failed {
		state = video.ChunkFailed
	}
	err := s.write(ctx, func(tx *sql.Tx, _ int64) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE encode_chunks SET state = ?5, worker = '', lease_until = 0, failure = ?6 WHERE `+chunkHeld,
			id, plan, index, worker, state, why)
		return changed(res, err, video.ErrLeaseLost)
	})
	if err != nil {
		return fmt.Errorf("release chunk %d of %s: %w", index, id, err)
	}
	return nil
}

// ChunkPlan implements [store.Chunks.ChunkPlan].
func (s *Store) ChunkPlan(ctx context.Context, id, plan string) ([]video.Chunk, error) {
	rows, err := s.r.QueryContext(ctx, `
		SELECT `+chunkColumns+` FROM encode_chunks WHERE video_id = ?1 AND plan = ?2 ORDER BY idx`, id, plan)
	if err != nil {
		return nil, fmt.Errorf("chunks of %s: %w", id, err)
	}
	defer rows.Close()
	var chunks []video.Chunk
	for rows.Next() {
		c, err := scanChunk(rows)
		if err != nil {
			return nil, fmt.Errorf("chunks of %s: %w", id, err)
		}
		chunks = append(chunks, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("chunks of %s: %w", id, err)
	}
	if len(chunks) == 0 {
		return nil, fmt.Errorf("chunk plan %s of %s: %w", plan, id, video.ErrNotFound)
	}
	return chunks, nil
}

// DropChunks implements [store.Chunks.DropChunks].
func (s *Store) DropChunks(ctx context.Context, id, plan string) error {
	err := s.write(ctx, func(tx *sql.Tx, _ int64) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM encode_chunks WHERE video_id = ?1 AND plan = ?2`, id, plan)
		return err
	})
	if err != nil {
		return fmt.Errorf("drop chunks of %s: %w", id, err)
	}
	return nil
}
