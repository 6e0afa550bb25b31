package transcode

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// packetScan is what the packets of a video stream, read without decoding
// them, say about it.
type packetScan struct {
	frames int64
	// span is the seconds from the start of the earliest frame to the end
	// of the latest, as their timestamps say.
	span float64
	// playable is span without the timestamp jumps ffmpeg closes: what
	// the renditions will last; playFirst is where it starts.
	playable, playFirst float64
	// complete is false when reading stopped past the frame limit.
	complete bool
}

// tsJump is how far (seconds) a timestamp may jump, either way, from where
// the previous frame ended before ffmpeg, reading a format that allows
// jumps, closes the gap (ffmpeg's -dts_delta_threshold, 10 by default).
const tsJump = 10

// closesJumps reports whether ffmpeg closes timestamp jumps in the format
// ffprobe names: only MPEG transport and program streams, whose clocks
// jump where recordings were joined or restarted, allow them.
func closesJumps(formatName string) bool {
	return formatName == "mpegts" || formatName == "mpeg"
}

// scanTimeout is how long reading a file's packets may take. Reading
// without decoding runs at the speed of the disk, hundreds of megabytes a
// second; a file slower to read than 20 MB/s is made to waste time.
func scanTimeout(size int64) time.Duration {
	return time.Minute + time.Duration(size/(20<<20))*time.Second
}

// scanPackets reads the timestamps of every packet of the first video
// stream, as ffmpeg will meet them, and stops once more than maxFrames (when
// above 0) are counted. A frame at fps stands in for a duration a packet
// does not have. jumps says whether ffmpeg closes timestamp jumps in this
// file (closesJumps).
func (o Options) scanPackets(ctx context.Context, path string, size, maxFrames int64, fps float64, jumps bool) (packetScan, error) {
	sctx, cancel := context.WithTimeout(ctx, scanTimeout(size))
	defer cancel()
	// Killing ffprobe on purpose must not look like the timeout.
	kctx, kill := context.WithCancel(sctx)
	defer kill()
	args := append([]string{"-v", "error", "-select_streams", "v:0",
		"-show_entries", "packet=pts_time,dts_time,duration_time", "-of", "compact=p=0"}, input(path)...)
	cmd := o.tool(kctx, "ffprobe", args...)
	stderr := &tail{max: stderrLines}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return packetScan{}, fmt.Errorf("ffprobe %s: %w", path, err)
	}
	if err := cmd.Start(); err != nil {
		return packetScan{}, fmt.Errorf("ffprobe %s: %w", path, err)
	}
	var frameSeconds float64
	if fps > 0 {
		frameSeconds = 1 / fps
	}
	t := newTimeline(frameSeconds, jumps)
	sc := bufio.NewScanner(stdout)
	stopped := false
	for sc.Scan() {
		if t.add(sc.Text()) && maxFrames > 0 && t.frames > maxFrames {
			stopped = true
			break
		}
	}
	readErr := sc.Err()
	if stopped || readErr != nil {
		// Stopped reading: ffprobe must not be left blocked on a full
		// pipe.
		kill()
	}
	err = cmd.Wait()
	scan := t.scan()
	switch {
	case stopped:
		return scan, nil
	case readErr != nil:
		return packetScan{}, fmt.Errorf("ffprobe %s: read its output: %w", path, readErr)
	case ctx.Err() != nil:
		return packetScan{}, fmt.Errorf("ffprobe %s: %w", path, context.Cause(ctx))
	case sctx.Err() != nil:
		return packetScan{}, unsupported("the file could not be read within %s: it is damaged or holds far too many frames",
			humanDuration(scanTimeout(size)))
	}
	var exit *exec.ExitError
	switch {
	case err == nil, errors.As(err, &exit) && exit.Exited() && !machineFault(stderr.String()) && scan.frames > 0:
		// A damaged file ends with an error after the packets that
		// could be read: agree judges whether they are the whole video.
		scan.complete = true
		return scan, nil
	case errors.As(err, &exit) && exit.Exited() && !machineFault(stderr.String()):
		return packetScan{}, unreadable(stderr.String())
	}
	return packetScan{}, fmt.Errorf("ffprobe %s: %w: %s", path, err, lastLine(stderr.String()))
}

// timeline follows a stream's packets in decoding order.
type timeline struct {
	frameSeconds float64
	jumps        bool

	frames                   int64
	first, last              float64 // span: earliest start and latest end, as stamped
	playFirst, playLast      float64 // the same with closed jumps taken out
	offset                   float64 // seconds added to timestamps after closed jumps
	prevDTS, prevDur         float64
	havePrev, haveTimestamps bool
}

// maxTimestamp is the largest time, in seconds either way, that a packet
// line is believed: over three centuries, more than any video's clock
// reads. A larger one is read as unknown, so that no sum of the times of a
// file's packets, however many, overflows into an infinite or NaN span
// that the duration limits could not judge.
const maxTimestamp = 1e10

func newTimeline(frameSeconds float64, jumps bool) *timeline {
	if !(frameSeconds >= 0 && frameSeconds <= maxTimestamp) {
		frameSeconds = 0
	}
	return &timeline{frameSeconds: frameSeconds, jumps: jumps,
		first: math.Inf(1), last: math.Inf(-1), playFirst: math.Inf(1), playLast: math.Inf(-1)}
}

// add reads one line of ffprobe's compact output
// ("pts_time=1.0|dts_time=0.9|duration_time=0.04", "N/A" for a value a
// packet lacks) and reports whether it was a packet.
func (t *timeline) add(line string) bool {
	var pts, dts, dur float64
	pts, dts, dur = math.NaN(), math.NaN(), math.NaN()
	fields := 0
	for _, kv := range strings.Split(line, "|") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "pts_time":
			pts = parseTime(v)
		case "dts_time":
			dts = parseTime(v)
		case "duration_time":
			dur = parseTime(v)
		default:
			continue
		}
		fields++
	}
	if fields == 0 {
		return false
	}
	t.frames++
	if math.IsNaN(dur) || dur < 0 {
		dur = t.frameSeconds
	}
	if math.IsNaN(pts) {
		pts = dts
	}
	if math.IsNaN(dts) {
		dts = pts
	}
	if math.IsNaN(pts) {
		return true // counted; no time to place it at
	}
	if t.jumps && t.havePrev {
		// As ffmpeg does: a packet far from where the previous one
		// ended, or well before it, is moved to follow it.
		if delta := dts - (t.prevDTS + t.prevDur); delta > tsJump || delta < -tsJump || dts+0.1 < t.prevDTS {
			t.offset -= delta
		}
	}
	t.prevDTS, t.prevDur, t.havePrev = dts, dur, true
	t.haveTimestamps = true
	t.first, t.last = min(t.first, pts), max(t.last, pts+dur)
	t.playFirst, t.playLast = min(t.playFirst, pts+t.offset), max(t.playLast, pts+t.offset+dur)
	return true
}

func (t *timeline) scan() packetScan {
	s := packetScan{frames: t.frames}
	if t.haveTimestamps {
		s.span, s.playable, s.playFirst = t.last-t.first, t.playLast-t.playFirst, t.playFirst
	}
	return s
}

// parseTime reads a time ffprobe writes, NaN for "N/A" and for a time
// beyond maxTimestamp.
func parseTime(s string) float64 {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(math.Abs(f) <= maxTimestamp) {
		return math.NaN()
	}
	return f
}
