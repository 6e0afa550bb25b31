package transcode

import (
	"context"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cloudflix/cloudflix/internal/ladder"
)

// SegmentSeconds is the length of every HLS segment and GOP.
const SegmentSeconds = 2

// maxFrameRate caps the output frame rate: a 240 fps slow-motion phone clip is
// streamed at 60, which every player and H.264 level handles.
const maxFrameRate = 60

// inputFormats are the demuxers a source may be read with. Naming them keeps
// ffmpeg from treating an upload as a playlist or a concat list, formats that
// open other files or URLs on the uploader's behalf; pictures are refused too.
const inputFormats = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,mpegts,mpeg,flv,asf,ogg,mxf,dv"

// input is the ffmpeg/ffprobe input arguments for an untrusted local file.
// The "file:" prefix keeps a name with a colon from being read as a protocol.
func input(path string) []string {
	return []string{"-protocol_whitelist", "file", "-format_whitelist", inputFormats, "-i", "file:" + path}
}

// Options tune the encoder; the zero value is the default.
type Options struct {
	// Preset is x264's speed/size trade-off; "veryfast" when empty.
	Preset string
	// Nice is how much nicer than this process (nice(1)'s increment, 0
	// to 19) ffmpeg and ffprobe run, so that they yield the CPU to the
	// services when they share a machine.
	Nice int
	// Tag starts the name of every init and media segment file an encode
	// writes (letters, digits and "-"; "" for none). Segments are cached
	// for good under their names, so two encodes of one video (an attempt
	// that died and the next, or a re-encode) must never write files of
	// the same name: each gives its own tag.
	Tag string
	// Threads is how many threads each encoder and filter graph of an
	// ffmpeg run may use; 0 lets ffmpeg choose (about one per core).
	Threads int
}

// tool returns the command that runs ffmpeg or ffprobe (name) with args at
// the niceness of o, killed when ctx ends. nice(1) sets the niceness before
// the program starts, so that every thread it starts inherits it; setting
// it on a running ffmpeg would miss the threads it had started already.
func (o Options) tool(ctx context.Context, name string, args ...string) *exec.Cmd {
	if o.Nice != 0 {
		args = append([]string{"-n", strconv.Itoa(o.Nice), name}, args...)
		name = "nice"
	}
	cmd := exec.CommandContext(ctx, name, args...)
	// Once the program is killed, do not wait on pipes a stray child might
	// hold.
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

func (o Options) preset() string {
	if o.Preset == "" {
		return "veryfast"
	}
	return o.Preset
}

// command returns the ffmpeg arguments (without "ffmpeg") that decode srcPath
// once and encode every rung from it: H.264 capped-CRF video and AAC audio,
// closed 2 s GOPs aligned across rungs, muxed into fMP4 HLS under
// outDir/{rung name}/ (index.m3u8, {tag}init_{rung}.mp4, {tag}seg_NNNNN.m4s).
// Each rung's playlist is an EVENT playlist, which ffmpeg rewrites (into a
// temporary file renamed over the old one) each time it closes a segment,
// so that the segments it lists are the complete ones (WrittenSoFar); the
// last version ends with ENDLIST. Progress is written to stdout as
// -progress key=value blocks; only errors go to stderr. ffmpeg's master
// playlist is not used: Encode writes one from measurements.
func (o Options) command(src Source, srcPath, outDir string, rungs []ladder.Rung) []string {
	fps := outputRate(src.FrameRate)

	args := append(o.global(), input(srcPath)...)
	args = append(args, "-filter_complex", ladderGraph(src, fps, 0, rungs))
	for i := range rungs {
		args = append(args, "-map", fmt.Sprintf("[v%d]", i))
		if src.HasAudio {
			args = append(args, "-map", "0:a:0")
		}
	}

	args = append(args, o.threads()...)
	args = append(args, o.x264(fps, 0)...)
	for i, r := range rungs {
		args = append(args, rungVideo(fmt.Sprintf(":v:%d", i), r, fps)...)
	}
	if src.HasAudio {
		args = append(args, aac()...)
		for i, r := range rungs {
			args = append(args, fmt.Sprintf("-b:a:%d", i), strconv.Itoa(r.AudioBitrate))
		}
	}
	return append(args, o.hls(outDir, rungs, src.HasAudio)...)
}

// ladderGraph is the filter graph that decodes the source's picture once,
// splits it and scales each copy to its rung, as [v0], [v1]... The fps
// filter puts the frames on the output's constant rate by their
// timestamps, so a variable-rate source keeps its timing and every rung
// has the frames the GOP length counts on. frames > 0 keeps only the
// first frames frames (a chunk's).
func ladderGraph(src Source, fps float64, frames int, rungs []ladder.Rung) string {
	var graph strings.Builder
	fmt.Fprintf(&graph, "[0:v:0]%sfps=%s,", deinterlace(src), rateString(fps))
	if frames > 0 {
		fmt.Fprintf(&graph, "trim=end_frame=%d,", frames)
	}
	fmt.Fprintf(&graph, "split=%d", len(rungs))
	for i := range rungs {
		fmt.Fprintf(&graph, "[s%d]", i)
	}
	for i, r := range rungs {
		fmt.Fprintf(&graph, ";[s%d]scale=w=%d:h=%d:flags=lanczos,setsar=1,format=yuv420p[v%d]", i, r.Width, r.Height, i)
	}
	return graph.String()
}

// aac is the audio encoder's settings but the bit rate, the same for
// every rung.
func aac() []string { return []string{"-c:a", "aac", "-ac", "2", "-ar", "48000"} }

// x264 is the H.264 settings every rung shares, for a picture at fps.
// Every rung gets a keyframe at each multiple of SegmentSeconds and no
// other (no scene-cut keyframes), so segments line up across rungs and a
// player can switch at any segment boundary. keyOffset is how far the
// output's timestamps run behind the source's own, in seconds: a chunk
// that starts at a frame a little after a multiple of SegmentSeconds
// takes its timestamps from that frame, and still puts its keyframes on
// the source's grid, where a one-pass encode puts them.
func (o Options) x264(fps, keyOffset float64) []string {
	gop := strconv.Itoa(max(1, int(math.Round(SegmentSeconds*fps))))
	keys := fmt.Sprintf("expr:gte(t,n_forced*%d)", SegmentSeconds)
	if keyOffset != 0 {
		keys = fmt.Sprintf("expr:gte(t,n_forced*%d-%s)", SegmentSeconds, strconv.FormatFloat(keyOffset, 'f', 6, 64))
	}
	return []string{"-c:v", "libx264", "-preset", o.preset(), "-profile:v", "high", "-flags:v", "+cgop",
		"-g", gop, "-keyint_min", gop, "-sc_threshold", "0", "-force_key_frames", keys}
}

// rungVideo is the rate control of rung r's video stream, named by the
// stream specifier spec (":v:2", or "" for an output's only stream).
func rungVideo(spec string, r ladder.Rung, fps float64) []string {
	args := []string{
		"-crf" + spec, strconv.Itoa(r.CRF),
		"-maxrate" + spec, strconv.Itoa(r.MaxBitrate),
		"-bufsize" + spec, strconv.Itoa(r.BufSize)}
	if level := h264Level(r.Width, r.Height, fps, r.MaxBitrate); level != "" {
		args = append(args, "-level"+spec, level)
	}
	return args
}

// threads is the option that holds each encoder of an output, or the
// decoder of an input, to o.Threads threads, or nothing to let ffmpeg
// choose.
func (o Options) threads() []string {
	if o.Threads <= 0 {
		return nil
	}
	return []string{"-threads", strconv.Itoa(o.Threads)}
}

// filterThreads is the global option that holds the filter graph to
// o.Threads threads, or nothing.
func (o Options) filterThreads() []string {
	if o.Threads <= 0 {
		return nil
	}
	return []string{"-filter_complex_threads", strconv.Itoa(o.Threads)}
}

// hls is the output of the renditions: one video stream per rung, each
// with its audio stream when hasAudio, in that order, muxed into fMP4 HLS
// under outDir/{rung name}/.
func (o Options) hls(outDir string, rungs []ladder.Rung, hasAudio bool) []string {
	streamMap := make([]string, len(rungs))
	for i, r := range rungs {
		if hasAudio {
			streamMap[i] = fmt.Sprintf("v:%d,a:%d,name:%s", i, i, r.Name)
		} else {
			streamMap[i] = fmt.Sprintf("v:%d,name:%s", i, r.Name)
		}
	}
	// With a var_stream_map ffmpeg puts each rung's init segment in its
	// folder, named for the rung (%v), and points the rung's playlist at it.
	// It fills in %v only when there are several rungs: a single rung's
	// name is taken as it stands, so it is written out here, or the
	// playlist would name a file "init_%v.mp4", which is no URI.
	initName := o.Tag + "init_%v.mp4"
	if len(rungs) == 1 {
		initName = o.Tag + "init_" + rungs[0].Name + ".mp4"
	}
	return []string{
		"-f", "hls",
		"-hls_time", strconv.Itoa(SegmentSeconds),
		"-hls_playlist_type", "event",
		"-hls_flags", "independent_segments",
		"-hls_segment_type", "fmp4",
		"-hls_fmp4_init_filename", initName,
		"-hls_segment_filename", filepath.Join(outDir, "%v", o.Tag+"seg_%05d.m4s"),
		"-var_stream_map", strings.Join(streamMap, " "),
		filepath.Join(outDir, "%v", "index.m3u8")}
}

// global is the options every encoding ffmpeg run starts with: quiet but
// for errors, progress on stdout, output files overwritten; with
// o.Threads, the filter graph and the first input's decoder held to that
// many threads.
func (o Options) global() []string {
	args := []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "error", "-progress", "pipe:1", "-y"}
	args = append(args, o.filterThreads()...)
	return append(args, o.threads()...)
}

// outputRate is the frame rate of the renditions of a source at fps: the
// source's own, or a whole fraction of it within maxFrameRate (a 240 fps
// slow-motion clip is streamed at 60, every fourth frame).
func outputRate(fps float64) float64 {
	if fps <= 0 {
		return 30 // unknown: the most common rate
	}
	if fps > maxFrameRate {
		fps /= math.Ceil(fps/maxFrameRate - 1e-9)
	}
	return fps
}

// rateString writes a frame rate for ffmpeg, exactly: NTSC rates such as
// 30000/1001 as the fraction they are.
func rateString(fps float64) string {
	if n := fps * 1001; fps != math.Trunc(fps) && math.Abs(n-math.Round(n)) < 1e-6 {
		return fmt.Sprintf("%d/1001", int64(math.Round(n)))
	}
	return strconv.FormatFloat(fps, 'f', -1, 64)
}

// deinterlace is the filter, with its comma, that weaves an interlaced
// source's fields into whole frames (at the same frame rate), or "" for a
// progressive source. Players show renditions as progressive video, where
// unwoven fields comb every moving edge.
func deinterlace(src Source) string {
	if src.Interlaced {
		return "bwdif=mode=send_frame,"
	}
	return ""
}

// h264Levels are the limits of the H.264 levels a rung may need (ITU-T H.264
// table A-1): macroblocks per second, per frame, and the High profile's
// maximum bitrate (1.25 x the table's).
var h264Levels = []struct {
	name          string
	mbPerSecond   float64
	mbPerFrame    int
	maxBitrateBps int
}{
	{"3.0", 40500, 1620, 12_500_000},
	{"3.1", 108000, 3600, 17_500_000},
	{"3.2", 216000, 5120, 25_000_000},
	{"4.0", 245760, 8192, 25_000_000},
	{"4.1", 245760, 8192, 62_500_000},
	{"4.2", 522240, 8704, 62_500_000},
	{"5.0", 589824, 22080, 168_750_000},
	{"5.1", 983040, 36864, 300_000_000},
	{"5.2", 2073600, 36864, 300_000_000},
}

// h264Level is the lowest level (at least 3.0, which every player decodes)
// that holds a w x h picture at fps and maxrate, or "" to let x264 choose
// when none does.
func h264Level(w, h int, fps float64, maxrate int) string {
	mbW, mbH := (w+15)/16, (h+15)/16
	frame := mbW * mbH
	for _, l := range h264Levels {
		// A side may not exceed sqrt(8 x MaxFS) macroblocks.
		side := int(math.Sqrt(8 * float64(l.mbPerFrame)))
		if frame <= l.mbPerFrame && mbW <= side && mbH <= side &&
			float64(frame)*fps <= l.mbPerSecond && maxrate <= l.maxBitrateBps {
			return l.name
		}
	}
	return ""
}
