package transcode

import (
	"context"
	"crypto/rand"
	"errors"
	"math"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/ladder"
	"github.com/cloudflix/cloudflix/internal/testenv"
)

func TestProbe(t *testing.T) {
	t.Parallel()
	testenv.RequireFFmpeg(t)
	landscape := clip(t, 640, 360, 4, true)
	cases := []struct {
		name  string
		path  string
		w, h  int
		audio bool
	}{
		{"landscape with audio", landscape, 640, 360, true},
		{"portrait without audio", clip(t, 360, 640, 4, false), 360, 640, false},
		// A phone held upright stores landscape pixels and a display matrix.
		{"rotated a quarter turn", derived(t, "rotated.mp4", landscape, "-c", "copy", "-metadata:s:v:0", "rotate=90"), 360, 640, true},
		{"rotated upside down", derived(t, "upside-down.mp4", landscape, "-c", "copy", "-metadata:s:v:0", "rotate=180"), 640, 360, true},
		// Anamorphic: 480x360 pixels shown 4:3 wider.
		{"non-square pixels", derived(t, "anamorphic.mkv", landscape, "-an", "-vf", "scale=480:360,setsar=4/3", "-c:v", "libx264", "-preset", "ultrafast"), 640, 360, false},
		{"matroska", derived(t, "remux.mkv", landscape, "-c", "copy"), 640, 360, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			src, err := Options{}.Probe(ctx, c.path, Limits{})
			if err != nil {
				t.Fatalf("Probe: %v", err)
			}
			fi, err := os.Stat(c.path)
			if err != nil {
				t.Fatal(err)
			}
			if src.Width != c.w || src.Height != c.h || src.HasAudio != c.audio || src.VideoCodec != "h264" ||
				math.Abs(src.DurationSeconds-4) > 0.1 || math.Abs(src.FrameRate-30) > 0.01 || src.SizeBytes != fi.Size() {
				t.Errorf("Probe = %+v, want %dx%d, audio %t, h264, ~4 s at 30 fps, %d bytes", src, c.w, c.h, c.audio, fi.Size())
			}
		})
	}
}

func TestProbeUnsupported(t *testing.T) {
	t.Parallel()
	testenv.RequireFFmpeg(t)
	random := make([]byte, 64<<10)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	mp4, err := os.ReadFile(clip(t, 640, 360, 4, true))
	if err != nil {
		t.Fatal(err)
	}
	// A tiny playlist is a "video" ffmpeg would happily follow to other
	// files; it must not be read at all.
	playlist := "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n/etc/hostname\n#EXT-X-ENDLIST\n"

	cases := []struct {
		name   string
		path   string
		reason string // a part of the reason a person reads
	}{
		{"empty", writeFile(t, "empty.mp4", nil), "the file is empty"},
		{"random bytes", writeFile(t, "random.mp4", random), "not a video ffmpeg can read"},
		{"text", writeFile(t, "notes.mp4", []byte("these are my holiday notes, not a video\n")), "not a video"},
		// The default MP4 muxer writes the index (moov) at the end.
		{"truncated MP4", writeFile(t, "truncated.mp4", mp4[:len(mp4)/2]), "incomplete"},
		{"audio only", derived(t, "audio.m4a", clip(t, 640, 360, 4, true), "-vn", "-c:a", "copy"), "no video stream"},
		{"JPEG image", derived(t, "picture.jpg", clip(t, 640, 360, 4, true), "-frames:v", "1"), "not a video"},
		{"PNG image", derived(t, "picture.png", clip(t, 640, 360, 4, true), "-frames:v", "1"), "not a video"},
		{"HLS playlist", writeFile(t, "list.m3u8", []byte(playlist)), "not a video"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			src, err := Options{}.Probe(ctx, c.path, Limits{})
			var u *Unsupported
			if !errors.As(err, &u) {
				t.Fatalf("Probe = %+v, %v; want an *Unsupported error", src, err)
			}
			t.Logf("reason: %s", u.Reason)
			if !strings.Contains(u.Reason, c.reason) {
				t.Errorf("reason %q does not say %q", u.Reason, c.reason)
			}
			if strings.Contains(u.Reason, c.path) || strings.Contains(u.Reason, "@ 0x") {
				t.Errorf("reason %q shows ffmpeg internals to a person", u.Reason)
			}
		})
	}
}

func TestProbeMachineErrorsAreNotUnsupported(t *testing.T) {
	t.Parallel()
	testenv.RequireFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var u *Unsupported
	if _, err := (Options{}).Probe(ctx, "/nonexistent/video.mp4", Limits{}); err == nil || errors.As(err, &u) {
		t.Errorf("Probe of a missing file = %v, want an error that is not the file's fault", err)
	}
	if os.Geteuid() != 0 { // root reads any file
		unreadable := writeFile(t, "locked.mp4", []byte("some bytes"))
		if err := os.Chmod(unreadable, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := (Options{}).Probe(ctx, unreadable, Limits{}); err == nil || errors.As(err, &u) {
			t.Errorf("Probe of a file it may not read = %v, want an error that is not the file's fault", err)
		}
	}
	done, cancelDone := context.WithCancel(ctx)
	cancelDone()
	if _, err := (Options{}).Probe(done, clip(t, 640, 360, 4, true), Limits{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Probe with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	limits := Limits{MaxDuration: 4 * time.Hour, MaxWidth: 3840, MaxHeight: 2160,
		MaxPixelRate: 600_000_000, MaxFrameRate: 240, MaxFrames: 100_000}
	ok := []Source{
		{DurationSeconds: 3600, Width: 1920, Height: 1080, FrameRate: 25, Frames: 90_000},
		{DurationSeconds: 4 * 3600, Width: 3840, Height: 2160, FrameRate: 30},
		{DurationSeconds: 10, Width: 2160, Height: 3840, FrameRate: 60, Frames: 600}, // portrait 4K60
		{DurationSeconds: 10, Width: 1280, Height: 720, FrameRate: 240, Frames: 2400},
		{DurationSeconds: 1.0 / 30, Width: 2, Height: 2, FrameRate: 30, Frames: 1},
		{DurationSeconds: 20, Width: 640, Height: 360, FrameRate: 30, Frames: 10}, // one frame every 2 s
	}
	for _, s := range ok {
		if err := s.Check(limits); err != nil {
			t.Errorf("Check(%+v) = %v, want nil", s, err)
		}
	}
	bad := []struct {
		src       Source
		reason    string
		overLimit bool
	}{
		{Source{DurationSeconds: 4*3600 + 1, Width: 640, Height: 360}, "the video lasts 4h1s; the longest accepted is 4h", true},
		{Source{DurationSeconds: 10, Width: 7680, Height: 4320}, "the video is 7680x4320; the largest accepted is 3840x2160", true},
		{Source{DurationSeconds: 10, Width: 4000, Height: 2000}, "the video is 4000x2000; the largest accepted is 3840x2160", true},
		{Source{DurationSeconds: 10, Width: 2000, Height: 4000}, "the video is 2000x4000; the largest accepted is 2160x3840", true},
		{Source{DurationSeconds: 10, Width: 1, Height: 1}, "the video is 1x1; the smallest accepted is 2x2", false},
		{Source{DurationSeconds: 10, Width: 640, Height: 360, FrameRate: 480}, "the video has 480 frames a second; the most accepted is 240", true},
		{Source{DurationSeconds: 10, Width: 3840, Height: 2160, FrameRate: 120},
			"the video is 3840x2160 at 120 frames a second, 995.33 million pixels a second; the most accepted is 600 million", true},
		{Source{DurationSeconds: 3600, Width: 640, Height: 360, FrameRate: 30, Frames: 100_001}, "the video has more than 100000 frames; the most accepted is 100000", true},
		{Source{DurationSeconds: 601, Width: 64, Height: 64, FrameRate: 1, Frames: 2},
			"the video has 2 frames in 10m1s; a video needs at least one frame every 2 seconds", false},
		{Source{DurationSeconds: 600, Width: 64, Height: 64, FrameRate: 30, Frames: 1},
			"the video has 1 frame in 10m; a video needs at least one frame every 2 seconds", false},
	}
	for _, b := range bad {
		err := b.src.Check(limits)
		var u *Unsupported
		if !errors.As(err, &u) || u.Reason != b.reason || u.OverLimit != b.overLimit {
			t.Errorf("Check(%+v) = %#v, want *Unsupported %q (over a limit: %t)", b.src, err, b.reason, b.overLimit)
		}
	}
	if err := (Source{DurationSeconds: 10, Width: 1080, Height: 2000}).Check(Limits{MaxWidth: 1920}); err == nil || err.Error() != "the video is 1080x2000; the largest accepted is 1920x1920" {
		t.Errorf("Check with one side limited = %v", err)
	}
	if err := (Source{DurationSeconds: 10, Width: 1080, Height: 1920}).Check(Limits{MaxHeight: 1920}); err != nil {
		t.Errorf("Check with one side limited = %v, want nil", err)
	}
	if err := (Source{DurationSeconds: 1e6, Width: 1e5, Height: 1e5, FrameRate: 1e4, Frames: 1e9}).Check(Limits{}); err != nil {
		t.Errorf("zero Limits refused %v", err)
	}
	if got := (Source{DurationSeconds: 5400, Width: 2, Height: 2}).Check(Limits{MaxDuration: 90 * time.Minute}); got != nil {
		t.Errorf("a video exactly at the limit was refused: %v", got)
	}
}

func TestEncodeTime(t *testing.T) {
	t.Parallel()
	src := Source{DurationSeconds: 90}
	if got := (Limits{TimeFactor: 4, TimeBase: 5 * time.Minute}).EncodeTime(src); got != 11*time.Minute {
		t.Errorf("EncodeTime = %v, want 4 x 90 s + 5 min = 11m", got)
	}
	if got := (Limits{}).EncodeTime(src); got != 0 {
		t.Errorf("EncodeTime without a limit = %v, want 0", got)
	}

	ctx, cancel := (Limits{TimeBase: 100 * time.Millisecond}).EncodeDeadline(context.Background(), src)
	defer cancel()
	<-ctx.Done()
	var u *Unsupported
	if err := context.Cause(ctx); !errors.As(err, &u) || !u.OverLimit ||
		u.Reason != "the video took too long to encode: a video of 1m30s may take at most 0.1s" {
		t.Errorf("cause = %#v", err)
	}
}

// Each limit refuses a generated video over it, before any decoding, with
// a reason that names the limit.
func TestProbeRefusesWhatIsOverALimit(t *testing.T) {
	t.Parallel()
	testenv.RequireFFmpeg(t)
	landscape := clip(t, 640, 360, 4, true) // 30 fps, 120 frames
	dot := shared(t, "dot.mp4", func(path string) {
		generate(t, path, "-f", "lavfi", "-i", "color=c=red:size=16x16:rate=30:duration=1", "-vf", "scale=1:1",
			"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p")
	})
	cases := []struct {
		name      string
		path      string
		limits    Limits
		reason    string
		overLimit bool
	}{
		{"size", landscape, Limits{MaxWidth: 320, MaxHeight: 240}, "the video is 640x360; the largest accepted is 320x240", true},
		{"portrait size", clip(t, 360, 640, 4, false), Limits{MaxWidth: 320, MaxHeight: 240}, "the video is 360x640; the largest accepted is 240x320", true},
		{"pixel rate", landscape, Limits{MaxPixelRate: 5_000_000},
			"the video is 640x360 at 30 frames a second, 6.91 million pixels a second; the most accepted is 5 million", true},
		{"frame rate", landscape, Limits{MaxFrameRate: 25}, "the video has 30 frames a second; the most accepted is 25", true},
		{"frames", landscape, Limits{MaxFrames: 100}, "the video has more than 100 frames; the most accepted is 100", true},
		{"duration", landscape, Limits{MaxDuration: 3 * time.Second}, "the video lasts 4.0s; the longest accepted is 3.0s", true},
		{"too small", dot, Limits{}, "the video is 1x1; the smallest accepted is 2x2", false},
		{"frames spread thin", sparseClip(t), Limits{},
			"the video has 2 frames in 10m1s; a video needs at least one frame every 2 seconds", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			src, err := Options{}.Probe(ctx, c.path, c.limits)
			var u *Unsupported
			if !errors.As(err, &u) || u.Reason != c.reason || u.OverLimit != c.overLimit {
				t.Fatalf("Probe = %+v, %#v; want *Unsupported %q (over a limit: %t)", src, err, c.reason, c.overLimit)
			}
		})
	}
}

// sparseClip is a tiny MKV of two frames 600 s apart, which would encode
// into ten minutes of video.
func sparseClip(t *testing.T) string {
	t.Helper()
	return shared(t, "sparse.mkv", func(path string) {
		generate(t, path, "-f", "lavfi", "-i", "testsrc2=size=64x64:rate=1", "-frames:v", "2", "-vf", "setpts=N*600/TB",
			"-fps_mode", "passthrough", "-c:v", "libx264", "-preset", "ultrafast")
	})
}

// A tiny file claiming a long time is refused at once: reading its two
// packets is all it costs.
func TestProbeRefusesSparseFramesFast(t *testing.T) {
	t.Parallel()
	testenv.RequireFFmpeg(t)
	path := sparseClip(t)
	start := time.Now()
	_, err := Options{}.Probe(t.Context(), path, Limits{})
	var u *Unsupported
	if !errors.As(err, &u) || !strings.Contains(u.Reason, "2 frames in 10m1s") {
		t.Fatalf("Probe = %v, want the frames refused as too sparse", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("refusing a two-frame file took %v", took)
	}
}

// The duration is what the frames' timestamps say the renditions will
// last: a jump in an MPEG-TS clock is closed, as ffmpeg closes it, and a
// pause in a Matroska file is kept.
func TestProbeTimestampJumps(t *testing.T) {
	t.Parallel()
	testenv.RequireFFmpeg(t)
	landscape := clip(t, 320, 180, 4, false)
	part := derived(t, "part.ts", landscape, "-c", "copy")
	cases := []struct {
		name    string
		path    string
		seconds float64
		frames  int64
	}{
		{"MPEG-TS clock jumps 30 s", derived(t, "jump.ts", landscape, "-vf", "setpts='if(lt(N,60),N/30,N/30+30)/TB'", "-fps_mode", "vfr",
			"-c:v", "libx264", "-preset", "ultrafast"), 4, 120},
		{"MPEG-TS clock jumps back", shared(t, "joined.ts", func(path string) {
			// Two recordings joined byte for byte, each starting at the same time.
			b, err := os.ReadFile(part)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, append(b, b...), 0o644); err != nil {
				t.Fatal(err)
			}
		}), 8, 240},
		{"Matroska pauses 5 s", derived(t, "pause.mkv", landscape, "-vf", "setpts='if(lt(N,60),N/30,N/30+5)/TB'", "-fps_mode", "vfr",
			"-c:v", "libx264", "-preset", "ultrafast"), 9, 120},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, src := probed(t, c.path)
			if math.Abs(src.DurationSeconds-c.seconds) > 0.05 || src.Frames != c.frames {
				t.Errorf("Probe = %+v, want %g s of %d frames", src, c.seconds, c.frames)
			}
			// Encode finds the renditions as long as Probe said.
			if _, err := (Options{Preset: "ultrafast"}).Encode(ctx, src, c.path, t.TempDir(), ladder.For(src.Width, src.Height), nil); err != nil {
				t.Fatalf("Encode: %v", err)
			}
		})
	}
}

func TestTimeline(t *testing.T) {
	t.Parallel()
	packets := func(jumps bool, lines ...string) packetScan {
		tl := newTimeline(1.0/30, jumps)
		for _, l := range lines {
			tl.add(l)
		}
		return tl.scan()
	}
	const frame = "|duration_time=0.033333"
	cases := []struct {
		name                   string
		scan                   packetScan
		frames                 int64
		span, playable, starts float64
	}{
		{"steady", packets(false, "pts_time=0.000000|dts_time=-0.066667"+frame, "pts_time=0.066667|dts_time=-0.033333"+frame,
			"pts_time=0.033333|dts_time=0.000000"+frame), 3, 0.1, 0.1, 0},
		{"no durations or decoding times", packets(false, "pts_time=1.0|dts_time=N/A|duration_time=N/A", "pts_time=1.5|dts_time=N/A|duration_time=N/A"),
			2, 0.5 + 1.0/30, 0.5 + 1.0/30, 1},
		{"jump kept", packets(false, "pts_time=0|dts_time=0"+frame, "pts_time=60|dts_time=60"+frame), 2, 60.033333, 60.033333, 0},
		{"jump closed", packets(true, "pts_time=0|dts_time=0"+frame, "pts_time=60|dts_time=60"+frame), 2, 60.033333, 0.066666, 0},
		{"small jump kept", packets(true, "pts_time=0|dts_time=0"+frame, "pts_time=9|dts_time=9"+frame), 2, 9.033333, 9.033333, 0},
		{"a frame late is kept", packets(true, "pts_time=5|dts_time=5"+frame, "pts_time=5.033333|dts_time=5.033333"+frame, "pts_time=5|dts_time=5"+frame),
			3, 0.066666, 0.066666, 5},
		{"back in time", packets(true, "pts_time=5|dts_time=5"+frame, "pts_time=5.033333|dts_time=5.033333"+frame, "pts_time=2|dts_time=2"+frame),
			3, 3.066666, 0.1, 5},
		{"no timestamps", packets(true, "pts_time=N/A|dts_time=N/A|duration_time=N/A"), 1, 0, 0, 0},
		{"not packets", packets(true, "", "garbage"), 0, 0, 0, 0},
	}
	for _, c := range cases {
		s := c.scan
		if s.frames != c.frames || math.Abs(s.span-c.span) > 1e-5 || math.Abs(s.playable-c.playable) > 1e-5 || math.Abs(s.playFirst-c.starts) > 1e-5 {
			t.Errorf("%s: %+v, want %d frames spanning %g s, %g s playable from %g", c.name, s, c.frames, c.span, c.playable, c.starts)
		}
	}
}

func TestAgree(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		declared, span float64
		reason         string
	}{
		{4, 4.03, ""},
		{60, 57, ""}, // audio three seconds longer: within a tenth
		{4, 3.1, ""}, // within a second
		{0, 100, ""}, // nothing declared
		{4, 2, "the file is damaged or incomplete: it says it lasts 4.0s, but its video stops after 2.0s"},
		{601, 2, "the file is damaged or incomplete: it says it lasts 10m1s, but its video stops after 2.0s"},
		{2, 600, "the file is damaged: it says it lasts 2.0s, but its video runs for 10m"},
	} {
		err := agree(c.declared, c.span)
		if (err == nil) != (c.reason == "") || err != nil && err.Error() != c.reason {
			t.Errorf("agree(%g, %g) = %v, want %q", c.declared, c.span, err, c.reason)
		}
	}
}

// Counting frames stops just past the limit: a file of millions costs no
// more to refuse than one of a few over it.
func TestScanStopsPastTheFrameLimit(t *testing.T) {
	t.Parallel()
	testenv.RequireFFmpeg(t)
	path := clip(t, 640, 360, 4, true) // 120 frames
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	scan, err := Options{}.scanPackets(t.Context(), path, fi.Size(), 100, 30, false)
	if err != nil || scan.complete || scan.frames != 101 {
		t.Errorf("scanPackets with a limit of 100 = %+v, %v; want it stopped at frame 101", scan, err)
	}
	scan, err = Options{}.scanPackets(t.Context(), path, fi.Size(), 0, 30, false)
	if err != nil || !scan.complete || scan.frames != 120 || math.Abs(scan.span-4) > 0.01 {
		t.Errorf("scanPackets without a limit = %+v, %v; want all 120 frames over 4 s", scan, err)
	}
}
