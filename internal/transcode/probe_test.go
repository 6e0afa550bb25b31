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
			src, err := Probe(ctx, c.path)
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
			src, err := Probe(ctx, c.path)
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
	if _, err := Probe(ctx, "/nonexistent/video.mp4"); err == nil || errors.As(err, &u) {
		t.Errorf("Probe of a missing file = %v, want an error that is not the file's fault", err)
	}
	if os.Geteuid() != 0 { // root reads any file
		unreadable := writeFile(t, "locked.mp4", []byte("some bytes"))
		if err := os.Chmod(unreadable, 0); err != nil {
			t.Fatal(err)
		}
		if _, err := Probe(ctx, unreadable); err == nil || errors.As(err, &u) {
			t.Errorf("Probe of a file it may not read = %v, want an error that is not the file's fault", err)
		}
	}
	done, cancelDone := context.WithCancel(ctx)
	cancelDone()
	if _, err := Probe(done, clip(t, 640, 360, 4, true)); !errors.Is(err, context.Canceled) {
		t.Errorf("Probe with a cancelled context = %v, want context.Canceled", err)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	limits := Limits{MaxDuration: 4 * time.Hour, MaxWidth: 3840, MaxHeight: 2160}
	ok := []Source{
		{DurationSeconds: 3600, Width: 1920, Height: 1080},
		{DurationSeconds: 4 * 3600, Width: 3840, Height: 2160},
		{DurationSeconds: 10, Width: 2160, Height: 3840}, // portrait 4K
	}
	for _, s := range ok {
		if err := s.Check(limits); err != nil {
			t.Errorf("Check(%+v) = %v, want nil", s, err)
		}
	}
	bad := []struct {
		src    Source
		reason string
	}{
		{Source{DurationSeconds: 4*3600 + 1, Width: 640, Height: 360}, "the video is longer than the 4h limit (it lasts 4h1s)"},
		{Source{DurationSeconds: 10, Width: 7680, Height: 4320}, "the video is 7680x4320, larger than the 3840x2160 limit"},
		{Source{DurationSeconds: 10, Width: 4000, Height: 2000}, "the video is 4000x2000, larger than the 3840x2160 limit"},
	}
	for _, b := range bad {
		err := b.src.Check(limits)
		var u *Unsupported
		if !errors.As(err, &u) || u.Reason != b.reason {
			t.Errorf("Check(%+v) = %v, want *Unsupported %q", b.src, err, b.reason)
		}
	}
	if err := (Source{DurationSeconds: 10, Width: 1080, Height: 2000}).Check(Limits{MaxWidth: 1920}); err == nil || err.Error() != "the video is 1080x2000, larger than the 1920 pixels wide limit" {
		t.Errorf("Check with one side limited = %v", err)
	}
	if err := (Source{DurationSeconds: 10, Width: 1080, Height: 1920}).Check(Limits{MaxHeight: 1920}); err != nil {
		t.Errorf("Check with one side limited = %v, want nil", err)
	}
	if err := (Source{DurationSeconds: 1e6, Width: 1e5, Height: 1e5}).Check(Limits{}); err != nil {
		t.Errorf("zero Limits refused %v", err)
	}
	if got := (Source{DurationSeconds: 5400}).Check(Limits{MaxDuration: 90 * time.Minute}); got != nil {
		t.Errorf("a video exactly at the limit was refused: %v", got)
	}
	if err := (Source{DurationSeconds: 5401}).Check(Limits{MaxDuration: 90 * time.Minute}); err == nil || err.Error() != "the video is longer than the 1h30m limit (it lasts 1h30m1s)" {
		t.Errorf("Check = %v", err)
	}
}
