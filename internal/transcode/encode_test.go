package transcode

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/ladder"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
)

func TestEncode(t *testing.T) {
	t.Parallel()
	testenv.RequireFFmpeg(t)
	cases := []struct {
		name      string
		path      string
		rungNames []string
		// lastSegment is the length of the last segment in frames, or 0
		// when it does not matter.
		lastSegment int
	}{
		{"landscape with audio", clip(t, 640, 360, 4, true), []string{"240p", "360p"}, 0},
		{"portrait without audio", clip(t, 360, 640, 4, false), []string{"240p", "360p"}, 0},
		{"720p with audio", clip(t, 1280, 720, 3, true), []string{"240p", "360p", "480p", "720p"}, 0},
		// One rung: ffmpeg names its files without the rung templates.
		{"one rung", clip(t, 320, 180, 3, true), []string{"180p"}, 0},
		// 121 frames: the last segment is one frame, a keyframe, whose own
		// bit rate is several times the rendition's.
		{"last segment one frame long", clip(t, 640, 360, 4.03, true), []string{"240p", "360p"}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, src := probed(t, c.path)
			rungs := ladder.For(src.Width, src.Height)
			var names []string
			for _, r := range rungs {
				names = append(names, r.Name)
			}
			if fmt.Sprint(names) != fmt.Sprint(c.rungNames) {
				t.Fatalf("ladder %v, want %v", names, c.rungNames)
			}

			outDir := t.TempDir()
			var mu sync.Mutex
			var fractions []float64
			rs, err := Options{}.Encode(ctx, src, c.path, outDir, rungs, func(f float64) {
				mu.Lock()
				defer mu.Unlock()
				fractions = append(fractions, f)
			})
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			checkProgress(t, fractions)
			if len(rs) != len(rungs) {
				t.Fatalf("Encode returned %d renditions for %d rungs", len(rs), len(rungs))
			}
			var segments [][]float64
			for i, r := range rungs {
				segments = append(segments, checkRendition(t, src, outDir, r, rs[i]))
			}
			if last := segments[0][len(segments[0])-1]; c.lastSegment > 0 && math.Abs(last-float64(c.lastSegment)/30) > 0.001 {
				t.Fatalf("last segment lasts %g s, want %d frames", last, c.lastSegment)
			}
			// Segments line up across rungs: a player can switch anywhere.
			for i := range segments[1:] {
				if fmt.Sprint(segments[i+1]) != fmt.Sprint(segments[0]) {
					t.Errorf("segments of %s %v differ from %s %v", rungs[i+1].Name, segments[i+1], rungs[0].Name, segments[0])
				}
			}
			checkMaster(t, outDir, rs)
		})
	}
}

func checkProgress(t *testing.T, fractions []float64) {
	t.Helper()
	if len(fractions) == 0 || fractions[len(fractions)-1] != 1 {
		t.Fatalf("progress %v does not end at 1", fractions)
	}
	for i, f := range fractions {
		if f < 0 || f > 1 || (i > 0 && f < fractions[i-1]) {
			t.Fatalf("progress %v is not a rising fraction", fractions)
		}
	}
}

// checkRendition checks one rung's files against what Encode said of them
// and returns its segment durations.
func checkRendition(t *testing.T, src Source, outDir string, r ladder.Rung, got video.Rendition) []float64 {
	t.Helper()
	dir := filepath.Join(outDir, r.Name)
	playlist := filepath.Join(dir, "index.m3u8")
	pl, err := readPlaylist(playlist)
	if err != nil {
		t.Fatal(err)
	}
	// The init segment's name is a URI a player can fetch, beside the
	// playlist.
	if _, err := url.Parse(pl.init); err != nil || pl.init == "" {
		t.Errorf("%s: init segment %q is no URI: %v", r.Name, pl.init, err)
	} else if _, err := os.Stat(filepath.Join(dir, pl.init)); err != nil {
		t.Errorf("%s: init segment: %v", r.Name, err)
	}
	var durations []float64
	for i, seg := range pl.segments {
		if _, err := os.Stat(filepath.Join(dir, seg.uri)); err != nil {
			t.Errorf("%s: %v", r.Name, err)
		}
		// Every segment but the last is exactly one GOP long.
		if i < len(pl.segments)-1 && math.Abs(seg.seconds-SegmentSeconds) > 0.001 {
			t.Errorf("%s: segment %s lasts %g s, want %d", r.Name, seg.uri, seg.seconds, SegmentSeconds)
		}
		durations = append(durations, seg.seconds)
	}
	if math.Abs(pl.seconds()-src.DurationSeconds) > 0.2 {
		t.Errorf("%s: playlist lasts %g s, source %g s", r.Name, pl.seconds(), src.DurationSeconds)
	}

	checkDecodes(t, r.Name, playlist)

	// The master playlist's values are true of the stream.
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-print_format", "json",
		"-show_entries", "stream=width,height,profile,level,avg_frame_rate", playlist).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", playlist, err)
	}
	var probed struct {
		Streams []struct {
			Width, Height int
			Profile       string
			Level         int
			AvgFrameRate  string `json:"avg_frame_rate"`
		}
	}
	if err := json.Unmarshal(out, &probed); err != nil {
		t.Fatal(err)
	}
	if len(probed.Streams) != 1 {
		t.Fatalf("%s: %d video streams", r.Name, len(probed.Streams))
	}
	if st := probed.Streams[0]; st.Width != got.Width || st.Height != got.Height || st.Profile != "High" ||
		st.Level != avcLevel(t, got.Codecs) || st.AvgFrameRate != "30/1" {
		t.Errorf("%s: ffprobe says %+v, Encode says %+v", r.Name, st, got)
	}
	if got.Name != r.Name || got.Width != r.Width || got.Height != r.Height || got.FrameRate != 30 {
		t.Errorf("rendition %+v, want %s %dx%d at 30 fps", got, r.Name, r.Width, r.Height)
	}
	// Encode divides in floating point, peakSegmentBitRate exactly: the
	// rounded-up results may differ by one.
	if want := peakSegmentBitRate(t, playlist); got.Bandwidth < want-1 || got.Bandwidth > want+1 {
		t.Errorf("%s: BANDWIDTH %d, the RFC 8216 peak of its segments is %d (AVERAGE-BANDWIDTH %d)", r.Name, got.Bandwidth, want, got.AverageBandwidth)
	}
	// The average is the files' bits over the playlist's seconds.
	var bytes int64
	for _, name := range append([]string{pl.init}, segmentURIs(pl)...) {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		bytes += fi.Size()
	}
	if want := float64(bytes*8) / pl.seconds(); math.Abs(float64(got.AverageBandwidth)-want) > 1 {
		t.Errorf("%s: AVERAGE-BANDWIDTH %d, files say %.0f", r.Name, got.AverageBandwidth, want)
	}
	// The cap holds: video under maxrate, plus audio and container overhead.
	if limit := int64(float64(r.MaxBitrate+r.AudioBitrate) * 1.5); got.AverageBandwidth > limit {
		t.Errorf("%s: AVERAGE-BANDWIDTH %d over the rung's cap (%d)", r.Name, got.AverageBandwidth, limit)
	}
	wantCodecs := "avc1.6400"
	if !strings.HasPrefix(got.Codecs, wantCodecs) {
		t.Errorf("%s: CODECS %q, want H.264 High (%s..)", r.Name, got.Codecs, wantCodecs)
	}
	if src.HasAudio != strings.HasSuffix(got.Codecs, ",mp4a.40.2") {
		t.Errorf("%s: CODECS %q for a source with audio %t", r.Name, got.Codecs, src.HasAudio)
	}
	checkKeyframes(t, r.Name, playlist, pl.seconds())
	return durations
}

// peakSegmentBitRate is the peak segment bit rate of the media playlist
// (RFC 8216, section 4.1), rounded up: the largest bit rate of any
// contiguous set of segments whose total duration is between 0.5 and 1.5
// times the target duration, a set's bit rate being the sum of its segment
// sizes over the sum of their EXTINF durations. It is worked out in exact
// fractions from the playlist's text and the files' sizes. The init segment
// counts with the first segment; if no set qualifies, the set is the whole
// presentation.
func peakSegmentBitRate(t *testing.T, playlist string) int64 {
	t.Helper()
	b, err := os.ReadFile(playlist)
	if err != nil {
		t.Fatal(err)
	}
	size := func(uri string) *big.Rat {
		fi, err := os.Stat(filepath.Join(filepath.Dir(playlist), uri))
		if err != nil {
			t.Fatal(err)
		}
		return new(big.Rat).SetInt64(fi.Size())
	}
	var target, duration *big.Rat
	var sizes, durations []*big.Rat
	initSize := new(big.Rat)
	for _, line := range strings.Split(string(b), "\n") {
		tag, value, _ := strings.Cut(line, ":")
		var ok bool
		switch {
		case tag == "#EXT-X-TARGETDURATION":
			target, ok = new(big.Rat).SetString(value)
		case tag == "#EXT-X-MAP":
			initSize, ok = size(strings.TrimSuffix(strings.TrimPrefix(value, `URI="`), `"`)), true
		case tag == "#EXTINF":
			duration, ok = new(big.Rat).SetString(strings.TrimSuffix(value, ","))
		case line != "" && !strings.HasPrefix(line, "#"):
			sizes, durations, ok = append(sizes, size(line)), append(durations, duration), duration != nil
			duration = nil
		default:
			ok = true
		}
		if !ok {
			t.Fatalf("%s: cannot read %q", playlist, line)
		}
	}
	if target == nil || len(sizes) == 0 {
		t.Fatalf("%s has no target duration or no segments", playlist)
	}
	sizes[0].Add(sizes[0], initSize)

	lo := new(big.Rat).Mul(target, big.NewRat(1, 2))
	hi := new(big.Rat).Mul(target, big.NewRat(3, 2))
	var peak, whole *big.Rat
	for i := range sizes {
		bytes, seconds := new(big.Rat), new(big.Rat)
		for j := i; j < len(sizes); j++ {
			bytes.Add(bytes, sizes[j])
			seconds.Add(seconds, durations[j])
			if seconds.Cmp(lo) >= 0 && seconds.Cmp(hi) <= 0 {
				if rate := new(big.Rat).Quo(bytes, seconds); peak == nil || rate.Cmp(peak) > 0 {
					peak = rate
				}
			}
		}
		if i == 0 {
			whole = new(big.Rat).Quo(bytes, seconds)
		}
	}
	if peak == nil {
		peak = whole
	}
	bits := new(big.Rat).Mul(peak, big.NewRat(8, 1))
	q, r := new(big.Int).QuoRem(bits.Num(), bits.Denom(), new(big.Int))
	if r.Sign() > 0 {
		q.Add(q, big.NewInt(1))
	}
	return q.Int64()
}

// checkDecodes checks that the rendition decodes without a single error.
func checkDecodes(t testing.TB, name, playlist string) {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", playlist, "-f", "null", "-")
	if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("%s does not decode cleanly: %v\n%s", name, err, out)
	}
}

func segmentURIs(pl variantPlaylist) []string {
	var uris []string
	for _, s := range pl.segments {
		uris = append(uris, s.uri)
	}
	return uris
}

// avcLevel is the level_idc of an "avc1.PPCCLL,..." codec string.
func avcLevel(t *testing.T, codecs string) int {
	t.Helper()
	avc, _, _ := strings.Cut(codecs, ",")
	if len(avc) != len("avc1.PPCCLL") {
		t.Fatalf("codec %q is not avc1.PPCCLL", avc)
	}
	level, err := strconv.ParseInt(avc[9:], 16, 32)
	if err != nil {
		t.Fatal(err)
	}
	return int(level)
}

// checkKeyframes checks that the rendition has a keyframe at every multiple
// of SegmentSeconds and nowhere else.
func checkKeyframes(t *testing.T, name, playlist string, seconds float64) {
	t.Helper()
	lines := ffprobeCSV(t, "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags", playlist)
	first := math.Inf(1)
	type packet struct {
		pts float64
		key bool
	}
	var packets []packet
	for _, l := range lines {
		ptsText, flags, _ := strings.Cut(l, ",")
		pts, err := strconv.ParseFloat(ptsText, 64)
		if err != nil {
			t.Fatalf("%s: packet %q", name, l)
		}
		first = min(first, pts)
		packets = append(packets, packet{pts, strings.Contains(flags, "K")})
	}
	var keys []float64
	for _, p := range packets {
		if !p.key {
			continue
		}
		at := p.pts - first
		keys = append(keys, math.Round(at*1000)/1000)
		if k := math.Round(at / SegmentSeconds); math.Abs(at-k*SegmentSeconds) > 0.001 {
			t.Errorf("%s: keyframe at %.3f s, off the %d s grid", name, at, SegmentSeconds)
		}
	}
	if want := int(math.Ceil(seconds/SegmentSeconds - 0.01)); len(keys) != want {
		t.Errorf("%s: keyframes at %v, want %d (one every %d s)", name, keys, want, SegmentSeconds)
	}
}

// checkMaster parses outDir/master.m3u8 and compares it with rs.
func checkMaster(t *testing.T, outDir string, rs []video.Rendition) {
	t.Helper()
	f, err := os.Open(filepath.Join(outDir, "master.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	want := []string{"#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-INDEPENDENT-SEGMENTS"}
	for _, r := range rs {
		want = append(want,
			fmt.Sprintf(`#EXT-X-STREAM-INF:BANDWIDTH=%d,AVERAGE-BANDWIDTH=%d,RESOLUTION=%dx%d,CODECS="%s",FRAME-RATE=30.000`,
				r.Bandwidth, r.AverageBandwidth, r.Width, r.Height, r.Codecs),
			r.Name+"/index.m3u8")
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("master.m3u8:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestEncodeRotatedSourceIsPortrait(t *testing.T) {
	t.Parallel()
	testenv.RequireFFmpeg(t)
	path := derived(t, "rotated.mp4", clip(t, 640, 360, 4, true), "-c", "copy", "-metadata:s:v:0", "rotate=90")
	ctx, src := probed(t, path)
	rungs := ladder.For(src.Width, src.Height)[:1]
	rs, err := Options{}.Encode(ctx, src, path, t.TempDir(), rungs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Width != 240 || rs[0].Height != 426 {
		t.Errorf("rotated phone video encoded %dx%d, want 240x426", rs[0].Width, rs[0].Height)
	}
}

// A one-frame video is a video, if a short one: it plays, with its
// thumbnail and storyboard, like any other.
func TestOneFrameVideo(t *testing.T) {
	t.Parallel()
	testenv.RequireFFmpeg(t)
	path := clip(t, 640, 360, 1.0/30, true)
	ctx, src := probed(t, path)
	outDir := t.TempDir()
	rs, err := Options{}.Encode(ctx, src, path, outDir, ladder.For(src.Width, src.Height), nil)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	for _, r := range rs {
		playlist := filepath.Join(outDir, r.Name, "index.m3u8")
		checkDecodes(t, r.Name, playlist)
		if frames := ffprobeCSV(t, "-select_streams", "v:0", "-show_entries", "frame=pts_time", playlist); len(frames) != 1 {
			t.Errorf("%s: frames at %v, want one", r.Name, frames)
		}
		if want := peakSegmentBitRate(t, playlist); r.Bandwidth < want-1 || r.Bandwidth > want+1 || r.Bandwidth != r.AverageBandwidth {
			t.Errorf("%s: BANDWIDTH %d, AVERAGE-BANDWIDTH %d, want both the whole video's rate %d", r.Name, r.Bandwidth, r.AverageBandwidth, want)
		}
	}
	checkMaster(t, outDir, rs)

	thumb := filepath.Join(outDir, "thumb.jpg")
	if err := (Options{}).Thumbnail(ctx, src, path, thumb); err != nil {
		t.Fatalf("Thumbnail: %v", err)
	}
	if got, want := imageSize(t, thumb), "mjpeg,640,360"; got != want {
		t.Errorf("thumbnail is %s, want %s", got, want)
	}
	jpg, vtt, err := Options{}.Storyboard(ctx, src, path, outDir)
	if err != nil {
		t.Fatalf("Storyboard: %v", err)
	}
	if got, want := imageSize(t, jpg), "mjpeg,160,90"; got != want {
		t.Errorf("sprite is %s, want %s", got, want)
	}
	checkTilesHavePictures(t, jpg, 1, 160, 90)
	b, err := os.ReadFile(vtt)
	if err != nil {
		t.Fatal(err)
	}
	if want := "WEBVTT\n\n00:00:00.000 --> " + vttTime(src.DurationSeconds) + "\nstoryboard.jpg#xywh=0,0,160,90\n"; string(b) != want {
		t.Errorf("storyboard.vtt:\n%s\nwant:\n%s", b, want)
	}
}

func TestEncodeUnsupported(t *testing.T) {
	t.Parallel()
	testenv.RequireFFmpeg(t)
	// With its index at the front, the first half of an MP4 has headers
	// that describe the whole video: Probe finds its frames missing, and
	// Encode, given what the headers say, finds them missing too.
	faststart := derived(t, "faststart.mp4", clip(t, 640, 360, 4, true), "-c", "copy", "-movflags", "+faststart")
	b, err := os.ReadFile(faststart)
	if err != nil {
		t.Fatal(err)
	}
	random := make([]byte, 64<<10)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	src := Source{DurationSeconds: 4, Width: 640, Height: 360, FrameRate: 30, HasAudio: true, VideoCodec: "h264"}
	cases := []struct {
		name string
		path string
	}{
		{"truncated MP4 with its index first", writeFile(t, "half.mp4", b[:len(b)/2])},
		{"random bytes", writeFile(t, "random.mp4", random)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if c.name != "random bytes" {
				_, err := Options{}.Probe(ctx, c.path, Limits{})
				var u *Unsupported
				if !errors.As(err, &u) || !strings.Contains(u.Reason, "damaged or incomplete") {
					t.Fatalf("Probe = %v, want the file damaged or incomplete", err)
				}
			}
			_, err := Options{}.Encode(ctx, src, c.path, t.TempDir(), ladder.For(640, 360), nil)
			var u *Unsupported
			if !errors.As(err, &u) {
				t.Fatalf("Encode = %v, want an *Unsupported error", err)
			}
			t.Logf("reason: %s", u.Reason)
			if !strings.Contains(u.Reason, "damaged or incomplete") && !strings.Contains(u.Reason, "not a video") {
				t.Errorf("reason %q does not say what is wrong", u.Reason)
			}
		})
	}
}

func TestEncodeCancelled(t *testing.T) {
	t.Parallel()
	testenv.RequireFFmpeg(t)
	path := clip(t, 1280, 720, 3, true)
	src, err := Options{}.Probe(context.Background(), path, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		// "veryslow" keeps ffmpeg busy for long enough to be cancelled.
		_, err := Options{Preset: "veryslow"}.Encode(ctx, src, path, t.TempDir(), ladder.For(src.Width, src.Height), func(float64) {
			once.Do(func() { close(started) })
		})
		done <- err
	}()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("Encode ended before it could be cancelled: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("no progress within a minute")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Encode = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Encode did not return within 10 s of its context ending")
	}
}

func TestEncodeRefusesBadArguments(t *testing.T) {
	t.Parallel()
	src := Source{DurationSeconds: 4, Width: 640, Height: 360, FrameRate: 30}
	ctx := context.Background()
	var o Options
	if _, err := o.Encode(ctx, src, "in.mp4", t.TempDir(), nil, nil); err == nil {
		t.Error("Encode accepted no rungs")
	}
	if _, err := o.Encode(ctx, src, "in.mp4", filepath.Join(t.TempDir(), "100%"), ladder.For(640, 360), nil); err == nil {
		t.Error("Encode accepted an output folder ffmpeg would read as a template")
	}
	bad := ladder.For(640, 360)
	bad[0].Name = "../escape"
	if _, err := o.Encode(ctx, src, "in.mp4", t.TempDir(), bad, nil); err == nil {
		t.Error("Encode accepted a rung name that is a path")
	}
}

func TestBitRates(t *testing.T) {
	t.Parallel()
	seg := func(seconds float64, bytes int64) sizedSegment {
		return sizedSegment{bytes: bytes, duration: time.Duration(seconds * float64(time.Second))}
	}
	cases := []struct {
		name   string
		target time.Duration
		init   int64
		segs   []sizedSegment
		want   bandwidth
	}{
		{
			// Alone, the last segment runs at 800 kbit/s; it only counts
			// with the one before it: 150 kB over 2.5 s.
			name: "short last segment", target: 2 * time.Second, init: 1_000,
			segs: []sizedSegment{seg(2, 99_000), seg(2, 100_000), seg(0.5, 50_000)},
			want: bandwidth{peak: 480_000, average: 444_445},
		},
		{
			name: "one segment within the window", target: 2 * time.Second,
			segs: []sizedSegment{seg(1.5, 60_000)},
			want: bandwidth{peak: 320_000, average: 320_000},
		},
		{
			// No run lasts half the target duration: the whole video is the window.
			name: "one segment shorter than half the target", target: 2 * time.Second, init: 1_000,
			segs: []sizedSegment{seg(0.5, 24_000)},
			want: bandwidth{peak: 400_000, average: 400_000},
		},
		{
			// ffmpeg writes EXT-X-TARGETDURATION:0 for a one-frame video.
			name: "one frame, target duration 0", init: 800,
			segs: []sizedSegment{seg(0.04, 4_200)},
			want: bandwidth{peak: 1_000_000, average: 1_000_000},
		},
		{
			name: "all equal", target: 2 * time.Second,
			segs: []sizedSegment{seg(2, 50_000), seg(2, 50_000), seg(2, 50_000)},
			want: bandwidth{peak: 200_000, average: 200_000},
		},
		{
			name: "one big segment in the middle", target: 2 * time.Second,
			segs: []sizedSegment{seg(2, 50_000), seg(2, 50_000), seg(2, 200_000), seg(2, 50_000), seg(2, 50_000)},
			want: bandwidth{peak: 800_000, average: 320_000},
		},
		{
			name: "init segment counts with the first segment", target: 2 * time.Second, init: 10_000,
			segs: []sizedSegment{seg(2, 50_000), seg(2, 50_000)},
			want: bandwidth{peak: 240_000, average: 220_000},
		},
		{
			// 0.4 + 0.6 s is exactly half the target duration.
			name: "run of half the target counts", target: 2 * time.Second,
			segs: []sizedSegment{seg(0.4, 40_000), seg(0.6, 10_000), seg(2, 10_000)},
			want: bandwidth{peak: 400_000, average: 160_000},
		},
		{
			// 2.5 + 0.5 s is exactly 1.5 times the target duration.
			name: "run of 1.5 times the target counts", target: 2 * time.Second,
			segs: []sizedSegment{seg(2.5, 10_000), seg(0.5, 50_000), seg(2.5, 10_000)},
			want: bandwidth{peak: 160_000, average: 101_819},
		},
		{
			// 1 s segments under a 4 s target: runs of two to six
			// segments; the big one is too short to be a run alone.
			name: "runs of several segments", target: 4 * time.Second,
			segs: []sizedSegment{seg(1, 10_000), seg(1, 10_000), seg(1, 60_000), seg(1, 10_000), seg(1, 10_000), seg(1, 10_000)},
			want: bandwidth{peak: 280_000, average: 146_667},
		},
	}
	for _, c := range cases {
		if got := bitRates(c.target, c.init, c.segs); got != c.want {
			t.Errorf("%s: bitRates = %+v, want %+v", c.name, got, c.want)
		}
	}
}

// ffmpeg runs at the niceness Options give it, every thread of it, so that
// the services sharing the machine come first.
func TestFFmpegRunsAtItsNiceness(t *testing.T) {
	t.Parallel()
	testenv.RequireFFmpeg(t)
	if _, err := os.Stat("/proc/self/task"); err != nil {
		t.Skip("no /proc to read a process's niceness from")
	}
	path := clip(t, 1280, 720, 3, true)
	ctx, src := probed(t, path)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	outDir := t.TempDir()
	done := make(chan error, 1)
	go func() {
		// "veryslow" keeps ffmpeg busy for long enough to be looked at.
		_, err := Options{Preset: "veryslow", Nice: 7}.Encode(ctx, src, path, outDir, ladder.For(src.Width, src.Height), nil)
		done <- err
	}()
	deadline := time.Now().Add(time.Minute)
	for {
		// Its encoder threads start a moment after ffmpeg does.
		if nice := threadNiceness(t, outDir); len(nice) > 1 {
			for tid, n := range nice {
				if n != 7 {
					t.Errorf("ffmpeg thread %s runs at niceness %d, want 7", tid, n)
				}
			}
			break
		}
		select {
		case err := <-done:
			t.Fatalf("Encode ended before its threads were seen: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no ffmpeg with threads writing into the output folder within a minute")
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Encode = %v, want context.Canceled", err)
	}
}

// threadNiceness finds this process's ffmpeg child whose command line names
// dir and returns the niceness of each of its threads, by thread id.
func threadNiceness(t *testing.T, dir string) map[string]int {
	t.Helper()
	procs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		t.Fatal(err)
	}
	for _, proc := range procs {
		comm, fields, ok := procStat(filepath.Join(proc, "stat"))
		// Fields after the name start at the state, field 3 of proc(5):
		// the parent is field 4.
		if !ok || comm != "ffmpeg" || fields[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		if cmdline, err := os.ReadFile(filepath.Join(proc, "cmdline")); err != nil || !strings.Contains(string(cmdline), dir) {
			continue
		}
		tasks, _ := filepath.Glob(filepath.Join(proc, "task", "[0-9]*"))
		nice := map[string]int{}
		for _, task := range tasks {
			if _, fields, ok := procStat(filepath.Join(task, "stat")); ok {
				// The niceness is field 19.
				n, err := strconv.Atoi(fields[19-3])
				if err != nil {
					t.Fatalf("%s: niceness %q", task, fields[19-3])
				}
				nice[filepath.Base(task)] = n
			}
		}
		return nice
	}
	return nil
}

// procStat reads a /proc stat file: the command name and the fields after
// it. A process that ended meanwhile is not ok.
func procStat(path string) (comm string, fields []string, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", nil, false
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return "", nil, false
	}
	fields = strings.Fields(s[end+1:])
	return s[open+1 : end], fields, len(fields) > 19-3
}
