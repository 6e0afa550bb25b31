// Package transcode drives ffprobe and ffmpeg: it reads what a source video
// is, encodes it into the HLS ladder in one ffmpeg process, measures what was
// produced and writes the master playlist, and cuts the thumbnail and the
// storyboard. It runs ffmpeg with argument lists and must never build a shell
// command line or trust a source file: whatever the file holds, it returns an
// error (an *Unsupported one when the file is at fault) instead of hanging.
package transcode

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Unsupported is a source the platform cannot encode, with a reason a
// person who uploaded it can read. It is the file's fault, so retrying the
// same file will fail the same way.
type Unsupported struct {
	Reason string
	// OverLimit: the file is a video, but over one of the Limits.
	OverLimit bool
}

func (e *Unsupported) Error() string { return e.Reason }

func unsupported(format string, args ...any) error {
	return &Unsupported{Reason: fmt.Sprintf(format, args...)}
}

func overLimit(format string, args ...any) error {
	return &Unsupported{Reason: fmt.Sprintf(format, args...), OverLimit: true}
}

// Source is what ffprobe says about a source video.
type Source struct {
	// DurationSeconds is how long the video plays: from its first frame
	// to the end of its last, as the timestamps of its frames say.
	DurationSeconds float64
	Width, Height   int     // display size: after rotation and pixel aspect ratio
	FrameRate       float64 // frames per second the renditions get before capping, 0 if unknown
	Frames          int64   // frames (packets) of the video stream, 0 if not counted
	Interlaced      bool
	HasAudio        bool
	VideoCodec      string // ffmpeg's codec name, e.g. "h264"
	SizeBytes       int64
}

// Limits bound what the platform accepts and how long it works on one
// video; a zero field is no limit. They are checked before any decoding,
// from what ffprobe reads of the file's headers and packets, so a file over
// a limit costs a second or two, however long or large it claims to be.
type Limits struct {
	MaxDuration time.Duration
	// MaxWidth and MaxHeight bound the long and the short side, whichever
	// way the video is turned: a 3840x2160 limit admits a portrait 2160x3840.
	// With only one of them set, it bounds both sides.
	MaxWidth, MaxHeight int
	// MaxPixelRate bounds width x height x frame rate, which is what
	// decoding and scaling cost per second of video.
	MaxPixelRate int64
	MaxFrameRate float64
	MaxFrames    int64
	// An encode (the renditions, thumbnail and storyboard) may take
	// TimeFactor x the video's duration + TimeBase; then ffmpeg is stopped
	// and the video fails.
	TimeFactor float64
	TimeBase   time.Duration
}

// minFrameRate is the fewest frames a second a video may average. A file
// with fewer is mostly empty time, which costs as much to encode as a real
// video of that length: two frames ten minutes apart would become ten
// minutes of renditions. It is one frame for every segment.
const minFrameRate = 1.0 / SegmentSeconds

// minSide is the smallest width or height a video may have: 4:2:0 video,
// which every rendition is, stores colour for 2x2 pixel blocks.
const minSide = 2

// Check returns an *Unsupported error when s is over a limit of l, or is no
// video worth a rendition. Checks that need the frames counted are skipped
// when s.Frames is 0.
func (s Source) Check(l Limits) error {
	if err := s.checkSize(l); err != nil {
		return err
	}
	if l.MaxDuration > 0 && s.DurationSeconds > l.MaxDuration.Seconds() {
		return overLimit("the video lasts %s; the longest accepted is %s",
			humanDuration(seconds(s.DurationSeconds)), humanDuration(l.MaxDuration))
	}
	if l.MaxFrameRate > 0 && s.FrameRate > l.MaxFrameRate {
		return overLimit("the video has %s frames a second; the most accepted is %s",
			humanNumber(s.FrameRate), humanNumber(l.MaxFrameRate))
	}
	if rate := float64(s.Width) * float64(s.Height) * s.FrameRate; l.MaxPixelRate > 0 && rate > float64(l.MaxPixelRate) {
		return overLimit("the video is %dx%d at %s frames a second, %s million pixels a second; the most accepted is %s million",
			s.Width, s.Height, humanNumber(s.FrameRate), humanNumber(rate/1e6), humanNumber(float64(l.MaxPixelRate)/1e6))
	}
	if s.Frames == 0 {
		return nil
	}
	if l.MaxFrames > 0 && s.Frames > l.MaxFrames {
		return tooManyFrames(l)
	}
	if float64(s.Frames) < minFrameRate*s.DurationSeconds {
		return unsupported("the video has %s in %s; a video needs at least one frame every %d seconds",
			count(s.Frames, "frame"), humanDuration(seconds(s.DurationSeconds)), SegmentSeconds)
	}
	return nil
}

// tooManyFrames says no more than it knows: Probe stops counting past the
// limit.
func tooManyFrames(l Limits) error {
	return overLimit("the video has more than %d frames; the most accepted is %d", l.MaxFrames, l.MaxFrames)
}

func (s Source) checkSize(l Limits) error {
	if s.Width < minSide || s.Height < minSide {
		return unsupported("the video is %dx%d; the smallest accepted is %dx%d", s.Width, s.Height, minSide, minSide)
	}
	maxLong, maxShort := max(l.MaxWidth, l.MaxHeight), min(l.MaxWidth, l.MaxHeight)
	if maxShort == 0 {
		maxShort = maxLong // one side given: it bounds both
	}
	if maxLong > 0 && (max(s.Width, s.Height) > maxLong || min(s.Width, s.Height) > maxShort) {
		return overLimit("the video is %dx%d; the largest accepted is %s", s.Width, s.Height, sizeLimit(maxLong, maxShort, s.Width < s.Height))
	}
	return nil
}

// sizeLimit writes the size limit the way the video is turned.
func sizeLimit(long, short int, portrait bool) string {
	if portrait {
		return fmt.Sprintf("%dx%d", short, long)
	}
	return fmt.Sprintf("%dx%d", long, short)
}

// EncodeTime is how long the encode of src may take, 0 for no limit.
func (l Limits) EncodeTime(src Source) time.Duration {
	if l.TimeFactor <= 0 && l.TimeBase <= 0 {
		return 0
	}
	return l.TimeBase + time.Duration(l.TimeFactor*src.DurationSeconds*float64(time.Second))
}

// EncodeDeadline returns a context that ends once src's encode has taken
// its EncodeTime. Every ffmpeg run under it is then killed and returns an
// *Unsupported error naming the limit.
func (l Limits) EncodeDeadline(ctx context.Context, src Source) (context.Context, context.CancelFunc) {
	allowed := l.EncodeTime(src)
	if allowed <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeoutCause(ctx, allowed, overLimit(
		"the video took too long to encode: a video of %s may take at most %s",
		humanDuration(seconds(src.DurationSeconds)), humanDuration(allowed)))
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// humanDuration writes d the way people say it: "4h", "1h30m", "45s", and
// "2.0s" below ten seconds, where tenths matter.
func humanDuration(d time.Duration) string {
	if d < 10*time.Second {
		return strconv.FormatFloat(d.Round(100*time.Millisecond).Seconds(), 'f', 1, 64) + "s"
	}
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	var b strings.Builder
	if h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if s > 0 || b.Len() == 0 {
		fmt.Fprintf(&b, "%ds", s)
	}
	return b.String()
}

// count writes n things: "1 frame", "2 frames".
func count(n int64, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// humanNumber writes x with at most two decimals, none when it is whole:
// "240", "29.97".
func humanNumber(x float64) string {
	return strconv.FormatFloat(math.Round(x*100)/100, 'f', -1, 64)
}

// probeOutput is the part of ffprobe's JSON that Probe reads.
type probeOutput struct {
	Streams []probeStream `json:"streams"`
	Format  struct {
		Name      string `json:"format_name"`
		StartTime string `json:"start_time"`
		Duration  string `json:"duration"`
	} `json:"format"`
}

type probeStream struct {
	CodecType         string            `json:"codec_type"`
	CodecName         string            `json:"codec_name"`
	Profile           string            `json:"profile"`
	Width             int               `json:"width"`
	Height            int               `json:"height"`
	SampleAspectRatio string            `json:"sample_aspect_ratio"`
	FieldOrder        string            `json:"field_order"`
	AvgFrameRate      string            `json:"avg_frame_rate"`
	RFrameRate        string            `json:"r_frame_rate"`
	Duration          string            `json:"duration"`
	Disposition       map[string]int    `json:"disposition"`
	Tags              map[string]string `json:"tags"`
	SideData          []struct {
		Type     string  `json:"side_data_type"`
		Rotation float64 `json:"rotation"`
	} `json:"side_data_list"`
}

// runProbe runs ffprobe on path and decodes its JSON. A file ffprobe cannot
// read is an *Unsupported error.
func (o Options) runProbe(ctx context.Context, path string) (probeOutput, error) {
	var out probeOutput
	args := append([]string{"-v", "error", "-print_format", "json", "-show_format", "-show_streams"}, input(path)...)
	cmd := o.tool(ctx, "ffprobe", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		return out, fmt.Errorf("ffprobe %s: %w", path, context.Cause(ctx))
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.Exited() && !machineFault(stderr.String()) {
		return out, unreadable(stderr.String())
	}
	if err != nil {
		return out, fmt.Errorf("ffprobe %s: %w: %s", path, err, lastLine(stderr.String()))
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return out, fmt.Errorf("ffprobe %s: decode its output: %w", path, err)
	}
	return out, nil
}

// unreadable turns what ffprobe or ffmpeg said about a file it rejected into
// a reason a person can read.
func unreadable(stderr string) error {
	s := strings.ToLower(stderr)
	switch {
	case strings.Contains(s, "not on whitelist"):
		return unsupported("the file is not a video: its format is not one of the video containers CloudFlix accepts")
	case strings.Contains(s, "moov atom not found"):
		return unsupported("the file is not a video ffmpeg can read (if it is an MP4 or MOV, it is incomplete: its index is missing)")
	case strings.Contains(s, "partial file"):
		return unsupported("the file is incomplete: it ends before its video does")
	}
	// ffmpeg's own words ("Invalid data found when processing input") name
	// our temporary path and mean nothing more to the uploader than this.
	return unsupported("the file is not a video ffmpeg can read")
}

// Probe reads what the video at path is and checks it against l: first its
// headers, then the packets of its video stream, read without decoding
// them, which say how many frames it has and how long it really lasts
// (headers can claim anything). A file that is not a video ffmpeg can
// decode (empty, garbage, an image, audio only, damaged), or is over a
// limit, is an *Unsupported error; other errors are the machine's (no
// ffprobe, ctx done).
func (o Options) Probe(ctx context.Context, path string, l Limits) (Source, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Source{}, fmt.Errorf("probe: %w", err)
	}
	if fi.Size() == 0 {
		return Source{}, unsupported("the file is empty")
	}
	out, err := o.runProbe(ctx, path)
	if err != nil {
		return Source{}, err
	}
	src, declared, err := out.source(fi.Size(), l)
	if err != nil {
		return Source{}, err
	}
	scan, err := o.scanPackets(ctx, path, fi.Size(), l.MaxFrames, src.FrameRate, closesJumps(out.Format.Name))
	if err != nil {
		return Source{}, err
	}
	src.Frames = scan.frames
	switch {
	case scan.frames == 0:
		return Source{}, unsupported("the video has no frames")
	case !scan.complete:
		return Source{}, tooManyFrames(l)
	}
	if err := agree(declared, scan.span); err != nil {
		return Source{}, err
	}
	src.DurationSeconds = scan.playable
	if _, err := strconv.ParseFloat(out.Format.StartTime, 64); err != nil && scan.playFirst > 0 {
		// ffmpeg moves a file's start to 0, if it knows the start;
		// otherwise the renditions start at 0 and wait for the first
		// frame.
		src.DurationSeconds += scan.playFirst
	}
	if src.DurationSeconds <= 0 {
		return Source{}, unsupported("the video has no duration ffmpeg can read")
	}
	if err := src.Check(l); err != nil {
		return Source{}, err
	}
	return src, nil
}

// source is what ffprobe's JSON says of a file of size bytes before its
// packets are read: its first video stream's codec, display size and frame
// rate, whether it has audio, and the duration its headers declare (0 when
// they declare none). A file with no video stream ffmpeg can decode, or a
// picture out of l's bounds, is an *Unsupported error.
func (out probeOutput) source(size int64, l Limits) (src Source, declared float64, err error) {
	src.SizeBytes = size
	var video *probeStream
	for i := range out.Streams {
		st := &out.Streams[i]
		switch st.CodecType {
		case "video":
			// Cover art in an audio file is a video stream of one picture.
			if video == nil && st.Disposition["attached_pic"] == 0 {
				video = st
			}
		case "audio":
			src.HasAudio = true
		}
	}
	if video == nil {
		if src.HasAudio {
			return Source{}, 0, unsupported("the file has no video stream (it is audio only)")
		}
		return Source{}, 0, unsupported("the file has no video stream")
	}
	if video.Disposition["still_image"] == 1 {
		return Source{}, 0, unsupported("the file is a still image, not a video")
	}
	if video.CodecName == "" {
		return Source{}, 0, unsupported("the video is in a format ffmpeg cannot decode")
	}
	if video.Width <= 0 || video.Height <= 0 {
		return Source{}, 0, unsupported("the video has no picture size ffmpeg can read")
	}
	src.VideoCodec = video.CodecName
	src.Width, src.Height = displaySize(*video)
	src.FrameRate = frameRate(parseRate(video.RFrameRate), parseRate(video.AvgFrameRate))
	src.Interlaced = interlaced(video.FieldOrder)
	// A picture too large is refused before its packets are read.
	if err := src.checkSize(l); err != nil {
		return Source{}, 0, err
	}
	declared = parseSeconds(out.Format.Duration)
	if declared <= 0 {
		declared = parseSeconds(video.Duration)
	}
	return src, max(declared, 0), nil
}

// agree checks the duration the file's headers declare against the time its
// video's frames span, when both are known. They differ in a file cut short
// (the headers were written for the whole of it) or made to deceive. They
// may differ by a second, or a tenth of the video, whichever is more: audio
// often starts or ends a little apart from the picture.
func agree(declared, span float64) error {
	if declared <= 0 || span <= 0 || math.Abs(declared-span) <= max(1, 0.1*declared) {
		return nil
	}
	if span < declared {
		return unsupported("the file is damaged or incomplete: it says it lasts %s, but its video stops after %s",
			humanDuration(seconds(declared)), humanDuration(seconds(span)))
	}
	return unsupported("the file is damaged: it says it lasts %s, but its video runs for %s",
		humanDuration(seconds(declared)), humanDuration(seconds(span)))
}

// frameRate is the rate ffmpeg gives the decoded frames, by its own rule
// (av_guess_frame_rate): the stream's base rate r, unless r is only the
// fine grain of variable timestamps (above 210) and the average is a
// plausible rate (below 70).
func frameRate(r, avg float64) float64 {
	if r <= 0 || (r > 210 && avg > 0 && avg < 70) {
		return avg
	}
	return r
}

// interlaced: ffprobe's field order names which field comes first in an
// interlaced stream ("tt", "bb", "tb", "bt") and is "progressive" or
// missing otherwise.
func interlaced(fieldOrder string) bool {
	switch fieldOrder {
	case "tt", "bb", "tb", "bt":
		return true
	}
	return false
}

// displaySize is the size a player shows the stream at: stretched by a
// non-square pixel aspect ratio, and turned by a quarter rotation (a phone
// held upright stores landscape pixels plus a display matrix saying so).
func displaySize(st probeStream) (w, h int) {
	w, h = st.Width, st.Height
	if num, den, ok := ratio(st.SampleAspectRatio); ok && num > 0 && den > 0 && num != den {
		// A ratio as large as a file can claim stops at the largest int32,
		// which any size limit refuses, instead of overflowing.
		w = int(min(math.Round(float64(w)*float64(num)/float64(den)), math.MaxInt32))
	}
	if quarterTurn(rotation(st)) {
		w, h = h, w
	}
	return w, h
}

// rotation is the stream's rotation in degrees, from the display matrix side
// data (ffmpeg 5+) or the older "rotate" tag.
func rotation(st probeStream) float64 {
	for _, sd := range st.SideData {
		if sd.Type == "Display Matrix" {
			return sd.Rotation
		}
	}
	if r, err := strconv.ParseFloat(st.Tags["rotate"], 64); err == nil {
		return r
	}
	return 0
}

func quarterTurn(deg float64) bool {
	r := math.Mod(math.Abs(math.Round(deg)), 180)
	return r == 90
}

func parseSeconds(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// parseRate reads an ffprobe rate such as "30000/1001"; 0 when unknown.
func parseRate(s string) float64 {
	num, den, ok := ratio(s)
	if !ok || num <= 0 || den <= 0 {
		return 0
	}
	return float64(num) / float64(den)
}

func ratio(s string) (num, den int64, ok bool) {
	a, b, found := strings.Cut(s, "/")
	if !found {
		a, b, found = strings.Cut(s, ":")
	}
	if !found {
		return 0, 0, false
	}
	n, err1 := strconv.ParseInt(a, 10, 64)
	d, err2 := strconv.ParseInt(b, 10, 64)
	return n, d, err1 == nil && err2 == nil
}

// lastLine is the last non-empty line of s, the one that usually says why.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// CheckTools makes sure ffmpeg and ffprobe can be run, and nice when o
// needs it, with advice a person can act on when they cannot.
func (o Options) CheckTools() error {
	if o.Nice < 0 || o.Nice > 19 {
		return fmt.Errorf("niceness %d: choose 0 (none) to 19 (yield the most); below 0 needs privileges", o.Nice)
	}
	for _, name := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(name); err != nil {
			return fmt.Errorf("%s is not installed or not on PATH: the encoder needs ffmpeg and ffprobe (Debian/Ubuntu: apt-get install ffmpeg; `make tools` does it as root)", name)
		}
	}
	if _, err := exec.LookPath("nice"); err != nil && o.Nice != 0 {
		return errors.New("nice is not on PATH: the encoder runs ffmpeg with a niceness through it (it is in coreutils); or set the niceness to 0")
	}
	return nil
}
