package transcode

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudflix/cloudflix/internal/ladder"
	"github.com/cloudflix/cloudflix/internal/testenv"
)

func TestGrowingAndFinalPlaylists(t *testing.T) {
	t.Parallel()
	segs := []Segment{{"a1-x-seg_00000.m4s", 2.0}, {"a1-x-seg_00001.m4s", 2.033333}}
	event, err := EventPlaylist(2, "a1-x-init_0.mp4", segs)
	if err != nil {
		t.Fatal(err)
	}
	want := "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n" +
		"#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-START:TIME-OFFSET=0\n#EXT-X-MAP:URI=\"a1-x-init_0.mp4\"\n" +
		"#EXTINF:2.000000,\na1-x-seg_00000.m4s\n#EXTINF:2.033333,\na1-x-seg_00001.m4s\n"
	if string(event) != want {
		t.Errorf("EVENT playlist:\n%s\nwant\n%s", event, want)
	}
	// The VOD playlist is the same list, ended; a last segment longer than
	// the grid allows (audio running past the picture) raises its target.
	final := append(segs, Segment{"a1-x-seg_00002.m4s", 3.6})
	vod := string(VODPlaylist(2, "a1-x-init_0.mp4", final))
	for _, line := range []string{"#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-TARGETDURATION:4", "a1-x-seg_00002.m4s", "#EXT-X-ENDLIST"} {
		if !strings.Contains(vod, line+"\n") {
			t.Errorf("VOD playlist lacks %q:\n%s", line, vod)
		}
	}
	if strings.Contains(vod, "EXT-X-START") || strings.Count(vod, "#EXTINF") != 3 {
		t.Errorf("VOD playlist:\n%s", vod)
	}
	if _, err := EventPlaylist(2, "init.mp4", final); err == nil {
		t.Error("EVENT playlist with a segment longer than its target: no error")
	}
}

func TestGrowingLeavesTheLastSegmentToTheEnd(t *testing.T) {
	t.Parallel()
	w := Written{Init: "init_0.mp4", Segments: []Segment{{"s0", 2}, {"s1", 2}, {"s2", 0.5}}}
	if got := len(w.Growing()); got != 3 {
		t.Errorf("while ffmpeg runs, %d segments may be listed, want all 3", got)
	}
	w.Ended = true
	if got := len(w.Growing()); got != 2 {
		t.Errorf("once ffmpeg ended, %d segments may be listed while growing, want 2 (not the last)", got)
	}
	if got, err := WrittenSoFar(t.TempDir()); err != nil || got.Init != "" || len(got.Segments) != 0 {
		t.Errorf("before ffmpeg's first playlist: %+v, %v", got, err)
	}
}

func TestTargetSeconds(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		fps  float64
		want int
	}{{30, 2}, {30000.0 / 1001, 2}, {60, 2}, {240, 2}, {2, 3}, {0.4, 5}} {
		if got := TargetSeconds(Source{FrameRate: c.fps}); got != c.want {
			t.Errorf("TargetSeconds at %g fps = %d, want %d", c.fps, got, c.want)
		}
	}
}

// The growing master playlist's bandwidths bound what the encode then
// measures, on noise, where the encoder spends all its caps allow; and
// what it says of each rendition but the bandwidth is what is measured.
func TestBandwidthBoundHoldsOnNoise(t *testing.T) {
	t.Parallel()
	testenv.RequireFFmpeg(t)
	path := shared(t, "noise_640x360_6s.mp4", func(path string) {
		testenv.GenerateLargeClip(t, path, 640, 360, 6, true)
	})
	ctx, src := probed(t, path)
	rungs := ladder.For(src.Width, src.Height)
	outDir := t.TempDir()
	opts := Options{Tag: "a1-b0b0b0-"}
	rs, err := opts.Encode(ctx, src, path, outDir, rungs, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rungs {
		dir := filepath.Join(outDir, r.Name)
		wr, err := WrittenSoFar(dir)
		if err != nil || !wr.Ended || !strings.HasPrefix(wr.Init, opts.Tag) || !strings.HasPrefix(wr.Segments[0].Name, opts.Tag) {
			t.Fatalf("%s as written: %+v, %v", r.Name, wr, err)
		}
		growing, err := GrowingRendition(r, src, filepath.Join(dir, wr.Init))
		if err != nil {
			t.Fatal(err)
		}
		bound := BandwidthBound(r, src)
		t.Logf("%s: measured peak %d, average %d; bound %d; cap %d", r.Name, rs[i].Bandwidth, rs[i].AverageBandwidth, bound, r.MaxBitrate)
		if rs[i].AverageBandwidth < int64(r.MaxBitrate)/2 {
			t.Errorf("%s: noise averages %d b/s, far under its cap %d: the bound is not put to the test", r.Name, rs[i].AverageBandwidth, r.MaxBitrate)
		}
		if rs[i].Bandwidth > bound || growing.Bandwidth != bound {
			t.Errorf("%s: measured peak %d above the bound %d (growing master says %d)", r.Name, rs[i].Bandwidth, bound, growing.Bandwidth)
		}
		if growing.Codecs != rs[i].Codecs || growing.Width != rs[i].Width || growing.Height != rs[i].Height || growing.FrameRate != rs[i].FrameRate {
			t.Errorf("%s: growing master says %+v, measured %+v", r.Name, growing, rs[i])
		}
		// Every growing segment's own rate is under the bound too (the
		// peak above counts windows of them).
		for _, s := range wr.Growing() {
			fi, err := os.Stat(filepath.Join(dir, s.Name))
			if err != nil {
				t.Fatal(err)
			}
			if rate := float64(fi.Size()*8) / s.Seconds; rate > float64(bound) {
				t.Errorf("%s: segment %s runs at %.0f b/s, above the bound %d", r.Name, s.Name, rate, bound)
			}
		}
	}
}

func TestEncodeRefusesABadTag(t *testing.T) {
	t.Parallel()
	_, err := Options{Tag: "a1/../"}.Encode(t.Context(), Source{Width: 64, Height: 64}, "/nonexistent", t.TempDir(), ladder.For(64, 64), nil)
	if err == nil || errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "tag") {
		t.Errorf("Encode with tag %q: %v", "a1/../", err)
	}
}
