package transcode

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/cloudflix/cloudflix/internal/ladder"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
)

func TestChunkPlan(t *testing.T) {
	t.Parallel()
	type span struct{ start, end float64 }
	cases := []struct {
		duration float64
		size     int
		want     []span
	}{
		{1, 30, []span{{0, 0}}},
		{5, 30, []span{{0, 4}, {4, 0}}},                    // the second lead-in chunk has 1 s: at least half of its 2
		{20, 30, []span{{0, 4}, {4, 0}}},                   // 14 s after the lead-in: they join its last chunk
		{21, 30, []span{{0, 4}, {4, 6}, {6, 0}}},           // 15 s after the lead-in: a chunk of their own
		{50, 30, []span{{0, 4}, {4, 6}, {6, 0}}},           // 30 + 14 s
		{51, 30, []span{{0, 4}, {4, 6}, {6, 36}, {36, 0}}}, // 30 + 15 s
		{180, 30, []span{{0, 4}, {4, 6}, {6, 36}, {36, 66}, {66, 96}, {96, 126}, {126, 156}, {156, 0}}},
		{13, 5, []span{{0, 4}, {4, 6}, {6, 10}, {10, 0}}}, // 5 s is rounded down to 4
		{3, 1, []span{{0, 2}, {2, 0}}},                    // at least one segment, the lead-in too
	}
	for _, c := range cases {
		var got []span
		for i, ch := range ChunkPlan(c.duration, c.size) {
			if ch.Index != i || ch.State != video.ChunkPending {
				t.Errorf("ChunkPlan(%g, %d)[%d] = %+v", c.duration, c.size, i, ch)
			}
			got = append(got, span{ch.Start, ch.End})
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("ChunkPlan(%g, %d) = %v, want %v", c.duration, c.size, got, c.want)
		}
	}
}

// TestChunkedEncodeMatchesOnePass encodes sources in chunks and joins
// them, and checks the result against a one-pass encode of the same
// source: every rendition decodes with -xerror, has the same video packets
// (timestamps and keyframes: no frame lost, doubled or moved at a join),
// the same segments on the 2 s grid, the source's frame count, the audio
// ending where the source's does, and about the same size.
func TestChunkedEncodeMatchesOnePass(t *testing.T) {
	t.Parallel()
	testenv.RequireFFmpeg(t)
	ntsc := derived(t, "ntsc_13s.mp4", clip(t, 640, 360, 13, true), "-vf", "fps=30000/1001", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "copy")
	cases := []struct {
		name  string
		path  string
		chunk int
	}{
		{"30 fps with audio, 4 chunks", clip(t, 640, 360, 13, true), 4},
		{"29.97 fps with audio, 6 chunks", ntsc, 2},
		{"without audio, 2 chunks", clip(t, 360, 640, 7, false), 4},
		{"two audio bit rates, 2 chunks", clip(t, 854, 480, 7, true), 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, src := probed(t, c.path)
			rungs := ladder.For(src.Width, src.Height)
			opts := Options{Tag: "t1-"}
			onePass := t.TempDir()
			want, err := opts.Encode(ctx, src, c.path, onePass, rungs, nil)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			chunks := ChunkPlan(src.DurationSeconds, c.chunk)
			joined, got := encodeChunked(t, ctx, opts, src, c.path, chunks, rungs, 2)
			if len(got) != len(want) {
				t.Fatalf("%d renditions joined, %d encoded in one pass", len(got), len(want))
			}
			for i, r := range rungs {
				g, w := got[i], want[i]
				if g.Name != w.Name || g.Codecs != w.Codecs || g.Width != w.Width || g.Height != w.Height || g.FrameRate != w.FrameRate {
					t.Errorf("joined %+v, one pass %+v", g, w)
				}
				if ratio := float64(g.Bandwidth) / float64(w.Bandwidth); ratio < 0.9 || ratio > 1.1 {
					t.Errorf("%s: BANDWIDTH %d joined, %d in one pass", r.Name, g.Bandwidth, w.Bandwidth)
				}
				checkJoin(t, c.path, filepath.Join(onePass, r.Name), filepath.Join(joined, r.Name), src.HasAudio)
			}
		})
	}
}

// encodeChunked encodes src's chunks with workers goroutines and joins
// them into a folder it returns with the renditions.
func encodeChunked(t testing.TB, ctx context.Context, opts Options, src Source, srcPath string, chunks []video.Chunk, rungs []ladder.Rung, workers int) (string, []video.Rendition) {
	t.Helper()
	work := t.TempDir()
	dirs := make([]string, len(chunks))
	for i := range chunks {
		dirs[i] = filepath.Join(work, "chunk-"+strconv.Itoa(i))
	}
	errs := make(chan error, len(chunks))
	next := make(chan int, len(chunks))
	for i := range chunks {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := range next {
				errs <- opts.EncodeChunk(ctx, src, srcPath, chunks[i], dirs[i], rungs, nil)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(work, "hls")
	rs, err := join(ctx, opts, src, srcPath, chunks, dirs, out, rungs)
	if err != nil {
		t.Fatalf("Join: %v", err)
	}
	return out, rs
}

// join puts the chunks of the source at srcPath end to end for every
// rung, muxes each rung's video, without encoding it again, with its
// audio, encoded once for the whole source, into the HLS renditions under
// outDir that Encode would have written, and measures them as Encode
// does. chunkDirs[i] is the folder of chunks[i]'s files (EncodeChunk).
func join(ctx context.Context, o Options, src Source, srcPath string, chunks []video.Chunk, chunkDirs []string, outDir string, rungs []ladder.Rung) ([]video.Rendition, error) {
	if len(chunks) != len(chunkDirs) {
		return nil, fmt.Errorf("join: %d chunks in %d folders", len(chunks), len(chunkDirs))
	}
	j, err := o.NewJoin(src, srcPath, chunks, outDir, rungs)
	if err != nil {
		return nil, err
	}
	defer j.Close()
	for i, dir := range chunkDirs {
		if err := j.Add(i, dir); err != nil {
			return nil, err
		}
	}
	return j.Run(ctx)
}

// joinReport is what checkJoin measured of a joined rendition.
type joinReport struct {
	frames, sourceFrames int
	drift                float64 // where the audio ends after the video, less the same in the source, seconds
	bytes, onePassBytes  int64
}

// checkJoin compares the joined rendition in dir with the one-pass one in
// onePassDir and the source, and returns what it measured.
func checkJoin(t testing.TB, srcPath, onePassDir, dir string, audio bool) joinReport {
	t.Helper()
	playlist := filepath.Join(dir, "index.m3u8")
	checkDecodes(t, filepath.Base(dir), playlist)
	var rep joinReport
	got, want := videoPackets(t, playlist), videoPackets(t, filepath.Join(onePassDir, "index.m3u8"))
	if !slices.Equal(got, want) {
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("%s: video packet %d is %s, one pass has %s (of %d and %d packets)", dir, i, got[i], want[i], len(got), len(want))
				break
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d video packets, one pass %d", dir, len(got), len(want))
		}
	}
	if audio {
		gotAudio := ffprobeCSV(t, "-select_streams", "a:0", "-show_entries", "packet=pts_time,size", playlist)
		wantAudio := ffprobeCSV(t, "-select_streams", "a:0", "-show_entries", "packet=pts_time,size", filepath.Join(onePassDir, "index.m3u8"))
		if !slices.Equal(gotAudio, wantAudio) {
			t.Errorf("%s: %d audio packets differ from the one-pass encode's %d", dir, len(gotAudio), len(wantAudio))
		}
	}
	rep.frames = len(got)
	rep.sourceFrames = len(ffprobeCSV(t, "-select_streams", "v:0", "-show_entries", "packet=pts_time", srcPath))
	if rep.frames != rep.sourceFrames {
		t.Errorf("%s: %d frames, the source has %d", dir, rep.frames, rep.sourceFrames)
	}
	gotSegs, wantSegs := playlistSegments(t, playlist), playlistSegments(t, filepath.Join(onePassDir, "index.m3u8"))
	if !slices.Equal(gotSegs, wantSegs) {
		t.Errorf("%s: segments %v, one pass %v", dir, gotSegs, wantSegs)
	}
	if audio {
		rep.drift = testenv.AudioAfterVideo(t, playlist) - testenv.AudioAfterVideo(t, srcPath)
		if math.Abs(rep.drift) > 0.025 {
			t.Errorf("%s: audio ends %.3f s after the video, %.3f s more than in the source", dir, testenv.AudioAfterVideo(t, playlist), rep.drift)
		}
	}
	rep.bytes, rep.onePassBytes = testenv.SegmentBytes(t, dir), testenv.SegmentBytes(t, onePassDir)
	if ratio := float64(rep.bytes) / float64(rep.onePassBytes); ratio < 0.95 || ratio > 1.05 {
		t.Errorf("%s: %d bytes, %.3f times the one-pass encode's %d", dir, rep.bytes, ratio, rep.onePassBytes)
	}
	return rep
}

// videoPackets lists the video packets of a media file or playlist, as
// "pts flags".
func videoPackets(t testing.TB, path string) []string {
	t.Helper()
	return ffprobeCSV(t, "-select_streams", "v:0", "-show_entries", "packet=pts_time,flags", path)
}

// playlistSegments lists a media playlist's EXTINF durations.
func playlistSegments(t testing.TB, playlist string) []float64 {
	t.Helper()
	pl, err := readPlaylist(playlist)
	if err != nil {
		t.Fatal(err)
	}
	var ds []float64
	for _, s := range pl.segments {
		ds = append(ds, s.seconds)
	}
	return ds
}
