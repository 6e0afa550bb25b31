package store

import (
	"context"
	"math"
	"time"

	"github.com/cloudflix/cloudflix/internal/video"
)

// Chunks is the part of the store that keeps the chunk jobs of videos
// encoded in chunks (video.Chunk). A video has at most one plan of chunks
// at a time, made by the worker holding its encode lease; each chunk is
// claimed with a lease of its own, renewed while it is encoded, and given
// to another worker once that lease runs out.
type Chunks interface {
	// PlanChunks replaces whatever chunk jobs a video has with chunks,
	// pending, under the name plan, for the worker holding the video's
	// encode lease; ErrLeaseLost for anyone else.
	PlanChunks(ctx context.Context, id, worker, plan string, chunks []video.Chunk) error
	// ClaimChunk gives worker the lease on a chunk of the plan that is
	// pending or whose lease has run out, and counts the attempt: the
	// chunk index, or the first such chunk when index < 0. ErrNotFound
	// when the video has no such plan or chunk (a plan that was
	// replaced); ErrWrongState when the chunk, or every chunk for
	// index < 0, is done, failed or held by a live lease.
	ClaimChunk(ctx context.Context, id, plan string, index int, worker string, lease time.Duration) (video.Chunk, error)
	// RenewChunk extends worker's lease on a chunk it encodes;
	// ErrLeaseLost when it no longer holds it.
	RenewChunk(ctx context.Context, id, plan string, index int, worker string, lease time.Duration) error
	// FinishChunk records the chunk done, its files stored under the key
	// prefix output, by the worker holding it; ErrLeaseLost when it no
	// longer does (its files are then its own to remove).
	FinishChunk(ctx context.Context, id, plan string, index int, worker, output string) error
	// ReleaseChunk gives a chunk worker could not encode back, to be
	// claimed again, with why; or, when failed, marks it failed for good
	// (the source cannot be encoded there). ErrLeaseLost when worker no
	// longer holds it.
	ReleaseChunk(ctx context.Context, id, plan string, index int, worker, why string, failed bool) error
	// ChunkPlan returns the chunks of the plan in order; ErrNotFound when
	// the video has no such plan.
	ChunkPlan(ctx context.Context, id, plan string) ([]video.Chunk, error)
	// DropChunks removes the plan's chunk jobs, once its encode is over.
	DropChunks(ctx context.Context, id, plan string) error
}

// CheckChunks refuses a plan whose chunks are not in order, do not meet
// end to end from 0, or do not end with the one chunk running to the
// source's end: a worker would join such chunks into a broken rendition.
func CheckChunks(plan string, chunks []video.Chunk) error {
	if plan == "" || len(plan) > 64 {
		return video.Invalid("chunk plan name %q is empty or too long", plan)
	}
	if len(chunks) == 0 {
		return video.Invalid("a chunk plan needs a chunk")
	}
	next := 0.0
	for i, c := range chunks {
		if c.Index != i || c.Start != next || math.IsNaN(c.End) || math.IsInf(c.End, 0) ||
			c.Last() != (i == len(chunks)-1) || (!c.Last() && c.End <= c.Start) {
			return video.Invalid("chunk %d of %d (%v to %v) does not follow the one before it", i, len(chunks), c.Start, c.End)
		}
		next = c.End
	}
	return nil
}
