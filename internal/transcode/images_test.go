package transcode

import (
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/testenv"
)

// imageSize is the size of the picture in a JPEG, as ffprobe reads it.
func imageSize(t *testing.T, path string) string {
	t.Helper()
	lines := ffprobeCSV(t, "-show_entries", "stream=codec_name,width,height", path)
	if len(lines) != 1 {
		t.Fatalf("%s: ffprobe says %v", path, lines)
	}
	return lines[0]
}

func TestThumbnail(t *testing.T) {
	t.Parallel()
	testenv.RequireFFmpeg(t)
	cases := []struct {
		name string
		path string
		want string
	}{
		{"larger than 640 wide", clip(t, 1280, 720, 3, true), "mjpeg,640,360"},
		{"smaller: not upscaled", clip(t, 360, 640, 4, false), "mjpeg,360,640"},
		{"rotated phone video", derived(t, "rotated.mp4", clip(t, 640, 360, 4, true), "-c", "copy", "-metadata:s:v:0", "rotate=90"), "mjpeg,360,640"},
		// Seeking in a file without an index lands past the only
		// keyframe, at the start: nothing decodes from there.
		{"MPEG-TS of one keyframe", derived(t, "onekey.ts", clip(t, 640, 360, 4, true), "-c", "copy"), "mjpeg,640,360"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, src := probed(t, c.path)
			out := filepath.Join(t.TempDir(), "thumb.jpg")
			if err := (Options{}).Thumbnail(ctx, src, c.path, out); err != nil {
				t.Fatalf("Thumbnail: %v", err)
			}
			if got := imageSize(t, out); got != c.want {
				t.Errorf("thumbnail is %s, want %s", got, c.want)
			}
		})
	}
}

func TestThumbnailOfGarbageFails(t *testing.T) {
	t.Parallel()
	testenv.RequireFFmpeg(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	garbage := writeFile(t, "garbage.mp4", []byte(strings.Repeat("not a video ", 1000)))
	src := Source{DurationSeconds: 4, Width: 640, Height: 360, FrameRate: 30}
	if err := (Options{}).Thumbnail(ctx, src, garbage, filepath.Join(t.TempDir(), "thumb.jpg")); err == nil {
		t.Error("Thumbnail of garbage succeeded")
	}
}

func TestStoryboard(t *testing.T) {
	t.Parallel()
	testenv.RequireFFmpeg(t)
	// One tile a second, in a single row of 160x90 tiles. The last tile of
	// the 4.4 s video shows its last 0.4 s.
	cases := []struct {
		path  string
		tiles int
		end   string // of the last cue
	}{
		{clip(t, 640, 360, 4, true), 4, "00:00:04.000"},
		{clip(t, 640, 360, 4.4, false), 5, "00:00:04.400"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.tiles, " tiles"), func(t *testing.T) {
			t.Parallel()
			ctx, src := probed(t, c.path)
			outDir := t.TempDir()
			jpg, vtt, err := Options{}.Storyboard(ctx, src, c.path, outDir)
			if err != nil {
				t.Fatalf("Storyboard: %v", err)
			}
			if jpg != filepath.Join(outDir, "storyboard.jpg") || vtt != filepath.Join(outDir, "storyboard.vtt") {
				t.Errorf("Storyboard wrote %s and %s", jpg, vtt)
			}
			if got, want := imageSize(t, jpg), fmt.Sprintf("mjpeg,%d,90", 160*c.tiles); got != want {
				t.Errorf("sprite is %s, want %s", got, want)
			}
			checkTilesHavePictures(t, jpg, c.tiles, 160, 90)
			b, err := os.ReadFile(vtt)
			if err != nil {
				t.Fatal(err)
			}
			var want strings.Builder
			want.WriteString("WEBVTT\n")
			for i := range c.tiles {
				end := fmt.Sprintf("00:00:%02d.000", i+1)
				if i == c.tiles-1 {
					end = c.end
				}
				fmt.Fprintf(&want, "\n00:00:%02d.000 --> %s\nstoryboard.jpg#xywh=%d,0,160,90\n", i, end, i*160)
			}
			if string(b) != want.String() {
				t.Errorf("storyboard.vtt:\n%s\nwant:\n%s", b, want.String())
			}
		})
	}
}

// checkTilesHavePictures checks that each of the first n tiles of the
// sprite shows something, not the tile filter's black padding.
func checkTilesHavePictures(t *testing.T, path string, n, w, h int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	cols := img.Bounds().Dx() / w
	for i := range n {
		tile := image.Rect(i%cols*w, i/cols*h, i%cols*w+w, i/cols*h+h)
		lo, hi := uint32(1<<16), uint32(0)
		for y := tile.Min.Y; y < tile.Max.Y; y += 3 {
			for x := tile.Min.X; x < tile.Max.X; x += 3 {
				r, g, b, _ := img.At(x, y).RGBA()
				v := (r + g + b) / 3
				lo, hi = min(lo, v), max(hi, v)
			}
		}
		if hi-lo < 1<<14 {
			t.Errorf("tile %d of %s is blank", i, path)
		}
	}
}
