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
type Unsupported struct{ Reason string }

func (e *Unsupported) Error() string { return e.Reason }

func unsupported(format string, args ...any) error {
	return &Unsupported{Reason: fmt.Sprintf(format, args...)}
}

// Source is what ffprobe says about a source video.
type Source struct {
	DurationSeconds float64
	Width, Height   int     // display size: after rotation and pixel aspect ratio
	FrameRate       float64 // frames per second, 0 if unknown
	HasAudio        bool
	VideoCodec      string // ffmpeg's codec name, e.g. "h264"
	SizeBytes       int64
}

// Limits bound what the platform accepts; a zero field is no limit.
type Limits struct {
	MaxDuration time.Duration
	// MaxWidth and MaxHeight bound the long and the short side, whichever
	// way the video is turned: a 3840x2160 limit admits a portrait 2160x3840.
	// With only one of them set, it bounds both sides.
	MaxWidth, MaxHeight int
}

// Check returns an *Unsupported error when s is over a limit of l.
func (s Source) Check(l Limits) error {
	if l.MaxDuration > 0 && s.DurationSeconds > l.MaxDuration.Seconds() {
		return unsupported("the video is longer than the %s limit (it lasts %s)",
			humanDuration(l.MaxDuration), humanDuration(time.Duration(s.DurationSeconds*float64(time.Second))))
	}
	maxLong, maxShort := max(l.MaxWidth, l.MaxHeight), min(l.MaxWidth, l.MaxHeight)
	if maxShort == 0 {
		maxShort = maxLong // one side given: it bounds both
	}
	if maxLong > 0 && (max(s.Width, s.Height) > maxLong || min(s.Width, s.Height) > maxShort) {
		return unsupported("the video is %dx%d, larger than the %s limit", s.Width, s.Height, sizeLimit(l))
	}
	return nil
}

func sizeLimit(l Limits) string {
	switch {
	case l.MaxWidth > 0 && l.MaxHeight > 0:
		return fmt.Sprintf("%dx%d", l.MaxWidth, l.MaxHeight)
	case l.MaxWidth > 0:
		return fmt.Sprintf("%d pixels wide", l.MaxWidth)
	default:
		return fmt.Sprintf("%d pixels high", l.MaxHeight)
	}
}

// humanDuration writes d the way people say it: "4h", "1h30m", "45s".
func humanDuration(d time.Duration) string {
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

// probeOutput is the part of ffprobe's JSON that Probe reads.
type probeOutput struct {
	Streams []probeStream `json:"streams"`
	Format  struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

type probeStream struct {
	CodecType         string            `json:"codec_type"`
	CodecName         string            `json:"codec_name"`
	Profile           string            `json:"profile"`
	Width             int               `json:"width"`
	Height            int               `json:"height"`
	SampleAspectRatio string            `json:"sample_aspect_ratio"`
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
func runProbe(ctx context.Context, path string) (probeOutput, error) {
	var out probeOutput
	args := append([]string{"-v", "error", "-print_format", "json", "-show_format", "-show_streams"}, input(path)...)
	cmd := exec.CommandContext(ctx, "ffprobe", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return out, fmt.Errorf("ffprobe %s: %w", path, ctx.Err())
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

// Probe reads what the video at path is. A file that is not a video ffmpeg
// can decode (empty, garbage, an image, audio only, no duration) is an
// *Unsupported error; other errors are the machine's (no ffprobe, ctx done).
func Probe(ctx context.Context, path string) (Source, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return Source{}, fmt.Errorf("probe: %w", err)
	}
	if fi.Size() == 0 {
		return Source{}, unsupported("the file is empty")
	}
	out, err := runProbe(ctx, path)
	if err != nil {
		return Source{}, err
	}
	src := Source{SizeBytes: fi.Size()}

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
			return Source{}, unsupported("the file has no video stream (it is audio only)")
		}
		return Source{}, unsupported("the file has no video stream")
	}
	if video.Disposition["still_image"] == 1 {
		return Source{}, unsupported("the file is a still image, not a video")
	}
	if video.CodecName == "" {
		return Source{}, unsupported("the video is in a format ffmpeg cannot decode")
	}
	if video.Width <= 0 || video.Height <= 0 {
		return Source{}, unsupported("the video has no picture size ffmpeg can read")
	}
	src.VideoCodec = video.CodecName
	src.Width, src.Height = displaySize(*video)

	src.DurationSeconds = parseSeconds(out.Format.Duration)
	if src.DurationSeconds <= 0 {
		src.DurationSeconds = parseSeconds(video.Duration)
	}
	if src.DurationSeconds <= 0 {
		return Source{}, unsupported("the video has no duration ffmpeg can read")
	}
	src.FrameRate = parseRate(video.AvgFrameRate)
	if src.FrameRate <= 0 {
		src.FrameRate = parseRate(video.RFrameRate)
	}
	return src, nil
}

// displaySize is the size a player shows the stream at: stretched by a
// non-square pixel aspect ratio, and turned by a quarter rotation (a phone
// held upright stores landscape pixels plus a display matrix saying so).
func displaySize(st probeStream) (w, h int) {
	w, h = st.Width, st.Height
	if num, den, ok := ratio(st.SampleAspectRatio); ok && num > 0 && den > 0 && num != den {
		w = int(math.Round(float64(w) * float64(num) / float64(den)))
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

// CheckTools makes sure ffmpeg and ffprobe can be run, with advice a person
// can act on when they cannot.
func CheckTools() error {
	for _, name := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(name); err != nil {
			return fmt.Errorf("%s is not installed or not on PATH: the encoder needs ffmpeg and ffprobe (Debian/Ubuntu: apt-get install ffmpeg; `make tools` does it as root)", name)
		}
	}
	return nil
}
