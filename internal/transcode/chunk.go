package transcode

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cloudflix/cloudflix/internal/ladder"
	"github.com/cloudflix/cloudflix/internal/video"
)

// Chunked encoding: a long source is cut into chunks at times on the
// segment grid (ChunkPlan), each chunk's picture is encoded for every rung
// on its own (EncodeChunk), and a Joiner puts each rung's chunks end to
// end with the audio, encoded once for the whole source while it joins,
// and muxes them into the same HLS renditions Encode writes.
//
// A chunk starts at the first frame at or after its start time, the frame
// a one-pass encode makes a keyframe, and has exactly the frames a
// one-pass encode has between its start and the next chunk's; its
// keyframes fall on the frames where a one-pass encode puts them. So the
// joined renditions have the one-pass encode's frames, timestamps and
// segments. The audio is never cut, so the joins cannot click or drift.

// leadIn is the lengths, in segments, of a plan's first chunks, shorter
// than the rest so that the video plays as soon as they are done. A
// growing playlist lists a segment once the segment after it is complete
// (the last is held back), and a segment is complete at the keyframe that
// starts the next: the first segment is listed once ffmpeg has read the
// start of the third, so once the chunks up to the one holding it are
// done. Two segments, then one, make that 6 s of video.
var leadIn = []int{2, 1}

// ChunkPlan cuts a source lasting duration seconds into chunks: the short
// lead-in chunks, then chunks of chunkSeconds (rounded down to whole
// segments, at least one), the last running to the source's end. A last
// piece shorter than half the chunk it would be joins the chunk before it
// rather than being a job of its own.
func ChunkPlan(duration float64, chunkSeconds int) []video.Chunk {
	size := max(SegmentSeconds, chunkSeconds/SegmentSeconds*SegmentSeconds)
	length := func(k int) int {
		if k < len(leadIn) {
			return min(leadIn[k]*SegmentSeconds, size)
		}
		return size
	}
	starts := []int{0}
	next := 0
	for k := 0; ; k++ {
		next += length(k)
		if rest := duration - float64(next); rest <= 0 || rest < float64(length(k+1))/2 {
			break
		}
		starts = append(starts, next)
	}
	chunks := make([]video.Chunk, len(starts))
	for i, start := range starts {
		chunks[i] = video.Chunk{Index: i, Start: float64(start), State: video.ChunkPending}
		if i+1 < len(starts) {
			chunks[i].End = float64(starts[i+1])
		}
	}
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

// afterLeadIn is how much nicer than o.Nice the chunks after the lead-in
// are encoded: where workers share a machine, a chunk taken after the
// lead-in (the second worker's next one, 30 s long) yields the CPU to the
// lead-in chunks, the audio and the join, whose progress is what makes
// the video playable, and takes the rest. Nice 5 weighs about a third of
// nice 0 in Linux's scheduler. Without nice(1) on the machine (which
// CheckTools asks for only when Options.Nice is set) every chunk runs at
// Options.Nice.
const afterLeadIn = 5

var haveNice = sync.OnceValue(func() bool {
	_, err := exec.LookPath("nice")
	return err == nil
})

// EncodeChunk encodes chunk c of the source at srcPath for every rung,
// video only, into outDir/{rung}.mp4 (ChunkFile). progress is as
// Encode's, for the chunk. A chunk after the lead-in runs afterLeadIn
// nicer than o says.
func (o Options) EncodeChunk(ctx context.Context, src Source, srcPath string, c video.Chunk, outDir string, rungs []ladder.Rung, progress func(float64)) error {
	if err := checkChunk(src, c); err != nil {
		return fmt.Errorf("encode chunk %d: %w", c.Index, err)
	}
	if c.Index >= len(leadIn) && haveNice() {
		o.Nice = min(o.Nice+afterLeadIn, 19)
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
		// The index first, so that the join can read the file from a pipe.
		args = append(args, "-movflags", "+faststart", "-f", "mp4", filepath.Join(outDir, ChunkFile(r.Name)))
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

// audioFile is the name of the audio track at bitrate in the join's
// pipes folder.
func audioFile(bitrate int) string { return "audio-" + strconv.Itoa(bitrate) + ".m4a" }

// aacPriming is the delay, in seconds, ffmpeg's AAC encoder puts before
// the first sample (1024 samples at 48 kHz). A fragmented MP4 has no edit
// list to say so, so the join shifts the audio it reads from one back by
// as much: the audio then has the timestamps it has in a one-pass
// encode, packet for packet.
const aacPriming = "-0.021333333"

// audioCommand is the ffmpeg arguments that encode the source's whole
// audio at rate, as Encode encodes it, into a fragmented MP4 in dir
// (audioFile) that can be written into a pipe: a fragment a second. Each
// rate has an ffmpeg of its own: one writing several pipes would wait to
// open the second before writing the first, which the join reads before
// it opens the second.
func (o Options) audioCommand(srcPath, dir string, rate int) []string {
	args := append(o.global(), input(srcPath)...)
	args = append(args, "-map", "0:a:0", "-vn")
	args = append(args, o.threads()...)
	args = append(args, aac()...)
	return append(args, "-b:a", strconv.Itoa(rate),
		"-movflags", "empty_moov+default_base_moof", "-frag_duration", "1000000",
		"-f", "mp4", filepath.Join(dir, audioFile(rate)))
}

// A Joiner joins chunks into renditions as they come: its ffmpeg reads
// each rung's chunks, in order, from named pipes, and writes each segment
// as soon as it is complete, as Encode does, so the renditions can be
// published while they grow (WrittenSoFar) however the chunks are
// shared out. A chunk given to Add waits until ffmpeg reaches it.
type Joiner struct {
	o       Options
	src     Source
	chunks  []video.Chunk
	srcPath string
	outDir  string
	pipes   string // the named pipes' folder
	rungs   []ladder.Rung

	done    chan struct{} // closed when Run or Close ends the join
	once    sync.Once
	mu      sync.Mutex
	added   []bool
	closed  bool // no chunk is added any more
	writers sync.WaitGroup
	failed  error // the first pipe write that failed
}

// NewJoin prepares the join of chunks of the source at srcPath into
// outDir: the rungs' folders, and a named pipe per chunk and rung and per
// audio bit rate (beside outDir). Nothing runs until Run.
func (o Options) NewJoin(src Source, srcPath string, chunks []video.Chunk, outDir string, rungs []ladder.Rung) (*Joiner, error) {
	if err := o.prepare(outDir, rungs); err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	if len(chunks) == 0 {
		return nil, errors.New("join: no chunks")
	}
	for i, c := range chunks {
		if c.Index != i || c.Last() != (i == len(chunks)-1) {
			return nil, fmt.Errorf("join: chunk %d of %d is out of place (index %d, last %v)", i, len(chunks), c.Index, c.Last())
		}
	}
	j := &Joiner{o: o, src: src, srcPath: srcPath, chunks: chunks, outDir: outDir, pipes: outDir + ".pipes",
		rungs: rungs, done: make(chan struct{}), added: make([]bool, len(chunks))}
	if err := os.MkdirAll(j.pipes, 0o755); err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	pipes := j.audioPipes()
	for i := range chunks {
		for _, r := range rungs {
			pipes = append(pipes, j.pipe(i, r.Name))
		}
	}
	for _, p := range pipes {
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			return nil, fmt.Errorf("join: %w", err)
		}
	}
	return j, nil
}

// audioPipes are the pipes of the audio tracks, one per audio bit rate
// (none for a source without audio).
func (j *Joiner) audioPipes() []string {
	var pipes []string
	if j.src.HasAudio {
		for _, rate := range audioBitrates(j.rungs) {
			pipes = append(pipes, filepath.Join(j.pipes, audioFile(rate)))
		}
	}
	return pipes
}

func (j *Joiner) pipe(index int, rung string) string {
	return filepath.Join(j.pipes, strconv.Itoa(index)+"-"+ChunkFile(rung))
}

// pipePoll is how often a chunk waiting for ffmpeg to open its pipe
// looks again.
const pipePoll = 50 * time.Millisecond

// Add hands ffmpeg chunk index's files in dir (EncodeChunk), in the
// background: each is written into its pipe once ffmpeg opens it. A
// chunk is added once; chunks may come in any order.
func (j *Joiner) Add(index int, dir string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.closed {
		return fmt.Errorf("join: chunk %d added after the join ended", index)
	}
	if index < 0 || index >= len(j.chunks) || j.added[index] {
		return fmt.Errorf("join: chunk %d added twice or not in the plan", index)
	}
	j.added[index] = true
	for _, r := range j.rungs {
		from, to := filepath.Join(dir, ChunkFile(r.Name)), j.pipe(index, r.Name)
		j.writers.Go(func() {
			if err := j.write(from, to); err != nil {
				j.mu.Lock()
				if j.failed == nil {
					j.failed = fmt.Errorf("join: chunk %d: %w", index, err)
				}
				j.mu.Unlock()
			}
		})
	}
	return nil
}

// write copies the file from into the pipe to once ffmpeg has opened it
// for reading, or gives up when the join ends.
func (j *Joiner) write(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	t := time.NewTicker(pipePoll)
	defer t.Stop()
	for {
		// Opening a pipe without blocking fails (ENXIO) while no one
		// reads it.
		p, err := os.OpenFile(to, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err == nil {
			_, err = io.Copy(p, src)
			return errors.Join(err, p.Close())
		}
		if !errors.Is(err, syscall.ENXIO) {
			return err
		}
		select {
		case <-j.done:
			return errors.New("the join ended before it read the chunk")
		case <-t.C:
		}
	}
}

// Run runs the join to its end, once every chunk has been added, and
// measures the renditions as Encode does. The audio is encoded meanwhile,
// by an ffmpeg per audio bit rate writing into the join's pipes, so the
// join muxes the first chunks as soon as they are added; a failure of any
// ffmpeg ends the others.
func (j *Joiner) Run(ctx context.Context) ([]video.Rendition, error) {
	defer j.Close()
	args := j.o.global()
	for _, r := range j.rungs {
		list := filepath.Join(j.pipes, "chunks-"+r.Name+".txt")
		if err := os.WriteFile(list, j.concatList(r.Name), 0o644); err != nil {
			return nil, fmt.Errorf("join: %w", err)
		}
		args = append(args, "-f", "concat", "-safe", "0", "-protocol_whitelist", "file", "-i", "file:"+list)
	}
	rates := audioBitrates(j.rungs)
	for _, p := range j.audioPipes() {
		args = append(args, "-itsoffset", aacPriming, "-f", "mp4", "-protocol_whitelist", "file", "-i", "file:"+p)
	}
	for i, r := range j.rungs {
		args = append(args, "-map", fmt.Sprintf("%d:v:0", i))
		if j.src.HasAudio {
			args = append(args, "-map", fmt.Sprintf("%d:a:0", len(j.rungs)+slices.Index(rates, r.AudioBitrate)))
		}
	}
	args = append(args, "-c", "copy")
	args = append(args, j.o.hls(j.outDir, j.rungs, j.src.HasAudio)...)

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var audio sync.WaitGroup
	if j.src.HasAudio {
		for _, rate := range rates {
			audio.Go(func() {
				if err := j.o.ffmpeg(ctx, j.o.audioCommand(j.srcPath, j.pipes, rate), io.Discard); err != nil {
					cancel(fmt.Errorf("encode audio: %w", err))
				}
			})
		}
	}
	err := j.o.ffmpeg(ctx, args, io.Discard)
	if err != nil {
		cancel(err)
	}
	audio.Wait()
	// The first to fail stopped the others: its error is the cause.
	if cause := context.Cause(ctx); cause != nil {
		err = cause
	}
	j.Close()
	j.mu.Lock()
	failed := j.failed
	j.mu.Unlock()
	if err != nil || failed != nil {
		return nil, fmt.Errorf("join: %w", errors.Join(err, failed))
	}
	renditions, err := j.o.measureAll(ctx, j.src, j.outDir, j.rungs)
	if err != nil {
		return nil, fmt.Errorf("join: %w", err)
	}
	return renditions, nil
}

// Close ends a join that will not run, or stops waiting for one that
// ran: chunks still waiting for their pipes give up, and the pipes are
// removed. It is safe to call more than once.
func (j *Joiner) Close() {
	j.mu.Lock()
	j.closed = true
	j.mu.Unlock()
	j.once.Do(func() { close(j.done) })
	j.writers.Wait()
	os.RemoveAll(j.pipes)
}

// concatList is the concat demuxer's list of rung's chunk files. Each
// chunk but the last is given its exact length on the frame grid, as
// the difference of whole microseconds from the source's start, so that
// the offsets the demuxer adds up land on the frames' own timestamps
// however many chunks there are.
func (j *Joiner) concatList(rung string) []byte {
	src, chunks := j.src, j.chunks
	fps := outputRate(src.FrameRate)
	micros := func(frame int64) int64 { return int64(math.Round(float64(frame) / fps * 1e6)) }
	var b strings.Builder
	b.WriteString("ffconcat version 1.0\n")
	for i, c := range chunks {
		fmt.Fprintf(&b, "file %s\n", concatQuote(j.pipe(i, rung)))
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
