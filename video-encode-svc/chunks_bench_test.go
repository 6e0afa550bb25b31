package encodesvc

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/config"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/store/storetest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/transcode"
	"github.com/cloudflix/cloudflix/internal/video"
	"github.com/cloudflix/cloudflix/internal/videocache"
)

// BenchmarkChunkedEncode encodes one generated 1920x1080 30 fps source
// with sound (CLOUDFLIX_BENCH_SOURCE_SECONDS long, 180 by default) three
// ways, one after the other in one run, on the embedded backends, with
// the production preset and every ffmpeg held to one thread: in one pass,
// and in 30 s chunks with one encode worker and with two. From the moment
// the job is handed to the first worker (the upload is complete then) it
// measures when the video is first playable and when it is ready, and it
// checks each chunked encode's renditions against the one-pass ones:
// every rendition decodes with -xerror, has the source's frames with the
// one-pass encode's timestamps and keyframes, 2 s segments, the audio
// ending where it ends in the source, and its size.
//
//	go test ./video-encode-svc/ -run '^$' -bench ChunkedEncode -benchtime 1x -timeout 2h
func BenchmarkChunkedEncode(b *testing.B) {
	testenv.RequireFFmpeg(b)
	seconds := 180.0
	if s := os.Getenv("CLOUDFLIX_BENCH_SOURCE_SECONDS"); s != "" {
		var err error
		if seconds, err = strconv.ParseFloat(s, 64); err != nil || seconds <= 0 {
			b.Fatalf("CLOUDFLIX_BENCH_SOURCE_SECONDS=%q", s)
		}
	}
	source := filepath.Join(b.TempDir(), "source.mp4")
	testenv.GenerateClip(b, source, 1920, 1080, seconds, true)
	variants := []struct {
		name    string
		chunked bool
		workers int
	}{{"one pass", false, 1}, {"chunked, 1 worker", true, 1}, {"chunked, 2 workers", true, 2}}
	for b.Loop() {
		var runs []encodeRun
		for _, v := range variants {
			runs = append(runs, runEncode(b, source, v.chunked, v.workers))
			r := runs[len(runs)-1]
			b.Logf("%-20s playable after %6.1f s, ready after %6.1f s", v.name, r.playable.Seconds(), r.ready.Seconds())
		}
		one, c1, c2 := runs[0], runs[1], runs[2]
		b.ReportMetric(one.playable.Seconds(), "s-playable-one-pass")
		b.ReportMetric(one.ready.Seconds(), "s-ready-one-pass")
		b.ReportMetric(c1.ready.Seconds(), "s-ready-chunked-1")
		b.ReportMetric(c2.ready.Seconds(), "s-ready-chunked-2")
		b.ReportMetric(c1.ready.Seconds()/one.ready.Seconds(), "chunked-1/one-pass")
		b.ReportMetric(c2.ready.Seconds()/c1.ready.Seconds(), "chunked-2/chunked-1")
		for _, c := range []encodeRun{c1, c2} {
			bytes := compareJoined(b, source, one.dir, c.dir)
			b.ReportMetric(bytes, fmt.Sprintf("bytes-chunked-%d/one-pass", c.workers))
		}
	}
}

// encodeRun is one encode of the benchmark: how long until playable and
// until ready, and the folder its renditions were fetched into.
type encodeRun struct {
	workers         int
	playable, ready time.Duration
	dir             string
}

// runEncode encodes source on a fresh embedded platform, in chunks or not,
// with workers workers, and fetches the renditions.
func runEncode(b *testing.B, source string, chunked bool, workers int) encodeRun {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := platformtest.Process(b, platformtest.Embedded)
	db, err := p.Store(ctx)
	if err != nil {
		b.Fatal(err)
	}
	objects, _, err := p.Objects(ctx)
	if err != nil {
		b.Fatal(err)
	}
	c, err := p.Cache(ctx)
	if err != nil {
		b.Fatal(err)
	}
	q, err := p.Queue(ctx, "encode", workers)
	if err != nil {
		b.Fatal(err)
	}
	var cfg config.Encode
	if err := config.Defaults(&cfg); err != nil {
		b.Fatal(err)
	}
	settings := func(name string) Settings {
		s := Settings{
			WorkerID: testenv.Name(name), WorkDir: b.TempDir(), Lease: cfg.Lease, MaxAttempts: cfg.MaxAttempts,
			Limits:  limits(cfg),
			Options: transcode.Options{Preset: cfg.Preset, Threads: 1},
		}
		if chunked {
			s.Chunks = ChunkSettings{From: 1, Seconds: int(cfg.ChunkLength.Seconds()), Jobs: q}
		}
		return s
	}
	cache := videocache.New(c, time.Minute, nil)
	coordinator := NewWorker(db, objects, cache, settings("coordinator-"), nil)
	var wg sync.WaitGroup
	for i := 1; i < workers; i++ {
		w := NewWorker(db, objects, cache, settings(fmt.Sprintf("worker%d-", i)), nil)
		wg.Go(func() { _ = q.Consume(ctx, w.Handle) })
	}
	defer wg.Wait()
	defer cancel()

	v := storetest.Uploaded(b, db, "Benchmark")
	if err := objects.PutFile(ctx, video.SourceKey(v.ID), source, "video/mp4"); err != nil {
		b.Fatal(err)
	}
	run := encodeRun{workers: workers}
	start := time.Now()
	watched := make(chan time.Duration, 1)
	watchCtx, stopWatching := context.WithCancel(ctx)
	go func() {
		defer close(watched)
		for watchCtx.Err() == nil {
			if got, err := db.Video(watchCtx, v.ID); err == nil && got.Playable() {
				watched <- time.Since(start)
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	if err := coordinator.Handle(ctx, delivery(v.ID)); err != nil {
		b.Fatalf("Handle: %v", err)
	}
	run.ready = time.Since(start)
	stopWatching()
	run.playable = run.ready
	if d, ok := <-watched; ok {
		run.playable = d
	}
	got, err := db.Video(ctx, v.ID)
	if err != nil || got.State != video.StateReady {
		b.Fatalf("after the encode: %+v, %v", got, err)
	}

	run.dir = b.TempDir()
	prefix := video.HLSPrefix(v.ID)
	err = objects.List(ctx, prefix, false, func(o blob.ObjectInfo) error {
		path := filepath.Join(run.dir, filepath.FromSlash(strings.TrimPrefix(o.Key, prefix)))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		return objects.Download(ctx, o.Key, path)
	})
	if err != nil {
		b.Fatal(err)
	}
	return run
}

// compareJoined checks the chunked renditions in dir against the one-pass
// ones in onePass and the source, logs what it measured and returns the
// chunked renditions' bytes over the one-pass ones'.
func compareJoined(b *testing.B, source, onePass, dir string) float64 {
	b.Helper()
	rungs, err := os.ReadDir(onePass)
	if err != nil {
		b.Fatal(err)
	}
	sourceFrames := frameCount(b, source)
	sourceDrift := testenv.AudioAfterVideo(b, source)
	var bytes, onePassBytes int64
	for _, e := range rungs {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		playlist := filepath.Join(dir, name, "index.m3u8")
		if out, err := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", playlist, "-f", "null", "-").CombinedOutput(); err != nil || len(out) > 0 {
			b.Errorf("%s does not decode cleanly: %v\n%s", name, err, out)
		}
		frames := frameCount(b, playlist)
		same := slices.Equal(probeLines(b, playlist, "packet=pts_time,flags"), probeLines(b, filepath.Join(onePass, name, "index.m3u8"), "packet=pts_time,flags"))
		segs := segmentLengths(b, playlist)
		onGrid := true
		for i, s := range segs {
			if i < len(segs)-1 && math.Abs(s-transcode.SegmentSeconds) > 0.001 {
				onGrid = false
			}
		}
		drift := testenv.AudioAfterVideo(b, playlist) - sourceDrift
		n, m := testenv.SegmentBytes(b, filepath.Join(dir, name)), testenv.SegmentBytes(b, filepath.Join(onePass, name))
		bytes, onePassBytes = bytes+n, onePassBytes+m
		b.Logf("%s: %d frames (source %d), packets as one pass: %t, %d segments on the 2 s grid: %t, audio drift %+.4f s, %d bytes (one pass %d, %+.2f%%)",
			name, frames, sourceFrames, same, len(segs), onGrid, drift, n, m, 100*(float64(n)/float64(m)-1))
		if frames != sourceFrames || !same || !onGrid || math.Abs(drift) > 0.025 {
			b.Errorf("%s: the joined rendition differs from the source or the one-pass encode", name)
		}
	}
	return float64(bytes) / float64(onePassBytes)
}

func probeLines(b *testing.B, path, entries string) []string {
	b.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", entries, "-of", "csv=p=0", path).Output()
	if err != nil {
		b.Fatalf("ffprobe %s: %v", path, err)
	}
	return strings.Fields(string(out))
}

func frameCount(b *testing.B, path string) int {
	b.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets", "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", path).Output()
	if err != nil {
		b.Fatalf("ffprobe %s: %v", path, err)
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	n, err := strconv.Atoi(strings.TrimSuffix(first, ","))
	if err != nil {
		b.Fatalf("frame count of %s: %q", path, out)
	}
	return n
}

func segmentLengths(b *testing.B, playlist string) []float64 {
	b.Helper()
	text, err := os.ReadFile(playlist)
	if err != nil {
		b.Fatal(err)
	}
	var ds []float64
	for _, l := range strings.Split(string(text), "\n") {
		if d, ok := strings.CutPrefix(l, "#EXTINF:"); ok {
			f, err := strconv.ParseFloat(strings.TrimSuffix(d, ","), 64)
			if err != nil {
				b.Fatalf("%s: %q", playlist, l)
			}
			ds = append(ds, f)
		}
	}
	return ds
}
