package transcode

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudflix/cloudflix/internal/ladder"
	"github.com/cloudflix/cloudflix/internal/video"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the code")

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the code's output (run with -update if the change is intended)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// goldenArgs writes an argument list one argument per line, so a diff
// shows which argument changed.
func goldenArgs(t *testing.T, name string, args []string) {
	t.Helper()
	golden(t, name, []byte(strings.Join(args, "\n")+"\n"))
}

func TestCommandLandscape(t *testing.T) {
	t.Parallel()
	src := Source{DurationSeconds: 60, Width: 1280, Height: 720, FrameRate: 30, HasAudio: true, VideoCodec: "h264"}
	rungs := ladder.For(src.Width, src.Height)
	if len(rungs) != 4 {
		t.Fatalf("ladder for 1280x720 has %d rungs, want 4", len(rungs))
	}
	goldenArgs(t, "command_1280x720.golden", Options{}.command(src, "/tmp/job/source", "/tmp/job/hls", rungs))
}

func TestCommandPortraitNoAudio(t *testing.T) {
	t.Parallel()
	src := Source{DurationSeconds: 15, Width: 1080, Height: 1920, FrameRate: 30000.0 / 1001, VideoCodec: "hevc"}
	goldenArgs(t, "command_1080x1920.golden", Options{}.command(src, "/tmp/job/source", "/tmp/job/hls", ladder.For(src.Width, src.Height)))
}

func TestCommandHighFrameRate(t *testing.T) {
	t.Parallel()
	// A slow-motion clip is streamed at a quarter of its 240 fps.
	src := Source{DurationSeconds: 5, Width: 1920, Height: 1080, FrameRate: 240, HasAudio: true, VideoCodec: "h264"}
	opts := Options{Preset: "faster", Tag: "a2-0f3c9e-"}
	goldenArgs(t, "command_240fps.golden", opts.command(src, "/tmp/job/source", "/tmp/job/hls", ladder.For(src.Width, src.Height)[3:]))
}

func TestCommandInterlaced(t *testing.T) {
	t.Parallel()
	// 1080i broadcast: fields woven into frames first, at 25 frames a second.
	src := Source{DurationSeconds: 30, Width: 1920, Height: 1080, FrameRate: 25, Interlaced: true, HasAudio: true, VideoCodec: "mpeg2video"}
	goldenArgs(t, "command_1080i25.golden", Options{}.command(src, "/tmp/job/source", "/tmp/job/hls", ladder.For(src.Width, src.Height)[2:]))
}

func TestH264Level(t *testing.T) {
	t.Parallel()
	cases := []struct {
		w, h    int
		fps     float64
		maxrate int
		want    string
	}{
		{426, 240, 30, 400_000, "3.0"},
		{854, 480, 30, 1_400_000, "3.1"},
		{1280, 720, 30, 2_800_000, "3.1"},
		{1280, 720, 60, 2_800_000, "3.2"},
		{1920, 1080, 30, 5_000_000, "4.0"},
		{1920, 1080, 60, 5_000_000, "4.2"},
		{1080, 1920, 30, 5_000_000, "4.0"},
		{2560, 1440, 30, 8_000_000, "5.0"},
		{3840, 2160, 30, 14_000_000, "5.1"},
		{3840, 2160, 60, 14_000_000, "5.2"},
		{7680, 4320, 30, 30_000_000, ""}, // beyond H.264's levels: x264 decides
	}
	for _, c := range cases {
		if got := h264Level(c.w, c.h, c.fps, c.maxrate); got != c.want {
			t.Errorf("h264Level(%dx%d@%g, %d) = %q, want %q", c.w, c.h, c.fps, c.maxrate, got, c.want)
		}
	}
}

func TestWriteMaster(t *testing.T) {
	t.Parallel()
	rs := []video.Rendition{
		{Name: "240p", Width: 426, Height: 240, Bandwidth: 512_345, AverageBandwidth: 401_200, Codecs: "avc1.64001e,mp4a.40.2", FrameRate: 30},
		{Name: "360p", Width: 640, Height: 360, Bandwidth: 1_002_003, AverageBandwidth: 760_000, Codecs: "avc1.64001e,mp4a.40.2", FrameRate: 30},
		{Name: "720p", Width: 1280, Height: 720, Bandwidth: 3_100_000, AverageBandwidth: 2_050_000, Codecs: "avc1.64001f,mp4a.40.2", FrameRate: 30000.0 / 1001},
	}
	var b bytes.Buffer
	if err := WriteMaster(&b, rs); err != nil {
		t.Fatal(err)
	}
	golden(t, "master.m3u8.golden", b.Bytes())
}

func TestWriteMasterRefusesUntrueValues(t *testing.T) {
	t.Parallel()
	good := video.Rendition{Name: "240p", Width: 426, Height: 240, Bandwidth: 500, AverageBandwidth: 400, Codecs: "avc1.64001e", FrameRate: 30}
	bad := map[string]func(*video.Rendition){
		"peak below average": func(r *video.Rendition) { r.Bandwidth = 300 },
		"no bandwidth":       func(r *video.Rendition) { r.AverageBandwidth, r.Bandwidth = 0, 0 },
		"no codecs":          func(r *video.Rendition) { r.Codecs = "" },
		"no size":            func(r *video.Rendition) { r.Width = 0 },
		"no name":            func(r *video.Rendition) { r.Name = "" },
	}
	for name, spoil := range bad {
		r := good
		spoil(&r)
		if err := WriteMaster(&bytes.Buffer{}, []video.Rendition{good, r}); err == nil {
			t.Errorf("%s: WriteMaster accepted %+v", name, r)
		}
	}
	if err := WriteMaster(&bytes.Buffer{}, nil); err == nil {
		t.Error("WriteMaster accepted no renditions")
	}
}

func TestSpriteVTT(t *testing.T) {
	t.Parallel()
	// 25 s at 25 fps: one tile a second, the last at 24 s; 10 columns, 3 rows.
	sp := spriteFor(Source{DurationSeconds: 25, Width: 1280, Height: 720, FrameRate: 25})
	want := Sprite{Image: "storyboard.jpg", Duration: 25, Interval: 1, Tiles: 25, Columns: 10, TileWidth: 160, TileHeight: 90}
	if sp != want {
		t.Fatalf("spriteFor = %+v, want %+v", sp, want)
	}
	if sp.Rows() != 3 {
		t.Fatalf("rows = %d, want 3", sp.Rows())
	}
	var b bytes.Buffer
	if err := sp.WriteVTT(&b); err != nil {
		t.Fatal(err)
	}
	golden(t, "storyboard.vtt.golden", b.Bytes())
}

func TestSpritePlan(t *testing.T) {
	t.Parallel()
	cases := []struct {
		src                    Source
		interval               float64
		tiles, columns, tw, th int
	}{
		{Source{DurationSeconds: 4, Width: 640, Height: 360, FrameRate: 30}, 1, 4, 4, 160, 90},
		{Source{DurationSeconds: 0.5, Width: 640, Height: 360, FrameRate: 30}, 1, 1, 1, 160, 90},
		{Source{DurationSeconds: 4 * 3600, Width: 1080, Height: 1920, FrameRate: 30}, 144, 100, 10, 160, 284},
		{Source{DurationSeconds: 100, Width: 1920, Height: 1080, FrameRate: 30}, 1, 100, 10, 160, 90},
		{Source{DurationSeconds: 100.5, Width: 120, Height: 90}, 2, 51, 10, 120, 90},
	}
	for _, c := range cases {
		sp := spriteFor(c.src)
		if sp.Interval != c.interval || sp.Tiles != c.tiles || sp.Columns != c.columns || sp.TileWidth != c.tw || sp.TileHeight != c.th {
			t.Errorf("spriteFor(%+v) = %+v, want interval %g, %d tiles, %d columns, %dx%d",
				c.src, sp, c.interval, c.tiles, c.columns, c.tw, c.th)
		}
		if sp.Tiles > StoryboardMaxTiles {
			t.Errorf("spriteFor(%+v): %d tiles", c.src, sp.Tiles)
		}
	}
}
