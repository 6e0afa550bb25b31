package transcode

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cloudflix/cloudflix/internal/ladder"
	"github.com/cloudflix/cloudflix/internal/video"
)

// stderrLines is how much of ffmpeg's stderr an error message carries.
const stderrLines = 40

// Encode runs the one ffmpeg process of command, then measures every
// rendition it produced and writes outDir/master.m3u8 from the measurements.
// progress, when not nil, is called from one goroutine at a time, at most
// about once a second, and with 1 once everything is written; never after
// Encode returns. Cancelling ctx kills ffmpeg. A source ffmpeg finds damaged
// or truncated is an *Unsupported error. outDir may hold partial output after
// an error; the caller owns and removes it.
func (o Options) Encode(ctx context.Context, src Source, srcPath, outDir string, rungs []ladder.Rung, progress func(fraction float64)) ([]video.Rendition, error) {
	if err := o.prepare(outDir, rungs); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	if err := o.ffmpeg(ctx, o.command(src, srcPath, outDir, rungs), newProgressParser(src.DurationSeconds, progress)); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}

	renditions, err := o.measureAll(ctx, src, outDir, rungs)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	if progress != nil {
		progress(1)
	}
	return renditions, nil
}

// prepare checks what the encoder is asked to write, and makes the
// rungs' folders under outDir.
func (o Options) prepare(outDir string, rungs []ladder.Rung) error {
	if len(rungs) == 0 {
		return errors.New("no rungs")
	}
	if strings.Trim(strings.ToLower(o.Tag), "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return fmt.Errorf("file tag %q has more than letters, digits and -", o.Tag)
	}
	if strings.Contains(outDir, "%") {
		// ffmpeg would read it as part of its %v/%05d name templates.
		return fmt.Errorf("output folder %q contains %%", outDir)
	}
	for _, r := range rungs {
		if r.Name == "" || strings.ContainsAny(r.Name, "/\\ ,:%") || r.Name == "." || r.Name == ".." {
			return fmt.Errorf("rung name %q is not a folder name", r.Name)
		}
		if err := os.MkdirAll(filepath.Join(outDir, r.Name), 0o755); err != nil {
			return err
		}
	}

	return nil
}

// measureAll measures the renditions written under outDir and writes
// outDir/master.m3u8 from the measurements.
func (o Options) measureAll(ctx context.Context, src Source, outDir string, rungs []ladder.Rung) ([]video.Rendition, error) {
	renditions := make([]video.Rendition, len(rungs))
	for i, r := range rungs {
		rend, seconds, err := o.measure(ctx, filepath.Join(outDir, r.Name), r.Name)
		if err != nil {
			return nil, fmt.Errorf("measure %s: %w", r.Name, err)
		}
		// ffmpeg ends without an error when a file stops short (a truncated
		// upload with its index at the front): what it decoded is too short.
		if missing := src.DurationSeconds - seconds; missing > max(1, 0.1*src.DurationSeconds) {
			return nil, unsupported("the file is damaged or incomplete: only %.1f of its %.1f seconds could be decoded", seconds, src.DurationSeconds)
		}
		renditions[i] = rend
	}

	f, err := os.Create(filepath.Join(outDir, "master.m3u8"))
	if err != nil {
		return nil, err
	}
	if err := WriteMaster(f, renditions); err != nil {
		f.Close()
		return nil, fmt.Errorf("write master playlist: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write master playlist: %w", err)
	}
	return renditions, nil
}

// ffmpeg runs ffmpeg with args, its stdout going to stdout. A failure
// caused by the input is an *Unsupported error; any other carries the last
// lines of ffmpeg's stderr. When ctx ends, ffmpeg is killed and the error
// wraps the cause: an *Unsupported one when ctx is an EncodeDeadline.
func (o Options) ffmpeg(ctx context.Context, args []string, stdout io.Writer) error {
	stderr := &tail{max: stderrLines}
	cmd := o.tool(ctx, "ffmpeg", args...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("ffmpeg: %w", context.Cause(ctx))
	}
	if err == nil {
		return nil
	}
	msg := stderr.String()
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.Exited() && inputAtFault(msg) {
		return damaged(msg)
	}
	return fmt.Errorf("ffmpeg: %w\n%s", err, msg)
}

// What ffmpeg says when the machine, not the input, failed it.
var machineFaults = []string{"no space left on device", "cannot allocate memory", "permission denied", "too many open files", "read-only file system"}

// What ffmpeg says when it cannot read or decode its input.
var inputFaults = []string{
	"invalid data found when processing input", "moov atom not found", "partial file",
	"error while decoding", "could not find codec parameters", "not on whitelist",
	"decoding requested, but no decoder found", "does not contain any stream",
}

func machineFault(stderr string) bool {
	s := strings.ToLower(stderr)
	for _, m := range machineFaults {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

func inputAtFault(stderr string) bool {
	if machineFault(stderr) {
		return false
	}
	s := strings.ToLower(stderr)
	for _, m := range inputFaults {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// damaged tells a file ffmpeg opened but could not decode from one it could
// not open at all.
func damaged(stderr string) error {
	s := strings.ToLower(stderr)
	if strings.Contains(s, "error while decoding") || strings.Contains(s, "partial file") {
		return unsupported("the file is damaged or incomplete: ffmpeg could not decode it")
	}
	return unreadable(stderr)
}

// measure reads the rendition in dir as ffmpeg wrote it: its playlist, its
// segment files and its streams. It returns the rendition and its length in
// seconds.
func (o Options) measure(ctx context.Context, dir, name string) (video.Rendition, float64, error) {
	playlistPath := filepath.Join(dir, "index.m3u8")
	pl, err := readPlaylist(playlistPath)
	if err != nil {
		return video.Rendition{}, 0, err
	}
	bw, err := pl.bandwidth(dir)
	if err != nil {
		return video.Rendition{}, 0, err
	}
	init, err := os.ReadFile(filepath.Join(dir, pl.init))
	if err != nil {
		return video.Rendition{}, 0, err
	}
	avc, err := avcCodec(init)
	if err != nil {
		return video.Rendition{}, 0, fmt.Errorf("%s: %w", pl.init, err)
	}
	st, err := o.probeOutputStreams(ctx, playlistPath)
	if err != nil {
		return video.Rendition{}, 0, err
	}
	r := video.Rendition{
		Name:             name,
		Width:            st.width,
		Height:           st.height,
		Bandwidth:        bw.peak,
		AverageBandwidth: bw.average,
		Codecs:           avc,
		FrameRate:        st.frameRate,
	}
	if st.audio != "" {
		r.Codecs += "," + st.audio
	}
	return r, pl.seconds(), nil
}

// variantPlaylist is what Encode needs of a media playlist ffmpeg wrote.
type variantPlaylist struct {
	targetSeconds int    // EXT-X-TARGETDURATION
	init          string // URI of the EXT-X-MAP init segment
	segments      []segment
	ended         bool // EXT-X-ENDLIST: no segment will be added
}

type segment struct {
	uri     string
	seconds float64 // from EXTINF
}

func (p variantPlaylist) seconds() float64 {
	var s float64
	for _, seg := range p.segments {
		s += seg.seconds
	}
	return s
}

func readPlaylist(path string) (variantPlaylist, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return variantPlaylist{}, err
	}
	pl, err := parsePlaylist(b)
	if err != nil {
		return variantPlaylist{}, fmt.Errorf("%s: %w", path, err)
	}
	return pl, nil
}

// parsePlaylist reads the media playlist ffmpeg wrote: its target
// duration, init segment and media segments with their EXTINF durations,
// which must be finite and not negative for the bit rates to mean anything.
func parsePlaylist(b []byte) (variantPlaylist, error) {
	var pl variantPlaylist
	var extinf float64
	pl.targetSeconds = -1
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(line, "#EXT-X-TARGETDURATION:"):
			n, err := strconv.Atoi(strings.TrimPrefix(line, "#EXT-X-TARGETDURATION:"))
			if err != nil || n < 0 {
				return pl, fmt.Errorf("bad %q", line)
			}
			pl.targetSeconds = n
		case strings.HasPrefix(line, "#EXT-X-MAP:"):
			_, uri, _ := strings.Cut(line, `URI="`)
			if pl.init, _, _ = strings.Cut(uri, `"`); !fileName(pl.init) {
				return pl, fmt.Errorf("bad %q", line)
			}
		case strings.HasPrefix(line, "#EXTINF:"):
			d, _, _ := strings.Cut(strings.TrimPrefix(line, "#EXTINF:"), ",")
			var err error
			if extinf, err = strconv.ParseFloat(d, 64); err != nil || !(extinf >= 0 && extinf <= maxTimestamp) {
				return pl, fmt.Errorf("bad %q", line)
			}
		case line == "#EXT-X-ENDLIST":
			pl.ended = true
		case line == "" || strings.HasPrefix(line, "#"):
		case !fileName(line):
			return pl, fmt.Errorf("segment %q is not a file beside the playlist", line)
		default:
			pl.segments = append(pl.segments, segment{uri: line, seconds: extinf})
			extinf = 0
		}
	}
	if err := sc.Err(); err != nil {
		return pl, err
	}
	if pl.init == "" || len(pl.segments) == 0 || pl.targetSeconds < 0 {
		return pl, errors.New("no target duration, init segment or media segments")
	}
	return pl, nil
}

// fileName reports whether uri names a file in the playlist's own folder,
// where ffmpeg writes every segment: measuring reads no file elsewhere.
func fileName(uri string) bool {
	return uri != "" && uri != "." && uri != ".." && !strings.ContainsAny(uri, `/\?#`)
}

type bandwidth struct{ peak, average int64 }

// bandwidth measures the rendition from its files; see bitRates.
func (p variantPlaylist) bandwidth(dir string) (bandwidth, error) {
	size := func(uri string) (int64, error) {
		fi, err := os.Stat(filepath.Join(dir, uri))
		if err != nil {
			return 0, err
		}
		return fi.Size(), nil
	}
	initSize, err := size(p.init)
	if err != nil {
		return bandwidth{}, err
	}
	segs := make([]sizedSegment, len(p.segments))
	for i, seg := range p.segments {
		if segs[i].bytes, err = size(seg.uri); err != nil {
			return bandwidth{}, err
		}
		// EXTINF is written to the microsecond; whole microseconds keep the
		// bounds of bitRates' window exact.
		segs[i].duration = time.Duration(math.Round(seg.seconds*1e6)) * time.Microsecond
		if segs[i].duration <= 0 {
			return bandwidth{}, fmt.Errorf("segment %s has no duration", seg.uri)
		}
	}
	return bitRates(time.Duration(p.targetSeconds)*time.Second, initSize, segs), nil
}

// sizedSegment is a media segment as its bit rates see it.
type sizedSegment struct {
	bytes    int64
	duration time.Duration // EXTINF
}

// bitRates are the two bit rates of a media playlist RFC 8216 (section 4.1)
// defines, from its segments' sizes and EXTINF durations:
//
//   - average, for AVERAGE-BANDWIDTH: every byte over the whole duration;
//   - peak, for BANDWIDTH: the highest rate (bytes over duration) of any
//     contiguous run of segments lasting from 0.5 to 1.5 times the target
//     duration, bounds included. A short last segment, a keyframe in a
//     fraction of a second, thus only counts together with the segment
//     before it instead of setting the peak on its own.
//
// The init segment's bytes count with the first segment, which a player
// fetches with it, so that each byte counts once, as in the average.
//
// When no run qualifies (a video shorter than half the target duration, or
// of one frame, for which ffmpeg writes a target duration of 0) the peak is
// the average: the whole video is the only window there is. The peak is
// never below the average, which a player must sustain to keep up.
func bitRates(target time.Duration, initBytes int64, segs []sizedSegment) bandwidth {
	shortest, longest := target/2, target*3/2
	rate := func(bytes int64, d time.Duration) float64 { return float64(bytes*8) / d.Seconds() }

	total, whole := initBytes, time.Duration(0)
	for _, s := range segs {
		total += s.bytes
		whole += s.duration
	}
	average := rate(total, whole)

	peak := average
	for i := range segs {
		var bytes int64
		if i == 0 {
			bytes = initBytes
		}
		var d time.Duration
		for _, s := range segs[i:] {
			bytes += s.bytes
			d += s.duration
			if d > longest {
				break
			}
			if d >= shortest {
				peak = max(peak, rate(bytes, d))
			}
		}
	}
	return bandwidth{peak: int64(math.Ceil(peak)), average: int64(math.Ceil(average))}
}

// avcCodec is the RFC 6381 codec string (avc1.PPCCLL) of the H.264 stream
// whose init segment is b: profile, constraint flags and level, read from
// the AVCDecoderConfigurationRecord ("avcC" box) as players will.
func avcCodec(b []byte) (string, error) {
	i := bytes.Index(b, []byte("avcC"))
	if i < 0 || len(b) < i+8 {
		return "", errors.New("no avcC box: not an H.264 init segment")
	}
	rec := b[i+4:] // configurationVersion, profile, constraints, level
	return fmt.Sprintf("avc1.%02x%02x%02x", rec[1], rec[2], rec[3]), nil
}

type outputStreams struct {
	width, height int
	frameRate     float64
	audio         string // RFC 6381 codec string, "" without audio
}

// probeOutputStreams reads the streams of a rendition Encode wrote. This is
// our own output, so unlike a source it may be read as a playlist.
func (o Options) probeOutputStreams(ctx context.Context, playlist string) (outputStreams, error) {
	var out outputStreams
	b, err := o.tool(ctx, "ffprobe", "-v", "error", "-protocol_whitelist", "file",
		"-print_format", "json", "-show_streams", playlist).Output()
	if ctx.Err() != nil {
		return out, fmt.Errorf("ffprobe %s: %w", playlist, context.Cause(ctx))
	}
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return out, fmt.Errorf("ffprobe %s: %w: %s", playlist, err, lastLine(string(exit.Stderr)))
		}
		return out, fmt.Errorf("ffprobe %s: %w", playlist, err)
	}
	var probed probeOutput
	if err := json.Unmarshal(b, &probed); err != nil {
		return out, fmt.Errorf("ffprobe %s: decode its output: %w", playlist, err)
	}
	for _, st := range probed.Streams {
		switch st.CodecType {
		case "video":
			out.width, out.height = st.Width, st.Height
			if out.frameRate = parseRate(st.AvgFrameRate); out.frameRate <= 0 {
				out.frameRate = parseRate(st.RFrameRate)
			}
		case "audio":
			if out.audio, err = aacCodec(st.CodecName, st.Profile); err != nil {
				return out, err
			}
		}
	}
	if out.width <= 0 || out.height <= 0 {
		return out, fmt.Errorf("ffprobe %s: no video stream with a size", playlist)
	}
	return out, nil
}

// aacCodec is the RFC 6381 codec string of an AAC stream: mp4a.40.{object type}.
func aacCodec(codec, profile string) (string, error) {
	if codec == "aac" {
		switch profile {
		case "LC":
			return "mp4a.40.2", nil
		case "HE-AAC":
			return "mp4a.40.5", nil
		case "HE-AACv2":
			return "mp4a.40.29", nil
		}
	}
	return "", fmt.Errorf("audio is %s (%s), not AAC", codec, profile)
}

// WriteMaster writes the HLS master playlist of the renditions, without
// captions (MasterPlaylist).
func WriteMaster(w io.Writer, rs []video.Rendition) error {
	b, err := MasterPlaylist(rs, nil)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}
