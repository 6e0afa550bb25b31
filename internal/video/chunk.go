package video

import "time"

// A long video is encoded in chunks that many workers take at once: the
// worker that claims the video (its coordinator) cuts the source at times
// on the output's segment grid, records the chunks as jobs, encodes the
// audio in one pass, takes chunks itself while any is left, and joins the
// chunks' video with the audio into the renditions. Each chunk is claimed
// with a lease of its own, as a video is, so a worker that dies costs only
// its chunk; the chunks belong to one claim of the video (Plan), so a
// chunk of an earlier claim cannot be mistaken for one of this claim's.

// ChunkState is where a chunk job is.
type ChunkState string

const (
	ChunkPending  ChunkState = "pending"  // no one encodes it, or its encoder died
	ChunkEncoding ChunkState = "encoding" // a worker holds its lease
	ChunkDone     ChunkState = "done"     // its files are stored under Output
	ChunkFailed   ChunkState = "failed"   // the source cannot be encoded there (Failure says why)
)

// Chunk is a part of a video's source, encoded as one job.
type Chunk struct {
	Index int
	// Start is where the chunk begins in the source, in seconds: a
	// multiple of the segment length.
	Start float64
	// End is where it ends (where the next begins), or 0 for the last
	// chunk, which runs to the source's end.
	End float64

	State      ChunkState
	Worker     string    // the lease holder, while encoding
	LeaseUntil time.Time // while encoding
	Attempts   int       // claims so far
	Output     string    // the object key prefix of its files, once done
	Failure    string    // why it failed, or why its last attempt did
}

// Last reports whether c runs to the source's end.
func (c Chunk) Last() bool { return c.End == 0 }

// ChunkPrefix is the object key prefix of the chunk files of a video's
// encode plan: they are the encode's scratch work, under the video's
// folder so that deleting the video deletes them.
func ChunkPrefix(id, plan string) string { return ChunksPrefix(id) + plan + "/" }

// ChunksPrefix is the object key prefix of the chunk files of every plan
// of a video's encodes.
func ChunksPrefix(id string) string { return VideoPrefix(id) + "chunks/" }
