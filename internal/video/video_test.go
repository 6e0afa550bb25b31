package video

import "testing"

func TestPageRule(t *testing.T) {
	r := PageRule{Default: 24, Max: 100}
	n := func(v int32) *int32 { return &v }
	for _, c := range []struct {
		requested *int32
		want      int
		invalid   bool
	}{
		{nil, 24, false},
		{n(1), 1, false},
		{n(100), 100, false},
		{n(0), 0, true},
		{n(-3), 0, true},
		{n(101), 0, true},
	} {
		got, err := r.Size(c.requested)
		if got != c.want || IsInvalid(err) != c.invalid {
			t.Errorf("Size(%v) = %d, %v", c.requested, got, err)
		}
		if c.invalid && err.Error() != "limit must be between 1 and 100" {
			t.Errorf("Size(%v): message %q", *c.requested, err)
		}
	}
}

func TestMediaTypes(t *testing.T) {
	for name, want := range map[string]string{
		"Holiday.MP4": "video/mp4", "clip.m4v": "video/mp4", "a.mkv": "video/x-matroska", "b.ts": "video/mp2t",
		"notes.txt": "", "noext": "",
	} {
		if got := SourceType(name); got != want {
			t.Errorf("SourceType(%q) = %q, want %q", name, got, want)
		}
	}
	for name, want := range map[string]string{
		"videos/x/hls/master.m3u8": "application/vnd.apple.mpegurl", "videos/x/hls/360p/seg_000001.m4s": "video/iso.segment",
		"videos/x/hls/360p/init.mp4": "video/mp4", "videos/x/thumb.jpg": "image/jpeg", "videos/x/storyboard.vtt": "text/vtt; charset=utf-8",
		"videos/x/other.bin": "application/octet-stream",
	} {
		if got := OutputType(name); got != want {
			t.Errorf("OutputType(%q) = %q, want %q", name, got, want)
		}
	}
}
