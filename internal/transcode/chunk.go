package transcode

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/cloudflix/cloudflix/internal/ladder"
	"github.com/cloudflix/cloudflix/internal/video"
)

// Chunked encoding: a long source is cut into chunks at times on the
// segment grid (ChunkPlan), each chunk's picture is encoded for every rung
// on its own (EncodeChunk), the audio once for the whole source
// (EncodeAudio), and Join puts each rung's chunks end to end with the
// audio and muxes them into the same HLS renditions Encode writes.
//
// A chunk starts at the first frame at or after its start time, the frame
// a one-pass encode makes a keyframe, and has exactly the frames a
// one-pass encode has between its start and the next chunk's; its
// keyframes fall on the frames where a one-pass encode puts them. So the
// joined renditions have the one-pass encode's frames, timestamps and
// segments. The audio is never cut, so the joins cannot click or drift.

// ChunkPlan cuts a source lasting duration seconds into chunks of
// chunkSeconds (rounded down to whole segments, at least one), the last
// running to the source's end. A last piece shorter than half a chunk
// joins the chunk before it rather than being a job of its own.
func ChunkPlan(duration float64, chunkSeconds int) []video.Chunk {
	size := max(SegmentSeconds, chunkSeconds/SegmentSeconds*SegmentSeconds)
	n := int(duration / float64(size))
	if rest := duration - float64(n*size); n == 0 || rest >= float64(size)/2 {
		n++
	}
	chunks := make([]video.Chunk, n)
	for i := range chunks {
		chunks[i] = video.Chunk{Index: i, Start: float64(i * size), End: float64((i + 1) * size), State: video.ChunkPending}
	}
	chunks[n-1].End = 0
	return chunks
}

// frameAt is the index of the first output frame at or after t seconds,
// at fps frames a second.
func frameAt(t, fps float64) int64 {
	return int64(math.Ceil(t*fps - 1e-6))
}

// chunkFrames is where chunk c begins on the output's frame grid of src:
// its first frame, and how many frames it has (0 for the last chunk,
// which has the rest).
func chunkFrames(src Source, c video.Chunk) (first, frames int64) {
	fps := outputRate(src.FrameRate)
	first = frameAt(c.Start, fps)
	if !c.Last() {
		frames = frameAt(c.End, fps) - first
	}
	return first, frames
}

// ChunkFile is the name of rung's file in a chunk's folder.
func ChunkFile(rung string) string { return rung + ".mp4" }

// EncodeChunk encodes chunk c of the source at srcPath for every rung,
// video only, into outDir/{rung}.mp4 (ChunkFile). progress is as
// Encode's, for the chunk.
func (o Options) EncodeChunk(ctx context.Context, src Source, srcPath string, c video.Chunk, outDir string, rungs []ladder.Rung, progress func(float64)) error {
	if err := checkChunk(src, c); err != nil {
		return fmt.Errorf("encode chunk %d: %w", c.Index, err)
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("encode chunk %d: %w", c.Index, err)
	}
	if err := o.ffmpeg(ctx, o.chunkCommand(src, srcPath, c, outDir, rungs), newProgressParser(chunkSeconds(src, c), progress)); err != nil {
		return fmt.Errorf("encode chunk %d: %w", c.Index, err)
	}
	if progress != nil {
		progress(1)
	}
	return nil
}

func checkChunk(src Source, c video.Chunk) error {
	switch {
	case c.Start < 0 || math.Mod(c.Start, SegmentSeconds) != 0:
		return fmt.Errorf("start %v is not on the %d s segment grid", c.Start, SegmentSeconds)
	case !c.Last() && (c.End <= c.Start || math.Mod(c.End, SegmentSeconds) != 0):
		return fmt.Errorf("end %v is not a segment boundary after its start %v", c.End, c.Start)
	case c.Start >= src.DurationSeconds:
		return fmt.Errorf("start %v is past the source's end (%.3f s)", c.Start, src.DurationSeconds)
	}
	return nil
}

// chunkSeconds is how long chunk c of src lasts.
func chunkSeconds(src Source, c video.Chunk) float64 {
	if c.Last() {
		return src.DurationSeconds - c.Start
	}
	return c.End - c.Start
}

// chunkCommand is the ffmpeg arguments that encode chunk c: seek to its
// start (ffmpeg decodes from the keyframe before and drops the frames
// before the start), keep its frames, and write one video-only MP4 per
// rung. Its timestamps start at its first frame; its keyframes are put
// where the source's grid has them (Options.x264's keyOffset).
func (o Options) chunkCommand(src Source, srcPath string, c video.Chunk, outDir string, rungs []ladder.Rung) []string {
	fps := outputRate(src.FrameRate)
	first, frames := chunkFrames(src, c)
	args := append(o.global(), "-ss", strconv.FormatFloat(c.Start, 'f', -1, 64))
	args = append(args, input(srcPath)...)
	args = append(args, "-filter_complex", ladderGraph(src, fps, int(frames), rungs))
	offset := float64(first)/fps - c.Start
	for i, r := range rungs {
		args = append(args, "-map", fmt.Sprintf("[v%d]", i))
		args = append(args, o.threads()...)
		args = append(args, o.x264(fps, offset)...)
		args = append(args, rungVideo("", r, fps)...)
		args = append(args, "-f", "mp4", filepath.Join(outDir, ChunkFile(r.Name)))
	}
	return args
}

// audioBitrates are the distinct audio bit rates of rungs, lowest first.
func audioBitrates(rungs []ladder.Rung) []int {
	var rates []int
	for _, r := range rungs {
		if !slices.Contains(rates, r.AudioBitrate) {
			rates = append(rates, r.AudioBitrate)
		}
	}
	slices.Sort(rates)
	return rates
}

// AudioFile is the name of the audio track at bitrate in an audio folder.
func AudioFile(bitrate int) string { return "audio-" + strconv.Itoa(bitrate) + ".m4a" }

// EncodeAudio encodes the source's whole audio once for each audio bit
// rate of rungs into outDir (AudioFile), as Encode encodes it. A source
// without audio has nothing to encode.
func (o Options) EncodeAudio(ctx context.Context, src Source, srcPath, outDir string, rungs []ladder.Rung) error {
	if !src.HasAudio {
		return nil
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return fmt.Errorf("encode audio: %w", err)
	}
	args := append(o.global(), input(srcPath)...)
	for _, rate := range audioBitrates(rungs) {
		args = append(args, "-map", "0:a:0", "-vn")
		args = append(args, o.threads()...)
		args = append(args, aac()...)
		args = append(args, "-b:a", strconv.Itoa(rate), "-f", "mp4", filepath.Join(outDir, AudioFile(rate)))
	}
	if err := o.ffmpeg(ctx, args, io.Discard); err != nil {
		return fmt.Errorf("encode audio: %w", err)
	}
	return nil
}

// Join puts the chunks of a source end to end for every rung, muxes each
// rung's video with its audio track from audioDir (EncodeAudio), without
// encoding anything again, into the HLS renditions under outDir that
// Encode would have written, and measures them as Encode does.
// chunkDirs[i] is the folder of chunks[i]'s files (EncodeChunk).
func (o Options) Join(ctx context.Context, src Source, chunks []video.Chunk, chunkDirs []string, audioDir, outDir string, rungs []ladder.Rung) ([]video.Rendition, error) {
	if err := o.prepare(outDir, rungs); err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	if len(chunks) == 0 || len(chunks) != len(chunkDirs) {
		return nil, fmt.Errorf("join: %d chunks in %d folders", len(chunks), len(chunkDirs))
	}
	for i, c := range chunks {
		if c.Index != i || c.Last() != (i == len(chunks)-1) {
			return nil, fmt.Errorf("join: chunk %d of %d is out of place (index %d, last %v)", i, len(chunks), c.Index, c.Last())
		}
	}
	args := o.global()
	for _, r := range rungs {
		list := filepath.Join(outDir, "chunks-"+r.Name+".txt")
		if err := os.WriteFile(list, concatList(src, chunks, chunkDirs, r.Name), 0o644); err != nil {
			return nil, fmt.Errorf("join: %w", err)
		}
		args = append(args, "-f", "concat", "-safe", "0", "-protocol_whitelist", "file", "-i", "file:"+list)
	}
	rates := audioBitrates(rungs)
	if src.HasAudio {
		for _, rate := range rates {
			args = append(args, "-protocol_whitelist", "file", "-i", "file:"+filepath.Join(audioDir, AudioFile(rate)))
		}
	}
	for i, r := range rungs {
		args = append(args, "-map", fmt.Sprintf("%d:v:0", i))
		if src.HasAudio {
			args = append(args, "-map", fmt.Sprintf("%d:a:0", len(rungs)+slices.Index(rates, r.AudioBitrate)))
		}
	}
	args = append(args, "-c", "copy")
	args = append(args, o.hls(outDir, rungs, src.HasAudio)...)
	if err := o.ffmpeg(ctx, args, io.Discard); err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	renditions, err := o.measureAll(ctx, src, outDir, rungs)
	if err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	return renditions, nil
}

// concatList is the concat demuxer's list of rung's chunk files. Each
// chunk but the last is given its exact length on the frame grid, as
// the difference of whole microseconds from the source's start, so that
// the offsets the demuxer adds up land on the frames' own timestamps
// however many chunks there are.
func concatList(src Source, chunks []video.Chunk, dirs []string, rung string) []byte {
	fps := outputRate(src.FrameRate)
	micros := func(frame int64) int64 { return int64(math.Round(float64(frame) / fps * 1e6)) }
	var b strings.Builder
	b.WriteString("ffconcat version 1.0\n")
	for i, c := range chunks {
		fmt.Fprintf(&b, "file %s\n", concatQuote(filepath.Join(dirs[i], ChunkFile(rung))))
		if first, frames := chunkFrames(src, c); frames > 0 {
			d := micros(first+frames) - micros(first)
			fmt.Fprintf(&b, "duration %d.%06d\n", d/1e6, d%1e6)
		}
	}
	return []byte(b.String())
}

// concatQuote quotes a path for a concat list: in single quotes, each
// single quote inside closed, escaped with a backslash and reopened.
func concatQuote(path string) string {
	return "'" + strings.ReplaceAll(path, "'", `'\''`) + "'"
}
