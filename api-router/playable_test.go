package router

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

// A video still encoding is playable once its start is published: its
// JSON says so, how far, and gives the master playlist; the thumbnail and
// storyboard come when it is ready.
func TestPlayableWhileProcessing(t *testing.T) {
	t.Parallel()
	a := &api{mediaKey: testMediaKey}
	for _, c := range []struct {
		name     string
		v        *pb.Video
		playable bool
		seconds  float64
		hls      bool
		thumb    bool
	}{
		{"uploaded", &pb.Video{State: pb.VideoState_VIDEO_STATE_UPLOADED}, false, 0, false, false},
		{"processing, nothing published", &pb.Video{State: pb.VideoState_VIDEO_STATE_PROCESSING, DurationSeconds: 30}, false, 0, false, false},
		{"processing, 6 s published", &pb.Video{State: pb.VideoState_VIDEO_STATE_PROCESSING, PlayableSeconds: 6, DurationSeconds: 30}, true, 6, true, false},
		{"ready", &pb.Video{State: pb.VideoState_VIDEO_STATE_READY, PlayableSeconds: 28, DurationSeconds: 30}, true, 30, true, true},
		{"failed after publishing", &pb.Video{State: pb.VideoState_VIDEO_STATE_FAILED, PlayableSeconds: 6, DurationSeconds: 30}, false, 0, false, false},
	} {
		c.v.Id, c.v.Privacy = "v1", pb.VideoPrivacy_VIDEO_PRIVACY_PUBLIC
		got := a.videoToJSON(c.v)
		if got.Playable != c.playable || got.PlayableSeconds != c.seconds || (got.HLSURL != nil) != c.hls || (got.ThumbnailURL != nil) != c.thumb {
			t.Errorf("%s: playable %t, %.0f s, hls_url %v, thumbnail_url %v", c.name, got.Playable, got.PlayableSeconds, got.HLSURL, got.ThumbnailURL)
		}
		if c.hls && !strings.HasSuffix(*got.HLSURL, "/media/videos/v1/hls/master.m3u8") {
			t.Errorf("%s: hls_url %s", c.name, *got.HLSURL)
		}
	}
}

// A growing playlist is revalidated on every request, publicly or under a
// signed link; a finished one keeps its life, and so do segments.
func TestGrowingPlaylistsAreRevalidated(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		m := newMediaServer(t, p)
		event := []byte("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-TARGETDURATION:2\n#EXT-X-MAP:URI=\"a1-init_720p.mp4\"\n#EXTINF:2.000000,\na1-seg_00000.m4s\n")
		vod := append(bytes.Replace(event, []byte("EVENT"), []byte("VOD"), 1), "#EXT-X-ENDLIST\n"...)
		objects := map[string][]byte{
			"videos/v1/hls/720p/index.m3u8": event,
			"videos/v1/hls/360p/index.m3u8": vod,
			"videos/v2/hls/720p/index.m3u8": event,
		}
		for key, body := range objects {
			if err := m.store.Put(t.Context(), key, bytes.NewReader(body), int64(len(body)), "application/vnd.apple.mpegurl"); err != nil {
				t.Fatal(err)
			}
		}
		a := &api{mediaKey: testMediaKey}
		for _, c := range []struct {
			path, key, caching string
		}{
			{"/media/videos/v1/hls/720p/index.m3u8", "videos/v1/hls/720p/index.m3u8", "public, no-cache"},
			{"/media/videos/v1/hls/360p/index.m3u8", "videos/v1/hls/360p/index.m3u8", "public, max-age=60"},
			{a.signedMediaPath("v2", "videos/v2/hls/720p/index.m3u8", time.Now()), "videos/v2/hls/720p/index.m3u8", "private, no-cache"},
			{"/media/" + segmentKey, segmentKey, "public, max-age=31536000, immutable"},
		} {
			resp, body := m.do(t, "GET", c.path)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != c.caching {
				t.Errorf("%s = %d, Cache-Control %q, want %q", c.key, resp.StatusCode, resp.Header.Get("Cache-Control"), c.caching)
			}
			if want, ok := objects[c.key]; ok && !bytes.Equal(body, want) {
				t.Errorf("%s: body %q, want the whole playlist", c.key, body)
			}
		}
		// Looking at its type leaves a playlist whole for a range request.
		resp, body := m.do(t, "GET", "/media/videos/v1/hls/720p/index.m3u8", "Range", "bytes=0-6")
		if resp.StatusCode != http.StatusPartialContent || string(body) != "#EXTM3U" {
			t.Errorf("range of a growing playlist = %d %q", resp.StatusCode, body)
		}
	})
}
