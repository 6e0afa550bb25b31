package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/testenv"
)

// playableVideo is what the API says of a video playable while it
// encodes.
type playableVideo struct {
	apiVideo
	Playable        bool    `json:"playable"`
	PlayableSeconds float64 `json:"playable_seconds"`
}

// TestPlayableWhileEncoding: through the whole platform, a video still
// processing says it is playable and how far; its master playlist and
// growing media playlists are served, revalidated on every request, and
// its first segment plays. Once it is ready the same URLs serve the
// on-demand playlists, naming the same segments. It holds for a video
// encoded in one pass and for one encoded in chunks by two workers.
func TestPlayableWhileEncoding(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	t.Parallel()
	testenv.RequireFFmpeg(t)
	for _, tc := range []struct {
		name   string
		env    []string
		chunks int
	}{
		{"in one pass", nil, 0},
		// Five chunks (4 s, 2 s, 10 s, 10 s and the last 14 s) shared by
		// two workers.
		{"in chunks", []string{"CLOUDFLIX_ENCODE_CHUNK_FROM=20s", "CLOUDFLIX_ENCODE_CHUNK_LENGTH=10s", "CLOUDFLIX_ENCODE_WORKERS=2", "CLOUDFLIX_ENCODE_THREADS=1"}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			testPlayableWhileEncoding(t, tc.env, tc.chunks)
		})
	}
}

// testPlayableWhileEncoding runs the test on a platform started with env,
// whose encode workers should encode chunks chunks of the video.
func testPlayableWhileEncoding(t *testing.T, env []string, chunks int) {
	pf, _ := startEmbedded(t, t.TempDir(), env...)
	clip := filepath.Join(t.TempDir(), "long.mp4")
	// Twenty 2 s segments: the video is playable for most of its encode.
	testenv.GenerateClip(t, clip, 640, 360, 40, true)
	id := pf.upload(t, clip, "Watch me while I encode")

	var v playableVideo
	deadline := time.Now().Add(3 * time.Minute)
	for {
		code, body := pf.do(t, "GET", "/api/v1/videos/"+id, "")
		if code != http.StatusOK {
			t.Fatalf("GET video = %d %s", code, body)
		}
		v = playableVideo{}
		if err := json.Unmarshal(body, &v); err != nil {
			t.Fatal(err)
		}
		if v.State == "ready" || v.State == "failed" {
			t.Fatalf("video became %s before it was seen playable while processing", v.State)
		}
		if v.Playable {
			break
		}
		if v.HLSURL != nil {
			t.Fatalf("video not yet playable has an hls_url: %+v", v)
		}
		if time.Now().After(deadline) {
			t.Fatalf("video still %s and not playable after 3 minutes", v.State)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if v.State != "processing" || v.HLSURL == nil || v.PlayableSeconds <= 0 || v.PlayableSeconds >= v.DurationSeconds || v.ThumbnailURL != nil {
		t.Fatalf("playable while processing: %+v", v)
	}

	master := get(t, pf.base+*v.HLSURL, "application/vnd.apple.mpegurl")
	variants := parseMaster(t, string(master))
	if len(variants) != 2 || variants[0].attrs["BANDWIDTH"] == "" || variants[0].attrs["AVERAGE-BANDWIDTH"] != "" {
		t.Fatalf("growing master playlist:\n%s", master)
	}
	base := strings.TrimSuffix(pf.base+*v.HLSURL, "master.m3u8")
	playlistURL := base + variants[0].uri
	resp, err := http.Get(playlistURL)
	if err != nil {
		t.Fatal(err)
	}
	var growing bytes.Buffer
	_, _ = growing.ReadFrom(resp.Body)
	resp.Body.Close()
	pl := growing.String()
	if !strings.Contains(pl, "#EXT-X-PLAYLIST-TYPE:EVENT\n") || strings.Contains(pl, "ENDLIST") || resp.Header.Get("Cache-Control") != "public, no-cache" {
		t.Fatalf("growing playlist (Cache-Control %q):\n%s", resp.Header.Get("Cache-Control"), pl)
	}
	init, first := playlistStart(t, pl)
	dir := t.TempDir()
	rendition := strings.TrimSuffix(variants[0].uri, "index.m3u8")
	whole := append(get(t, base+rendition+init, "video/mp4"), get(t, base+rendition+first, "video/iso.segment")...)
	path := filepath.Join(dir, "start.mp4")
	writeFile(t, path, whole)
	out, err := exec.Command("ffmpeg", "-hide_banner", "-v", "error", "-xerror", "-i", path, "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Fatalf("first segment does not play: %v\n%s", err, out)
	}

	ready, _ := pf.waitSettled(t, id, 5*time.Minute)
	if ready.State != "ready" {
		t.Fatalf("video ended %s: %s", ready.State, ready.FailureReason)
	}
	if *ready.HLSURL != *v.HLSURL {
		t.Errorf("the playlist moved: %s, then %s", *v.HLSURL, *ready.HLSURL)
	}
	final := string(get(t, playlistURL, "application/vnd.apple.mpegurl"))
	if finalInit, finalFirst := playlistStart(t, final); finalInit != init || finalFirst != first ||
		!strings.Contains(final, "#EXT-X-PLAYLIST-TYPE:VOD\n") || !strings.HasSuffix(final, "#EXT-X-ENDLIST\n") {
		t.Errorf("the playlist that grew from %s, %s is now:\n%s", init, first, final)
	}
	checkPlayable(t, pf, ready, 360)
	// A chunk may be encoded twice (a lease running out under load), never
	// fewer times than the plan has chunks.
	got := metricSum(t, pf.admins["encode"], "cloudflix_encode_jobs_total", `outcome="chunk_done"`)
	if got < float64(chunks) || chunks == 0 && got != 0 {
		t.Errorf("the encode workers encoded %v chunks, want %d", got, chunks)
	}
}

// playlistStart is the init segment and first media segment a media
// playlist names.
func playlistStart(t *testing.T, pl string) (init, first string) {
	t.Helper()
	for _, line := range strings.Split(pl, "\n") {
		if after, ok := strings.CutPrefix(line, `#EXT-X-MAP:URI="`); ok {
			init = strings.TrimSuffix(after, `"`)
		}
		if line != "" && !strings.HasPrefix(line, "#") && first == "" {
			first = line
		}
	}
	if init == "" || first == "" {
		t.Fatalf("playlist names no init or media segment:\n%s", pl)
	}
	return init, first
}
