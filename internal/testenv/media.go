package testenv

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// AudioAfterVideo is how long after its video a media file's (or an HLS
// playlist's) audio ends, in seconds: each stream ends with its last
// packet's timestamp plus its duration.
func AudioAfterVideo(t testing.TB, path string) float64 {
	t.Helper()
	end := func(stream string) float64 {
		out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", stream,
			"-show_entries", "packet=pts_time,duration_time", "-of", "csv=p=0", path).Output()
		if err != nil {
			t.Fatalf("ffprobe %s: %v", path, err)
		}
		var last float64
		for _, l := range strings.Fields(string(out)) {
			p, d, _ := strings.Cut(l, ",")
			pts, err1 := strconv.ParseFloat(p, 64)
			dur, err2 := strconv.ParseFloat(strings.TrimSuffix(d, ","), 64)
			if err1 == nil && err2 == nil {
				last = max(last, pts+dur)
			}
		}
		return last
	}
	return end("a:0") - end("v:0")
}

// SegmentBytes is the size of the init and media segments (.mp4, .m4s)
// in dir.
func SegmentBytes(t testing.TB, dir string) int64 {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".m4s") || strings.HasSuffix(e.Name(), ".mp4") {
			fi, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			n += fi.Size()
		}
	}
	return n
}
