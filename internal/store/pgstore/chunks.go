package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cloudflix/cloudflix/internal/store"
	"github.com/cloudflix/cloudflix/internal/video"
)

const chunkColumns = `idx, start_seconds, end_seconds, state, worker, lease_until, attempts, output, failure`

func scanChunk(row pgx.Row) (video.Chunk, error) {
	var c video.Chunk
	var until *time.Time
	err := row.Scan(&c.Index, &c.Start, &c.End, &c.State, &c.Worker, &until, &c.Attempts, &c.Output, &c.Failure)
	if until != nil {
		c.LeaseUntil = until.UTC()
	}
	return c, err
}

// PlanChunks implements [store.Chunks.PlanChunks]. The video's row is
// locked while the plan is replaced, so a worker whose lease is taken
// over at the same time cannot replace the new holder's plan.
func (s *Store) PlanChunks(ctx context.Context, id, worker, plan string, chunks []video.Chunk) error {
	if err := store.CheckChunks(plan, chunks); err != nil {
		return err
	}
	if !store.ValidID(id) {
		return fmt.Errorf("plan chunks of %s: %w", id, video.ErrLeaseLost)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var held int
		err := tx.QueryRow(ctx, `SELECT 1 FROM videos WHERE `+leaseHeld+` FOR NO KEY UPDATE`, id, worker).Scan(&held)
		if errors.Is(err, pgx.ErrNoRows) {
			return video.ErrLeaseLost
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM encode_chunks WHERE video_id = $1`, id); err != nil {
			return err
		}
		rows := make([][]any, len(chunks))
		for i, c := range chunks {
			rows[i] = []any{id, c.Index, plan, c.Start, c.End}
		}
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"encode_chunks"},
			[]string{"video_id", "idx", "plan", "start_seconds", "end_seconds"}, pgx.CopyFromRows(rows))
		return err
	})
	if err != nil {
		return fmt.Errorf("plan chunks of %s: %w", id, err)
	}
	return nil
}

// ClaimChunk implements [store.Chunks.ClaimChunk]. Workers looking for
// the first claimable chunk at once skip the rows others have locked, so
// each gets a chunk of its own.
func (s *Store) ClaimChunk(ctx context.Context, id, plan string, index int, worker string, lease time.Duration) (video.Chunk, error) {
	if !store.ValidID(id) {
		return video.Chunk{}, fmt.Errorf("claim chunk %d of %s: %w", index, id, video.ErrNotFound)
	}
	var c video.Chunk
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		c, err = scanChunk(tx.QueryRow(ctx, `
			UPDATE encode_chunks c SET state = 'encoding', worker = $4, lease_until = now() + $5 * interval '1 microsecond',
				attempts = c.attempts + 1
			FROM (SELECT idx FROM encode_chunks
				WHERE video_id = $1 AND plan = $2 AND ($3 < 0 OR idx = $3)
					AND (state = 'pending' OR (state = 'encoding' AND lease_until < now()))
				ORDER BY idx LIMIT 1 FOR UPDATE SKIP LOCKED) free
			WHERE c.video_id = $1 AND c.idx = free.idx
			RETURNING c.idx, c.start_seconds, c.end_seconds, c.state, c.worker, c.lease_until, c.attempts, c.output, c.failure`,
			id, plan, index, worker, lease.Microseconds()))
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `
			SELECT EXISTS (SELECT 1 FROM encode_chunks WHERE video_id = $1 AND plan = $2 AND ($3 < 0 OR idx = $3))`,
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
const chunkHeld = `video_id = $1 AND plan = $2 AND idx = $3 AND state = 'encoding' AND worker = $4`

// execChunkHeld runs a chunkHeld UPDATE, giving ErrLeaseLost when it
// changed nothing.
func (s *Store) execChunkHeld(ctx context.Context, what, id, query string, args ...any) error {
	if !store.ValidID(id) {
		return fmt.Errorf("%s of %s: %w", what, id, video.ErrLeaseLost)
	}
	tag, err := s.pool.Exec(ctx, query, args...)
	if err == nil && tag.RowsAffected() == 0 {
		err = video.ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("%s of %s: %w", what, id, err)
	}
	return nil
}

// RenewChunk implements [store.Chunks.RenewChunk].
func (s *Store) RenewChunk(ctx context.Context, id, plan string, index int, worker string, lease time.Duration) error {
	return s.execChunkHeld(ctx, fmt.Sprintf("renew chunk %d", index), id, `
		UPDATE encode_chunks SET lease_until = now() + $5 * interval '1 microsecond' WHERE `+chunkHeld,
		id, plan, index, worker, lease.Microseconds())
}

// FinishChunk implements [store.Chunks.FinishChunk].
func (s *Store) FinishChunk(ctx context.Context, id, plan string, index int, worker, output string) error {
	return s.execChunkHeld(ctx, fmt.Sprintf("finish chunk %d", index), id, `
		UPDATE encode_chunks SET state = 'done', output = $5, lease_until = NULL, failure = '' WHERE `+chunkHeld,
		id, plan, index, worker, output)
}

// ReleaseChunk implements [store.Chunks.ReleaseChunk].
func (s *Store) ReleaseChunk(ctx context.Context, id, plan string, index int, worker, why string, failed bool) error {
	state := video.ChunkPending
	if failed {
		state = video.ChunkFailed
	}
	return s.execChunkHeld(ctx, fmt.Sprintf("release chunk %d", index), id, `
		UPDATE encode_chunks SET state = $5, worker = '', lease_until = NULL, failure = $6 WHERE `+chunkHeld,
		id, plan, index, worker, string(state), why)
}

// ChunkPlan implements [store.Chunks.ChunkPlan].
func (s *Store) ChunkPlan(ctx context.Context, id, plan string) ([]video.Chunk, error) {
	if !store.ValidID(id) {
		return nil, fmt.Errorf("chunk plan %s of %s: %w", plan, id, video.ErrNotFound)
	}
	rows, err := s.pool.Query(ctx, `
		SELECT `+chunkColumns+` FROM encode_chunks WHERE video_id = $1 AND plan = $2 ORDER BY idx`, id, plan)
	if err != nil {
		return nil, fmt.Errorf("chunks of %s: %w", id, err)
	}
	chunks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (video.Chunk, error) { return scanChunk(r) })
	if err != nil {
		return nil, fmt.Errorf("chunks of %s: %w", id, err)
	}
	if len(chunks) == 0 {
		return nil, fmt.Errorf("chunk plan %s of %s: %w", plan, id, video.ErrNotFound)
	}
	return chunks, nil
}

// DropChunks implements [store.Chunks.DropChunks].
func (s *Store) DropChunks(ctx context.Context, id, plan string) error {
	if !store.ValidID(id) {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM encode_chunks WHERE video_id = $1 AND plan = $2`, id, plan); err != nil {
		return fmt.Errorf("drop chunks of %s: %w", id, err)
	}
	return nil
}
