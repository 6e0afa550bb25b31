package encodesvc

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
)

// oddMedia is one file of the odd-media corpus: how to make it, and how
// the worker must settle it.
type oddMedia struct {
	name string
	file string // the uploaded file's name: its extension is only a claim
	make func(t *testing.T, path string)
	// reason is part of the failure reason a person reads; "" means the
	// video must end ready.
	reason string
	// check looks further at a ready video.
	check func(t *testing.T, v video.Video, hls hlsTree)
	// within bounds the time from the job's delivery to its outcome, when
	// shorter than oddMediaBound.
	within time.Duration
}

// oddMediaBound is the longest one file of the corpus may take from the
// job's delivery to its outcome, on a busy machine of two cores.
const oddMediaBound = 90 * time.Second

// TestOddMedia sends a corpus of strange files, each made with ffmpeg at
// test time and kept tiny, through one worker on the embedded backends with
// the production limits. Each must end ready and playable, or failed with a
// reason a person understands, within a bounded time, on its first
// delivery: a file's fault must never look like the platform's and be
// retried.
func TestOddMedia(t *testing.T) {
	t.Parallel()
	testenv.RequireFFmpeg(t)
	r := newRig(t, platformtest.Process(t, platformtest.Embedded), 3)
	for _, c := range oddCorpus() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), c.file)
			c.make(t, path)
			v, took := r.settle(t, r.uploaded(t, path))
			t.Logf("%s in %v: %s %q", c.file, took.Round(time.Millisecond), v.State, v.FailureReason)
			if bound := cmp.Or(c.within, oddMediaBound); took > bound {
				t.Errorf("settled in %v, more than %v", took, bound)
			}
			switch {
			case c.reason == "" && v.State != video.StateReady:
				t.Fatalf("%s, want ready", describe(v))
			case c.reason != "" && (v.State != video.StateFailed || !strings.Contains(v.FailureReason, c.reason)):
				t.Fatalf("%s, want failed saying %q", describe(v), c.reason)
			case c.reason != "":
				checkReasonIsForPeople(t, v.FailureReason)
				return
			}
			hls := fetchHLS(t, r, v)
			hls.checkPlayable(t, v)
			if c.check != nil {
				c.check(t, v, hls)
			}
		})
	}
}

func describe(v video.Video) string {
	if v.State == video.StateFailed {
		return fmt.Sprintf("failed: %q", v.FailureReason)
	}
	return string(v.State)
}

// checkReasonIsForPeople: a reason names neither the worker's files nor
// ffmpeg's internals.
func checkReasonIsForPeople(t *testing.T, reason string) {
	t.Helper()
	for _, internal := range []string{"/", "@ 0x", "ffprobe", "exit status", "context", "encoding failed"} {
		if strings.Contains(reason, internal) {
			t.Errorf("reason %q shows %q to a person", reason, internal)
		}
	}
}

// oddCorpus is the corpus. Files are a few seconds long at most and tiny
// unless their point is their size.
func oddCorpus() []oddMedia {
	const small = "testsrc2=size=160x90:rate=30"
	tone := func(seconds float64) []string {
		return []string{"-f", "lavfi", "-i", fmt.Sprintf("sine=frequency=440:sample_rate=48000:duration=%g", seconds)}
	}
	lavfi := func(src string, seconds float64) []string {
		return []string{"-f", "lavfi", "-i", fmt.Sprintf("%s:duration=%g", src, seconds)}
	}
	x264 := []string{"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"}
	return []oddMedia{
		{name: "audio only", file: "song.m4a", reason: "no video stream (it is audio only)", make: func(t *testing.T, path string) {
			generate(t, path, tone(1), "-c:a", "aac")
		}},
		{name: "picture", file: "photo.mp4", reason: "not a video", make: func(t *testing.T, path string) {
			generate(t, path, lavfi(small, 1), "-frames:v", "1", "-f", "image2", "-c:v", "mjpeg")
		}},
		{name: "video without audio", file: "silent.mp4", make: func(t *testing.T, path string) {
			generate(t, path, lavfi(small, 2), x264)
		}, check: wantAudio(false)},
		{name: "several audio tracks", file: "tracks.mkv", make: func(t *testing.T, path string) {
			generate(t, path, lavfi(small, 2), tone(2), tone(2), tone(2), "-map", "0", "-map", "1", "-map", "2", "-map", "3",
				x264, "-c:a:0", "aac", "-c:a:1", "libopus", "-c:a:2", "libmp3lame")
		}, check: wantAudio(true)},
		{name: "variable frame rate", file: "vfr.mp4", make: func(t *testing.T, path string) {
			// 30 fps for a second, then 10 fps: the timestamps carry the timing.
			generate(t, path, lavfi(small, 3), "-vf", `select=lt(n\,30)+not(mod(n\,3))`, "-fps_mode", "vfr", x264)
		}, check: wantTiming(30, 2.933)},
		{name: "rotated phone video", file: "phone.mp4", make: makeRotated, check: checkUpright},
		{name: "10-bit", file: "tenbit.mp4", make: func(t *testing.T, path string) {
			generate(t, path, lavfi(small, 2), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le")
		}},
		{name: "interlaced", file: "broadcast.ts", make: func(t *testing.T, path string) {
			// A white bar crossing a grey picture, filmed at 50 fields a
			// second woven into 25 frames, as a broadcast camera records:
			// unwoven, the bar's edges comb.
			generate(t, path, lavfi("color=c=gray:size=192x108:rate=50", 2), lavfi("color=c=white:size=16x108:rate=50", 2), tone(2),
				"-filter_complex", "[0][1]overlay=x='mod(t*400,176)':y=0,tinterlace=interleave_top,fieldorder=tff[v]", "-map", "[v]", "-map", "2:a",
				"-flags", "+ildct+ilme", "-c:v", "mpeg2video", "-q:v", "2", "-c:a", "mp2")
		}, check: checkProgressive},
		{name: "1x1", file: "dot.mp4", reason: "1x1", make: func(t *testing.T, path string) {
			generate(t, path, lavfi("color=c=red:size=16x16:rate=30", 1), "-vf", "scale=1:1", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p")
		}},
		{name: "8192x8192", file: "huge.mp4", reason: "8192x8192", make: func(t *testing.T, path string) {
			generate(t, path, lavfi("color=c=gray:size=8192x8192:rate=1", 1), "-frames:v", "1", x264)
		}},
		{name: "odd size", file: "odd.mp4", make: func(t *testing.T, path string) {
			generate(t, path, lavfi("testsrc2=size=97x55:rate=30", 2), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p")
		}},
		{name: "odd size over a rung", file: "odd240.mp4", make: func(t *testing.T, path string) {
			generate(t, path, lavfi("testsrc2=size=321x241:rate=30", 1), tone(1), "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv444p", "-c:a", "aac")
		}},
		{name: "huge GOP", file: "onekey.mp4", make: func(t *testing.T, path string) {
			generate(t, path, lavfi(small, 5), x264, "-g", "100000", "-keyint_min", "100000", "-sc_threshold", "0")
		}},
		{name: "0-duration", file: "nothing.mp4", reason: "no video", make: func(t *testing.T, path string) {
			generate(t, path, lavfi(small, 1), tone(1), "-t", "0", x264, "-c:a", "aac")
		}},
		{name: "no duration in the header", file: "frame.mpg", make: func(t *testing.T, path string) {
			// MPEG program streams carry no duration: one frame says none.
			generate(t, path, lavfi(small, 1), "-frames:v", "1", "-c:v", "mpeg2video")
		}},
		{name: "timestamp jump", file: "joined.ts", make: func(t *testing.T, path string) {
			// A recording with a 30 s hole: ffmpeg closes the hole, as
			// it does for any MPEG-TS whose clock jumps.
			generate(t, path, lavfi(small, 4), "-vf", "setpts='if(lt(N,60),N/30,N/30+30)/TB'", "-fps_mode", "vfr", x264)
		}, check: wantTiming(30, 4)},
		{name: "short timestamp jump", file: "paused.mkv", make: func(t *testing.T, path string) {
			// A 5 s pause in the timestamps is kept: the picture holds.
			generate(t, path, lavfi(small, 4), "-vf", "setpts='if(lt(N,60),N/30,N/30+5)/TB'", "-fps_mode", "vfr", x264)
		}, check: wantTiming(30, 9)},
		{name: "sparse frames", file: "sparse.mkv", reason: "the video has 2 frames in 10m1s", within: 10 * time.Second, make: func(t *testing.T, path string) {
			// Two frames 600 s apart: a tiny file claiming ten minutes.
			generate(t, path, lavfi("testsrc2=size=64x64:rate=1", 2), "-vf", "setpts=N*600/TB", "-fps_mode", "passthrough", x264)
		}},
		{name: "slow motion", file: "slowmo.mp4", make: func(t *testing.T, path string) {
			// A phone's 240 fps, shown at 60: every fourth frame.
			generate(t, path, lavfi("testsrc2=size=160x90:rate=240", 1), x264)
		}, check: wantTiming(60, 1)},
		{name: "mkv", file: "hevc.mkv", make: func(t *testing.T, path string) {
			generate(t, path, lavfi(small, 2), tone(2), "-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-c:a", "libvorbis")
		}, check: wantAudio(true)},
		{name: "webm", file: "clip.webm", make: func(t *testing.T, path string) {
			generate(t, path, lavfi(small, 2), tone(2), "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus")
		}, check: wantAudio(true)},
		{name: "mov", file: "edit.mov", make: func(t *testing.T, path string) {
			generate(t, path, lavfi(small, 2), tone(2), "-c:v", "prores_ks", "-profile:v", "0", "-c:a", "pcm_s16le")
		}, check: wantAudio(true)},
		{name: "avi", file: "old.avi", make: func(t *testing.T, path string) {
			generate(t, path, lavfi(small, 2), tone(2), "-c:v", "mpeg4", "-c:a", "libmp3lame")
		}, check: wantAudio(true)},
		{name: "mpeg-ts", file: "stream.ts", make: func(t *testing.T, path string) {
			generate(t, path, lavfi(small, 2), tone(2), x264, "-c:a", "aac")
		}, check: wantAudio(true)},
		{name: "extension lies", file: "really-webm.mp4", make: func(t *testing.T, path string) {
			generate(t, path, lavfi(small, 2), "-c:v", "libvpx", "-deadline", "realtime", "-f", "webm")
		}},
		{name: "cut in the middle", file: "cut.mp4", reason: "damaged or incomplete", make: func(t *testing.T, path string) {
			// The index is at the front, so the first half looks whole.
			generate(t, path, lavfi(small, 4), tone(4), x264, "-c:a", "aac", "-movflags", "+faststart")
			cutInHalf(t, path)
		}},
		{name: "mkv cut in the middle", file: "cut.mkv", reason: "damaged or incomplete", make: func(t *testing.T, path string) {
			generate(t, path, lavfi(small, 4), tone(4), x264, "-c:a", "aac")
			cutInHalf(t, path)
		}},
	}
}

// generate makes path with ffmpeg from inputs and output options, each a
// string or a []string.
func generate(t *testing.T, path string, parts ...any) {
	t.Helper()
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin", "-y"}
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			args = append(args, p)
		case []string:
			args = append(args, p...)
		default:
			t.Fatalf("generate: argument %v", p)
		}
	}
	if out, err := exec.Command("ffmpeg", append(args, path)...).CombinedOutput(); err != nil {
		t.Fatalf("generate %s: %v\n%s", filepath.Base(path), err, out)
	}
}

func cutInHalf(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b[:len(b)/2], 0o644); err != nil {
		t.Fatal(err)
	}
}

// makeRotated makes what a phone held upright records: landscape pixels
// and a display matrix that turns them a quarter. Upright, the picture is
// red above and blue below.
func makeRotated(t *testing.T, path string) {
	t.Helper()
	stored := filepath.Join(t.TempDir(), "stored.mp4")
	generate(t, stored, "-f", "lavfi", "-i", "color=c=red:size=90x80:rate=30:duration=2",
		"-f", "lavfi", "-i", "color=c=blue:size=90x80:rate=30:duration=2",
		"-f", "lavfi", "-i", "sine=duration=2",
		"-filter_complex", "[0:v][1:v]vstack,transpose=clock[v]", "-map", "[v]", "-map", "2:a",
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac")
	generate(t, path, "-i", stored, "-c", "copy", "-metadata:s:v:0", "rotate=90")
}

// hlsTree is a ready video's stored media, fetched into a folder.
type hlsTree struct {
	dir      string
	variants []hlsVariant
}

type hlsVariant struct {
	attrs    map[string]string
	playlist string // local path of the media playlist
}

// fetchHLS downloads the master playlist, every media playlist and every
// file they name, the thumbnail and the storyboard.
func fetchHLS(t *testing.T, r rig, v video.Video) hlsTree {
	t.Helper()
	dir := t.TempDir()
	get := func(key string) string {
		t.Helper()
		path := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(key, video.VideoPrefix(v.ID))))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := r.objects.Download(t.Context(), key, path); err != nil {
			t.Fatalf("download %s: %v", key, err)
		}
		return path
	}
	get(video.ThumbnailKey(v.ID))
	get(video.StoryboardKey(v.ID))
	get(video.StoryboardVTTKey(v.ID))
	master := get(video.MasterPlaylistKey(v.ID))
	tree := hlsTree{dir: dir}
	for _, line := range strings.Split(readText(t, master), "\n") {
		if strings.HasPrefix(line, "#EXT-X-STREAM-INF:") {
			tree.variants = append(tree.variants, hlsVariant{attrs: playlistAttrs(strings.TrimPrefix(line, "#EXT-X-STREAM-INF:"))})
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") || len(tree.variants) == 0 {
			continue
		}
		vr := &tree.variants[len(tree.variants)-1]
		vr.playlist = get(video.HLSPrefix(v.ID) + line)
		base := video.HLSPrefix(v.ID) + strings.TrimSuffix(line, "index.m3u8")
		for _, l := range strings.Split(readText(t, vr.playlist), "\n") {
			if _, uri, ok := strings.Cut(l, `#EXT-X-MAP:URI="`); ok {
				get(base + strings.TrimSuffix(uri, `"`))
			} else if l != "" && !strings.HasPrefix(l, "#") {
				get(base + l)
			}
		}
	}
	return tree
}

func readText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// playlistAttrs reads an attribute list: KEY=value,KEY="quoted, value".
func playlistAttrs(s string) map[string]string {
	attrs := map[string]string{}
	for s != "" {
		k, v, _ := strings.Cut(s, "=")
		if strings.HasPrefix(v, `"`) {
			end := strings.Index(v[1:], `"`) + 1
			attrs[k], s = v[1:end], strings.TrimPrefix(v[end+1:], ",")
		} else {
			attrs[k], s, _ = strings.Cut(v, ",")
		}
	}
	return attrs
}

// checkPlayable checks a ready video as the pipeline test does: the master
// playlist says what the video's renditions are, every rendition decodes
// without one error and lasts as long as the video, and the thumbnail and
// storyboard exist with the video's shape.
func (h hlsTree) checkPlayable(t *testing.T, v video.Video) {
	t.Helper()
	if len(h.variants) == 0 || len(h.variants) != len(v.Renditions) {
		t.Fatalf("master playlist has %d variants, the video %d renditions", len(h.variants), len(v.Renditions))
	}
	for i, vr := range h.variants {
		r := v.Renditions[i]
		if vr.attrs["RESOLUTION"] != fmt.Sprintf("%dx%d", r.Width, r.Height) ||
			vr.attrs["BANDWIDTH"] != strconv.FormatInt(r.Bandwidth, 10) ||
			vr.attrs["AVERAGE-BANDWIDTH"] != strconv.FormatInt(r.AverageBandwidth, 10) ||
			vr.attrs["CODECS"] != r.Codecs || vr.attrs["FRAME-RATE"] == "" {
			t.Errorf("variant %v does not match rendition %+v", vr.attrs, r)
		}
		if r.Width > v.Width || r.Height > v.Height || (r.Width > r.Height) != (v.Width > v.Height) && r.Width != r.Height {
			t.Errorf("rendition %dx%d of a %dx%d video: upscaled or turned", r.Width, r.Height, v.Width, v.Height)
		}
		out, err := exec.Command("ffmpeg", "-hide_banner", "-nostdin", "-v", "error", "-xerror", "-i", vr.playlist, "-f", "null", "-").CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("rendition %s does not decode cleanly: %v\n%s", r.Name, err, out)
		}
		if got := playlistSeconds(t, vr.playlist); math.Abs(got-v.DurationSeconds) > 0.25 {
			t.Errorf("rendition %s lasts %.3f s, the video %.3f s", r.Name, got, v.DurationSeconds)
		}
	}
	thumb := probeImage(t, filepath.Join(h.dir, "thumb.jpg"))
	if want := float64(v.Width) / float64(v.Height); math.Abs(float64(thumb[0])/float64(thumb[1])-want) > 0.1*want {
		t.Errorf("thumbnail is %dx%d, the video %dx%d", thumb[0], thumb[1], v.Width, v.Height)
	}
	probeImage(t, filepath.Join(h.dir, "storyboard.jpg"))
	if vtt := readText(t, filepath.Join(h.dir, "storyboard.vtt")); !strings.HasPrefix(vtt, "WEBVTT") || !strings.Contains(vtt, "storyboard.jpg#xywh=") {
		t.Errorf("storyboard.vtt:\n%s", vtt)
	}
}

func playlistSeconds(t *testing.T, playlist string) float64 {
	t.Helper()
	var s float64
	sc := bufio.NewScanner(strings.NewReader(readText(t, playlist)))
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "#EXTINF:"); ok {
			f, err := strconv.ParseFloat(strings.TrimSuffix(d, ","), 64)
			if err != nil {
				t.Fatalf("%s: %q", playlist, sc.Text())
			}
			s += f
		}
	}
	return s
}

// probeImage returns the size of a JPEG image.
func probeImage(t *testing.T, path string) [2]int {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=codec_name,width,height", "-of", "json", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var p struct {
		Streams []struct {
			CodecName     string `json:"codec_name"`
			Width, Height int
		}
	}
	if err := json.Unmarshal(out, &p); err != nil || len(p.Streams) != 1 || p.Streams[0].CodecName != "mjpeg" || p.Streams[0].Width <= 0 {
		t.Fatalf("%s is not a JPEG image: %s", path, out)
	}
	return [2]int{p.Streams[0].Width, p.Streams[0].Height}
}

func wantAudio(audio bool) func(*testing.T, video.Video, hlsTree) {
	return func(t *testing.T, v video.Video, _ hlsTree) {
		for _, r := range v.Renditions {
			if strings.Contains(r.Codecs, "mp4a") != audio {
				t.Errorf("rendition %s: CODECS %q, want audio %t", r.Name, r.Codecs, audio)
			}
		}
	}
}

// wantTiming checks that the renditions play at a constant rate and last
// as long as the source's timestamps say.
func wantTiming(fps, seconds float64) func(*testing.T, video.Video, hlsTree) {
	return func(t *testing.T, v video.Video, h hlsTree) {
		for i, r := range v.Renditions {
			if math.Abs(r.FrameRate-fps) > 0.01 {
				t.Errorf("rendition %s at %g fps, want %g", r.Name, r.FrameRate, fps)
			}
			got := playlistSeconds(t, h.variants[i].playlist)
			if math.Abs(got-seconds) > 0.1 {
				t.Errorf("rendition %s lasts %.3f s, want %.3f", r.Name, got, seconds)
			}
			// Counted by ffprobe rather than as lines of frames: a frame
			// with side data (an encoder's SEI) takes more than one line.
			out := strings.TrimSpace(ffprobeOut(t, "-select_streams", "v:0", "-count_frames", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", h.variants[i].playlist))
			first, _, _ := strings.Cut(out, "\n") // HLS lists the stream under its program too
			frames, err := strconv.Atoi(strings.TrimSuffix(first, ","))
			if err != nil {
				t.Fatalf("rendition %s: frame count %q", r.Name, out)
			}
			if want := int(math.Round(seconds * fps)); math.Abs(float64(frames-want)) > 1 {
				t.Errorf("rendition %s has %d frames, want %d: its timing is off", r.Name, frames, want)
			}
		}
	}
}

// checkUpright: the phone video comes out portrait and upright, red above.
func checkUpright(t *testing.T, v video.Video, h hlsTree) {
	t.Helper()
	if v.Width != 90 || v.Height != 160 {
		t.Errorf("video is %dx%d, want 90x160 (portrait)", v.Width, v.Height)
	}
	for _, path := range []string{h.variants[0].playlist, filepath.Join(h.dir, "thumb.jpg")} {
		top := topColor(t, path)
		if top[0] < 200 || top[2] > 60 {
			t.Errorf("%s: the top of the picture is %v, want red: the video is not upright", filepath.Base(path), top)
		}
	}
}

// topColor is the average colour of the top tenth of the first picture.
func topColor(t *testing.T, path string) [3]byte {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", path, "-frames:v", "1",
		"-vf", "crop=iw:ih/10:0:0,scale=1:1:flags=area", "-f", "rawvideo", "-pix_fmt", "rgb24", "-").Output()
	if err != nil || len(out) != 3 {
		t.Fatalf("read the top of %s: %v (%d bytes)", path, err, len(out))
	}
	return [3]byte{out[0], out[1], out[2]}
}

// checkProgressive: in the renditions of the interlaced bar, every line
// of a picture is like the next, as the bar is upright; woven fields would
// shift every other line by the bar's motion between them.
func checkProgressive(t *testing.T, v video.Video, h hlsTree) {
	t.Helper()
	for i, r := range v.Renditions {
		out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", h.variants[i].playlist,
			"-f", "rawvideo", "-pix_fmt", "gray", "-").Output()
		if err != nil {
			t.Fatalf("decode %s: %v", r.Name, err)
		}
		size := r.Width * r.Height
		for f := 0; f+size <= len(out); f += size {
			picture := out[f : f+size]
			var diff int
			for y := 0; y+1 < r.Height; y++ {
				for x := range r.Width {
					d := int(picture[y*r.Width+x]) - int(picture[(y+1)*r.Width+x])
					diff += max(d, -d)
				}
			}
			// Combed, lines differ by about 10 on average; woven into
			// whole frames, by well under 1.
			if mean := float64(diff) / float64(size-r.Width); mean > 1 {
				t.Fatalf("rendition %s, picture %d: lines differ by %.2f on average: it is combed, not deinterlaced", r.Name, f/size, mean)
			}
		}
	}
}

func ffprobeOut(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("ffprobe", append([]string{"-v", "error"}, args...)...).Output()
	if err != nil {
		t.Fatalf("ffprobe %v: %v", args, err)
	}
	return string(out)
}
