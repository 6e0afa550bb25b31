package encodesvc

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
)

// watchedObjects is the platform's object store with a look at every
// playlist the worker publishes, taken before the worker goes on: each
// version a player could have loaded is checked.
type watchedObjects struct {
	blob.Store
	published func(key string, body []byte)
}

func (o watchedObjects) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := o.Store.Put(ctx, key, bytes.NewReader(b), size, contentType); err != nil {
		return err
	}
	o.published(key, b)
	return nil
}

// mediaPlaylist is what a player reads of a media playlist.
type mediaPlaylist struct {
	kind, init    string
	target, mseq  int
	segments      []string
	seconds       float64
	ended, starts bool
}

func readMediaPlaylist(t *testing.T, key string, b []byte) mediaPlaylist {
	t.Helper()
	pl := mediaPlaylist{target: -1, mseq: -1}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for first := true; sc.Scan(); first = false {
		line := sc.Text()
		tag, value, _ := strings.Cut(line, ":")
		switch {
		case first && line != "#EXTM3U":
			t.Fatalf("%s does not start with #EXTM3U:\n%s", key, b)
		case tag == "#EXT-X-PLAYLIST-TYPE":
			pl.kind = value
		case tag == "#EXT-X-TARGETDURATION":
			pl.target, _ = strconv.Atoi(value)
		case tag == "#EXT-X-MEDIA-SEQUENCE":
			pl.mseq, _ = strconv.Atoi(value)
		case tag == "#EXT-X-MAP":
			pl.init = strings.TrimSuffix(strings.TrimPrefix(value, `URI="`), `"`)
		case tag == "#EXT-X-START":
			pl.starts = value == "TIME-OFFSET=0"
		case tag == "#EXTINF":
			d, err := strconv.ParseFloat(strings.TrimSuffix(value, ","), 64)
			if err != nil || int(d+0.5) > pl.target {
				t.Errorf("%s: segment of %q s, target %d", key, value, pl.target)
			}
			pl.seconds += d
		case line == "#EXT-X-ENDLIST":
			pl.ended = true
		case line != "" && !strings.HasPrefix(line, "#"):
			pl.segments = append(pl.segments, line)
		}
	}
	return pl
}

// growthCheck holds what the published playlists said so far.
type growthCheck struct {
	t       *testing.T
	r       rig
	id      string
	mu      sync.Mutex
	growing map[string]mediaPlaylist // rung folder → last EVENT version
	decoded map[string]bool          // segment keys checked to decode
	bounds  map[string]int64         // rung → BANDWIDTH of the growing master
	// playableWhileProcessing is the most the database said could be
	// played while the video was still processing.
	playableWhileProcessing float64
	finals                  map[string]mediaPlaylist
	// onFirstMaster runs once the growing master playlist is published.
	onFirstMaster func()
}

func (g *growthCheck) published(key string, b []byte) {
	t := g.t
	g.mu.Lock()
	defer g.mu.Unlock()
	rel := strings.TrimPrefix(key, video.HLSPrefix(g.id))
	switch {
	case rel == "master.m3u8":
		g.master(key, b)
	case strings.HasSuffix(rel, "/index.m3u8"):
		rung := strings.TrimSuffix(rel, "/index.m3u8")
		pl := readMediaPlaylist(t, key, b)
		if pl.mseq != 0 || pl.init == "" || len(pl.segments) == 0 {
			t.Errorf("%s: media sequence %d, init %q, %d segments", key, pl.mseq, pl.init, len(pl.segments))
		}
		before, grew := g.growing[rung]
		if grew && (pl.init != before.init || pl.target != before.target || !slices.Equal(pl.segments[:min(len(before.segments), len(pl.segments))], before.segments)) {
			t.Errorf("%s changed what players have loaded:\n%+v\nthen\n%+v", key, before, pl)
		}
		switch pl.kind {
		case "EVENT":
			if pl.ended || !pl.starts {
				t.Errorf("%s: growing playlist with ENDLIST %t, start at 0 %t", key, pl.ended, pl.starts)
			}
			if grew && len(pl.segments) <= len(before.segments) {
				t.Errorf("%s did not grow: %d segments, then %d", key, len(before.segments), len(pl.segments))
			}
			g.decodes(rung, pl)
			g.growing[rung] = pl
			g.recordPlayable()
		case "VOD":
			if !pl.ended || pl.starts {
				t.Errorf("%s: VOD playlist with ENDLIST %t, EXT-X-START %t", key, pl.ended, pl.starts)
			}
			g.finals[rung] = pl
			g.recordPlayable()
		default:
			t.Errorf("%s: playlist type %q", key, pl.kind)
		}
	}
}

// master checks a master playlist: every playlist it names is published.
func (g *growthCheck) master(key string, b []byte) {
	t := g.t
	text := string(b)
	growing := !strings.Contains(text, "AVERAGE-BANDWIDTH")
	lines := strings.Split(strings.TrimSpace(text), "\n")
	for i, line := range lines {
		if !strings.HasPrefix(line, "#EXT-X-STREAM-INF:") || i+1 == len(lines) {
			continue
		}
		uri := lines[i+1]
		if _, err := g.r.objects.Stat(g.t.Context(), video.HLSPrefix(g.id)+uri); err != nil {
			t.Errorf("%s names %s before it is published: %v", key, uri, err)
		}
		bw, _, _ := strings.Cut(strings.TrimPrefix(line, "#EXT-X-STREAM-INF:BANDWIDTH="), ",")
		n, err := strconv.ParseInt(bw, 10, 64)
		if err != nil {
			t.Errorf("%s: %q", key, line)
		}
		rung := strings.TrimSuffix(uri, "/index.m3u8")
		if growing {
			g.bounds[rung] = n
		} else if bound, ok := g.bounds[rung]; ok && n > bound {
			t.Errorf("%s: measured BANDWIDTH %d of %s above the growing master's bound %d", key, n, rung, bound)
		}
	}
	if growing && g.onFirstMaster != nil {
		g.onFirstMaster()
		g.onFirstMaster = nil
	}
}

// decodes checks that every newly listed segment is stored and decodes,
// with its init segment, without an error.
func (g *growthCheck) decodes(rung string, pl mediaPlaylist) {
	t := g.t
	dir := t.TempDir()
	initPath := filepath.Join(dir, "init.mp4")
	prefix := video.HLSPrefix(g.id) + rung + "/"
	if err := g.r.objects.Download(t.Context(), prefix+pl.init, initPath); err != nil {
		t.Errorf("init segment of %s: %v", prefix, err)
		return
	}
	for _, s := range pl.segments {
		key := prefix + s
		if g.decoded[key] {
			continue
		}
		g.decoded[key] = true
		seg := filepath.Join(dir, s)
		if err := g.r.objects.Download(t.Context(), key, seg); err != nil {
			t.Errorf("listed segment %s is not stored: %v", key, err)
			continue
		}
		whole := filepath.Join(dir, "whole-"+s+".mp4")
		catFiles(t, whole, initPath, seg)
		cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-xerror", "-i", whole, "-f", "null", "-")
		if out, err := cmd.CombinedOutput(); err != nil || len(out) > 0 {
			t.Errorf("listed segment %s does not decode: %v\n%s", key, err, out)
		}
	}
}

// recordPlayable notes what the database says of the video now.
func (g *growthCheck) recordPlayable() {
	v, err := g.r.store.Video(g.t.Context(), g.id)
	if err != nil {
		g.t.Error(err)
		return
	}
	if v.State == video.StateProcessing && v.Playable() {
		g.playableWhileProcessing = max(g.playableWhileProcessing, v.PlayableSeconds)
	}
}

func catFiles(t *testing.T, to string, from ...string) {
	t.Helper()
	var b []byte
	for _, f := range from {
		part, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		b = append(b, part...)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// While a video encodes, every playlist the worker publishes is valid HLS
// for a growing stream: EVENT playlists without ENDLIST that only grow,
// media sequence 0, a constant target, every listed segment stored and
// decoding; the master names only published playlists, with bandwidths
// the final, measured ones stay under. The database says the video is
// playable, and how far, before it is ready. When the encode ends the same
// keys hold VOD playlists of the same segments.
//
// A first attempt is broken off once it has published (the worker's
// context ends, as on shutdown); the next attempt publishes files of its
// own, never lists the first one's, and leaves none of them behind.
//
// It runs for an encode in one pass and for one in chunks, whose chunks
// are joined as they are done.
func TestWatchWhileEncoding(t *testing.T) {
	t.Parallel()
	for _, chunked := range []bool{false, true} {
		name := "one pass"
		if chunked {
			name = "in chunks"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testWatchWhileEncoding(t, chunked)
		})
	}
}

func testWatchWhileEncoding(t *testing.T, chunked bool) {
	p := platformtest.Process(t, platformtest.Production)
	r := newRig(t, p, 3)
	if chunked {
		// 20 s in 4 s chunks, all encoded by this worker.
		r.worker.set.Chunks = ChunkSettings{From: 1, Seconds: 4}
	}
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	// Ten 2 s segments: ffmpeg completes them over many of the worker's
	// rounds, one every pollEvery, so the playlists grow in several steps.
	testenv.GenerateClip(t, clip, 640, 360, 20, true)
	id := r.uploaded(t, clip)

	check := func() *growthCheck {
		return &growthCheck{t: t, r: r, id: id, growing: map[string]mediaPlaylist{}, decoded: map[string]bool{},
			bounds: map[string]int64{}, finals: map[string]mediaPlaylist{}}
	}
	first := check()
	ctx, stop := context.WithCancel(t.Context())
	first.onFirstMaster = stop
	r.worker.objects = watchedObjects{Store: r.objects, published: first.published}
	if err := r.worker.Handle(ctx, delivery(id)); err != nil {
		t.Fatalf("Handle of the attempt broken off: %v", err)
	}
	stale := map[string]bool{}
	if err := r.objects.List(t.Context(), video.HLSPrefix(id), false, func(o blob.ObjectInfo) error {
		if !strings.HasSuffix(o.Key, ".m3u8") {
			stale[o.Key] = true
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(stale) == 0 {
		t.Fatal("the broken-off attempt published no segment")
	}

	second := check()
	r.worker.objects = watchedObjects{Store: r.objects, published: second.published}
	v, _ := r.settle(t, id)
	if v.State != video.StateReady {
		t.Fatalf("video ended %s: %s", v.State, v.FailureReason)
	}
	if len(second.growing) != len(v.Renditions) || second.playableWhileProcessing <= 0 {
		t.Fatalf("while encoding: %d of %d renditions published growing playlists; the database said %.1f s were playable",
			len(second.growing), len(v.Renditions), second.playableWhileProcessing)
	}
	t.Logf("playable while processing: %.1f s of %.1f", second.playableWhileProcessing, v.DurationSeconds)

	// The VOD playlists list what the growing ones did, and the rest; every
	// object under the renditions is this attempt's and named by them.
	named := map[string]bool{video.MasterPlaylistKey(id): true}
	for _, rend := range v.Renditions {
		final, ok := second.finals[rend.Name]
		growing := second.growing[rend.Name]
		if !ok || final.kind != "VOD" || len(final.segments) <= len(growing.segments) || final.seconds < v.DurationSeconds-0.5 {
			t.Errorf("%s: final playlist %+v after growing %+v", rend.Name, final, growing)
		}
		prefix := video.HLSPrefix(id) + rend.Name + "/"
		named[prefix+"index.m3u8"], named[prefix+final.init] = true, true
		for _, s := range final.segments {
			named[prefix+s] = true
		}
	}
	if err := r.objects.List(t.Context(), video.HLSPrefix(id), false, func(o blob.ObjectInfo) error {
		if !named[o.Key] {
			t.Errorf("%s is stored but no playlist names it", o.Key)
		}
		if stale[o.Key] {
			t.Errorf("%s of the broken-off attempt is named by the final playlists", o.Key)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
