package ladder

import (
	"fmt"
	"testing"
)

// size is a rung's name and dimensions, what most cases need to check.
type size struct {
	name string
	w, h int
}

func TestFor(t *testing.T) {
	t.Parallel()
	cases := []struct {
		w, h int
		want []size
	}{
		{1280, 720, []size{{"240p", 426, 240}, {"360p", 640, 360}, {"480p", 854, 480}, {"720p", 1280, 720}}},
		{1920, 1080, []size{{"240p", 426, 240}, {"360p", 640, 360}, {"480p", 854, 480}, {"720p", 1280, 720}, {"1080p", 1920, 1080}}},
		{3840, 2160, []size{{"240p", 426, 240}, {"360p", 640, 360}, {"480p", 854, 480}, {"720p", 1280, 720}, {"1080p", 1920, 1080}, {"1440p", 2560, 1440}, {"2160p", 3840, 2160}}},
		{640, 360, []size{{"240p", 426, 240}, {"360p", 640, 360}}},
		// Odd sizes: aspect kept, every dimension even, never above the source.
		{853, 481, []size{{"240p", 426, 240}, {"360p", 638, 360}, {"480p", 852, 480}}},
		// A hair under 720: the 720p rung at the source's own (even) size.
		{1279, 719, []size{{"240p", 426, 240}, {"360p", 640, 360}, {"480p", 854, 480}, {"720p", 1278, 718}}},
		// Portrait: the short side names the rung.
		{720, 1280, []size{{"240p", 240, 426}, {"360p", 360, 640}, {"480p", 480, 854}, {"720p", 720, 1280}}},
		{1080, 1920, []size{{"240p", 240, 426}, {"360p", 360, 640}, {"480p", 480, 854}, {"720p", 720, 1280}, {"1080p", 1080, 1920}}},
		{360, 640, []size{{"240p", 240, 426}, {"360p", 360, 640}}},
		// Wide and square.
		{1920, 800, []size{{"240p", 576, 240}, {"360p", 864, 360}, {"480p", 1152, 480}, {"720p", 1728, 720}}},
		{500, 500, []size{{"240p", 240, 240}, {"360p", 360, 360}, {"480p", 480, 480}}},
		// Smaller than the lowest standard: one rung at its own size, made even.
		{160, 90, []size{{"90p", 160, 90}}},
		{161, 91, []size{{"90p", 160, 90}}},
		{90, 161, []size{{"90p", 90, 160}}},
		{320, 239, []size{{"240p", 318, 238}}},
		{320, 200, []size{{"200p", 320, 200}}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%dx%d", c.w, c.h), func(t *testing.T) {
			t.Parallel()
			got := For(c.w, c.h)
			if len(got) != len(c.want) {
				t.Fatalf("For(%d, %d) = %d rungs %v, want %d %v", c.w, c.h, len(got), got, len(c.want), c.want)
			}
			for i, r := range got {
				if w := c.want[i]; r.Name != w.name || r.Width != w.w || r.Height != w.h {
					t.Errorf("rung %d = %s %dx%d, want %s %dx%d", i, r.Name, r.Width, r.Height, w.name, w.w, w.h)
				}
				if r.Width%2 != 0 || r.Height%2 != 0 {
					t.Errorf("rung %s is %dx%d: odd dimension", r.Name, r.Width, r.Height)
				}
				if r.Width > c.w || r.Height > c.h {
					t.Errorf("rung %s is %dx%d: upscales a %dx%d source", r.Name, r.Width, r.Height, c.w, c.h)
				}
				if (r.Width > r.Height) != (c.w > c.h) && r.Width != r.Height {
					t.Errorf("rung %s is %dx%d: orientation differs from %dx%d", r.Name, r.Width, r.Height, c.w, c.h)
				}
			}
		})
	}
}

func TestForRates(t *testing.T) {
	t.Parallel()
	want := map[string]struct{ maxrate, audio int }{
		"240p": {400_000, 96_000}, "360p": {800_000, 96_000}, "480p": {1_400_000, 128_000},
		"720p": {2_800_000, 128_000}, "1080p": {5_000_000, 128_000}, "1440p": {8_000_000, 128_000},
		"2160p": {14_000_000, 128_000},
	}
	rungs := For(3840, 2160)
	if len(rungs) != len(want) {
		t.Fatalf("4K ladder has %d rungs, want %d", len(rungs), len(want))
	}
	prev := 0
	for _, r := range rungs {
		w := want[r.Name]
		if r.MaxBitrate != w.maxrate || r.BufSize != 2*w.maxrate || r.AudioBitrate != w.audio || r.CRF != CRF {
			t.Errorf("%s: maxrate %d bufsize %d audio %d crf %d, want %d %d %d %d",
				r.Name, r.MaxBitrate, r.BufSize, r.AudioBitrate, r.CRF, w.maxrate, 2*w.maxrate, w.audio, CRF)
		}
		if r.MaxBitrate <= prev {
			t.Errorf("%s: maxrate %d not above the rung below (%d)", r.Name, r.MaxBitrate, prev)
		}
		prev = r.MaxBitrate
	}
	if tiny := For(160, 90); tiny[0].MaxBitrate != 400_000 || tiny[0].BufSize != 800_000 || tiny[0].AudioBitrate != 96_000 {
		t.Errorf("tiny rung %+v: want the 240p caps", tiny[0])
	}
}

func TestForDegenerate(t *testing.T) {
	t.Parallel()
	for _, s := range [][2]int{{0, 0}, {1, 720}, {1280, 0}, {-4, 6}} {
		if got := For(s[0], s[1]); got != nil {
			t.Errorf("For(%d, %d) = %v, want no rungs", s[0], s[1], got)
		}
	}
}
