package router

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/platform"
	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	pb "github.com/cloudflix/cloudflix/proto/cloudflix/v1"
)

func TestMediaKey(t *testing.T) {
	t.Parallel()
	for key, ok := range map[string]bool{
		"videos/v1/hls/master.m3u8":        true,
		"videos/v1/hls/720p/seg_00001.m4s": true,
		"videos/v1/thumb.jpg":              true,
		"sources/v1":                       false,
		"videos":                           false,
		"videos/":                          false,
		"videos/../sources/v1":             false,
		"videos/v1/../../sources/v1":       false,
		"videos/./v1/thumb.jpg":            false,
		"videos//v1/thumb.jpg":             false,
		"videos/v1/":                       false,
		`videos/v1\..\..\sources\v1`:       false,
		"videos/v1/thumb.jpg\x00.m3u8":     false,
		"/videos/v1/thumb.jpg":             false,
		"Videos/v1/thumb.jpg":              false,
	} {
		if got := mediaKey(key); got != ok {
			t.Errorf("mediaKey(%q) = %v, want %v", key, got, ok)
		}
	}
}

// mediaServer is the edge serving /media/ from a real object store over
// real HTTP, with the objects the media tests read.
type mediaServer struct {
	url    string
	client *http.Client
	store  blob.Store
	// segment is a few hundred KB, so that ranges start and end deep inside
	// it; init is small, so that a suffix can be longer than it.
	segment, init, playlist, thumb, storyboard []byte
}

const (
	segmentKey    = "videos/v1/hls/720p/seg_00001.m4s"
	initKey       = "videos/v1/hls/720p/init.mp4"
	playlistKey   = "videos/v1/hls/master.m3u8"
	thumbKey      = "videos/v1/thumb.jpg"
	storyboardKey = "videos/v1/storyboard.vtt"
	emptyKey      = "videos/v1/empty.vtt"
	sourceKey     = "sources/v1"
	sourceBody    = "the private original upload"
)

func newMediaServer(t *testing.T, p *platform.Process) mediaServer {
	t.Helper()
	store, _, err := p.Objects(t.Context())
	if err != nil {
		t.Fatalf("Objects: %v", err)
	}
	m := mediaServer{
		store:      store,
		segment:    make([]byte, 300_000+17),
		init:       append([]byte("\x00\x00\x00\x1cftypiso6\x00\x00\x02\x00iso6mp41"), make([]byte, 700)...),
		playlist:   []byte("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-STREAM-INF:BANDWIDTH=3000000\n720p/index.m3u8\n"),
		thumb:      []byte("\xff\xd8\xff\xe0 a thumbnail"),
		storyboard: []byte("WEBVTT\n\n00:00.000 --> 00:02.000\nstoryboard.jpg#xywh=0,0,160,90\n"),
	}
	_, _ = rand.Read(m.segment)
	_, _ = rand.Read(m.init[28:])
	for key, data := range map[string][]byte{
		segmentKey:    m.segment,
		initKey:       m.init,
		playlistKey:   m.playlist,
		thumbKey:      m.thumb,
		storyboardKey: m.storyboard,
		emptyKey:      {},
		sourceKey:     []byte(sourceBody),
	} {
		if err := store.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)), "application/octet-stream"); err != nil {
			t.Fatalf("Put %s: %v", key, err)
		}
	}
	srv := httptest.NewServer(edge(t, Options{Media: store, Logger: discardLogger(), Clients: Clients{Host: privacyHost()}}))
	t.Cleanup(srv.Close)
	m.url, m.client = srv.URL, srv.Client()
	return m
}

// do sends one request with the headers given as name, value pairs (an
// empty value sends none) and returns the response with its whole body.
func (m mediaServer) do(t *testing.T, method, path string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, m.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] != "" {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := m.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, body
}

// etag is the entity-tag the edge must give key: the store's, quoted.
func (m mediaServer) etag(t *testing.T, key string) string {
	t.Helper()
	info, err := m.store.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat %s: %v", key, err)
	}
	return quoteETag(info.ETag)
}

// TestMediaFromEachStore serves stored objects through the edge from both
// storage adapters (S3 and the local folder), over HTTP, and checks every
// body byte for byte: Range in each of its forms, the conditional
// requests, HEAD, the headers of each kind of object, and that nothing
// outside videos/ leaves.
func TestMediaFromEachStore(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		m := newMediaServer(t, p)
		t.Run("Full", m.testFull)
		t.Run("Ranges", m.testRanges)
		t.Run("UnsatisfiableRanges", m.testUnsatisfiable)
		t.Run("MultipleRanges", m.testMultipleRanges)
		t.Run("Conditional", m.testConditional)
		t.Run("Head", m.testHead)
		t.Run("Types", m.testTypes)
		t.Run("SourcesAreNeverServed", m.testSourcesHidden)
	})
}

func (m mediaServer) testFull(t *testing.T) {
	resp, body := m.do(t, "GET", "/media/"+segmentKey)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, m.segment) {
		t.Fatalf("GET: status %d, %d bytes; want 200 and the %d stored", resp.StatusCode, len(body), len(m.segment))
	}
	for header, want := range map[string]string{
		"Content-Length": strconv.Itoa(len(m.segment)),
		"Content-Type":   "video/iso.segment",
		"Cache-Control":  "public, max-age=31536000, immutable",
		"Accept-Ranges":  "bytes",
		"ETag":           m.etag(t, segmentKey),
	} {
		if got := resp.Header.Get(header); got != want {
			t.Errorf("%s = %q, want %q", header, got, want)
		}
	}
	if etag := resp.Header.Get("ETag"); len(etag) < 3 || !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) {
		t.Errorf("ETag %q is not a quoted entity-tag", etag)
	}
	if lm, err := http.ParseTime(resp.Header.Get("Last-Modified")); err != nil || time.Since(lm) > time.Hour || time.Until(lm) > time.Minute {
		t.Errorf("Last-Modified %q (%v), want about now", resp.Header.Get("Last-Modified"), err)
	}

	// An empty object has no byte a range could name: it is served whole.
	for _, rangeH := range []string{"", "bytes=0-", "bytes=-5"} {
		resp, body := m.do(t, "GET", "/media/"+emptyKey, "Range", rangeH)
		if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.Header.Get("Content-Length") != "0" {
			t.Errorf("empty object, Range %q: status %d, %d bytes, Content-Length %q; want 200 and nothing", rangeH, resp.StatusCode, len(body), resp.Header.Get("Content-Length"))
		}
	}
}

func (m mediaServer) testRanges(t *testing.T) {
	seg, small := len(m.segment), len(m.init)
	for _, c := range []struct {
		key        string
		data       []byte
		rangeH     string
		start, end int // the bytes served: data[start:end]
	}{
		{segmentKey, m.segment, "bytes=0-99", 0, 100},
		{segmentKey, m.segment, "bytes=100-", 100, seg},
		{segmentKey, m.segment, "bytes=-100", seg - 100, seg},
		{segmentKey, m.segment, "bytes=123456-234567", 123456, 234568},
		{segmentKey, m.segment, fmt.Sprintf("bytes=%d-%d", seg-1, seg-1), seg - 1, seg},
		// A range running past the end is cut to it.
		{segmentKey, m.segment, fmt.Sprintf("bytes=%d-%d", seg-10, seg+1000), seg - 10, seg},
		// A suffix longer than the object is the whole object.
		{initKey, m.init, "bytes=-100000", 0, small},
		{initKey, m.init, "bytes=0-", 0, small},
		{initKey, m.init, "bytes=28-31", 28, 32},
	} {
		resp, body := m.do(t, "GET", "/media/"+c.key, "Range", c.rangeH)
		if resp.StatusCode != http.StatusPartialContent {
			t.Errorf("%s of %s: status %d, want 206", c.rangeH, c.key, resp.StatusCode)
			continue
		}
		if !bytes.Equal(body, c.data[c.start:c.end]) {
			t.Errorf("%s of %s: %d bytes that are not bytes %d to %d", c.rangeH, c.key, len(body), c.start, c.end-1)
		}
		want := fmt.Sprintf("bytes %d-%d/%d", c.start, c.end-1, len(c.data))
		if got := resp.Header.Get("Content-Range"); got != want {
			t.Errorf("%s of %s: Content-Range %q, want %q", c.rangeH, c.key, got, want)
		}
		if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(c.end-c.start) {
			t.Errorf("%s of %s: Content-Length %q, want %d", c.rangeH, c.key, got, c.end-c.start)
		}
		if got := resp.Header.Get("ETag"); got != m.etag(t, c.key) {
			t.Errorf("%s of %s: ETag %q, want the object's", c.rangeH, c.key, got)
		}
	}
}

func (m mediaServer) testUnsatisfiable(t *testing.T) {
	seg := len(m.segment)
	for _, rangeH := range []string{
		fmt.Sprintf("bytes=%d-", seg),
		fmt.Sprintf("bytes=%d-%d", seg+10, seg+20),
		// A suffix of no byte names none (RFC 9110 §14.1.1).
		"bytes=-0",
		"bytes= -000",
	} {
		resp, body := m.do(t, "GET", "/media/"+segmentKey, "Range", rangeH)
		if resp.StatusCode != http.StatusRequestedRangeNotSatisfiable {
			t.Errorf("%s: status %d, want 416", rangeH, resp.StatusCode)
			continue
		}
		if want := fmt.Sprintf("bytes */%d", seg); resp.Header.Get("Content-Range") != want {
			t.Errorf("%s: Content-Range %q, want %q", rangeH, resp.Header.Get("Content-Range"), want)
		}
		if bytes.Contains(body, m.segment[:64]) {
			t.Errorf("%s: the 416 carries the object", rangeH)
		}
	}
}

// A request for several ranges gets the whole object: each range would be
// a storage read of its own.
func (m mediaServer) testMultipleRanges(t *testing.T) {
	for _, rangeH := range []string{"bytes=0-9,1000-1099,-5", "bytes=0-0,2-2", "bytes=-0,-0"} {
		resp, body := m.do(t, "GET", "/media/"+segmentKey, "Range", rangeH)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, m.segment) {
			t.Errorf("%s: status %d, %d bytes; want 200 and the whole object", rangeH, resp.StatusCode, len(body))
		}
		if got := resp.Header.Get("Content-Type"); got != "video/iso.segment" {
			t.Errorf("%s: Content-Type %q, want video/iso.segment", rangeH, got)
		}
	}
	// Empty elements of the list are no ranges.
	resp, body := m.do(t, "GET", "/media/"+segmentKey, "Range", "bytes=, 10-19 ,")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, m.segment[10:20]) {
		t.Errorf("one range among empty elements: status %d, %d bytes; want 206 and bytes 10 to 19", resp.StatusCode, len(body))
	}
}

func (m mediaServer) testConditional(t *testing.T) {
	etag := m.etag(t, segmentKey)
	resp, body := m.do(t, "GET", "/media/"+segmentKey, "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match with the ETag: status %d, %d bytes; want 304 and none", resp.StatusCode, len(body))
	}
	if got := resp.Header.Get("ETag"); got != etag {
		t.Errorf("304 ETag %q, want %q", got, etag)
	}
	resp, body = m.do(t, "GET", "/media/"+segmentKey, "If-None-Match", `"not-the-etag", `+etag)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match with a list holding the ETag: status %d, %d bytes; want 304", resp.StatusCode, len(body))
	}
	resp, body = m.do(t, "GET", "/media/"+segmentKey, "If-None-Match", `"not-the-etag"`)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, m.segment) {
		t.Errorf("If-None-Match with another ETag: status %d, %d bytes; want 200 and the object", resp.StatusCode, len(body))
	}
	full, _ := m.do(t, "HEAD", "/media/"+segmentKey)
	lastModified := full.Header.Get("Last-Modified")
	resp, body = m.do(t, "GET", "/media/"+segmentKey, "If-Modified-Since", lastModified)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-Modified-Since its Last-Modified: status %d, %d bytes; want 304", resp.StatusCode, len(body))
	}

	// If-Range: the range when the object is still the one the client
	// holds part of, else the whole object.
	for _, c := range []struct {
		ifRange string
		partial bool
	}{
		{etag, true},
		{`"an-older-version"`, false},
		{lastModified, true},
		{"Mon, 02 Jan 2006 15:04:05 GMT", false},
	} {
		resp, body := m.do(t, "GET", "/media/"+segmentKey, "Range", "bytes=-100", "If-Range", c.ifRange)
		switch {
		case c.partial && (resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, m.segment[len(m.segment)-100:])):
			t.Errorf("If-Range %s: status %d, %d bytes; want 206 and the last 100", c.ifRange, resp.StatusCode, len(body))
		case !c.partial && (resp.StatusCode != http.StatusOK || !bytes.Equal(body, m.segment)):
			t.Errorf("If-Range %s: status %d, %d bytes; want 200 and the whole object", c.ifRange, resp.StatusCode, len(body))
		}
	}
}

func (m mediaServer) testHead(t *testing.T) {
	resp, body := m.do(t, "HEAD", "/media/"+segmentKey)
	if resp.StatusCode != http.StatusOK || len(body) != 0 {
		t.Errorf("HEAD: status %d, %d body bytes; want 200 and none", resp.StatusCode, len(body))
	}
	for header, want := range map[string]string{
		"Content-Length": strconv.Itoa(len(m.segment)),
		"Content-Type":   "video/iso.segment",
		"Accept-Ranges":  "bytes",
		"ETag":           m.etag(t, segmentKey),
	} {
		if got := resp.Header.Get(header); got != want {
			t.Errorf("HEAD %s = %q, want %q", header, got, want)
		}
	}
	resp, body = m.do(t, "HEAD", "/media/"+segmentKey, "Range", "bytes=100-199")
	if resp.StatusCode != http.StatusPartialContent || len(body) != 0 || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 100-199/%d", len(m.segment)) {
		t.Errorf("HEAD with Range: status %d, Content-Range %q, %d body bytes", resp.StatusCode, resp.Header.Get("Content-Range"), len(body))
	}
}

func (m mediaServer) testTypes(t *testing.T) {
	for _, c := range []struct {
		key, contentType, cacheControl string
		data                           []byte
	}{
		{playlistKey, "application/vnd.apple.mpegurl", "public, max-age=60", m.playlist},
		{storyboardKey, "text/vtt", "public, max-age=60", m.storyboard},
		{thumbKey, "image/jpeg", "public, max-age=31536000, immutable", m.thumb},
		{initKey, "video/mp4", "public, max-age=31536000, immutable", m.init},
	} {
		resp, body := m.do(t, "GET", "/media/"+c.key)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(body, c.data) {
			t.Errorf("GET %s: status %d, %d bytes; want 200 and the %d stored", c.key, resp.StatusCode, len(body), len(c.data))
		}
		// Parameters (a charset) are the type's own business.
		if got, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || got != c.contentType {
			t.Errorf("%s: Content-Type %q, want %s", c.key, resp.Header.Get("Content-Type"), c.contentType)
		}
		if got := resp.Header.Get("Cache-Control"); got != c.cacheControl {
			t.Errorf("%s: Cache-Control %q, want %q", c.key, got, c.cacheControl)
		}
	}
}

func (m mediaServer) testSourcesHidden(t *testing.T) {
	for _, path := range []string{
		"/media/" + sourceKey,
		"/media/videos/../" + sourceKey,
		"/media/videos/%2e%2e/" + sourceKey,
		"/media/videos%2F..%2F" + strings.ReplaceAll(sourceKey, "/", "%2F"),
		"/media/videos/v1/../../" + sourceKey,
		"/media/videos//../" + sourceKey,
		"/media/videos/v9/thumb.jpg",
		"/media/videos/v1",
		"/media/videos/v1/",
	} {
		for _, method := range []string{"GET", "HEAD"} {
			resp, body := m.do(t, method, path, "Range", "bytes=0-")
			if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), "private") {
				t.Errorf("%s %s: status %d, body %q; want 404", method, path, resp.StatusCode, body)
			}
		}
	}
	// Whatever a router in front of it cleans, the handler itself refuses
	// a key outside videos/.
	a := &api{media: m.store, log: discardLogger(), gates: newGates(Admission{}, newMetrics(nil))}
	for _, key := range []string{sourceKey, "videos/../" + sourceKey, "videos//../" + sourceKey, "videos/./../" + sourceKey} {
		r := httptest.NewRequest("GET", "/media/x", nil)
		r.SetPathValue("key", key)
		w := httptest.NewRecorder()
		a.endpoint((*api).serveMedia).ServeHTTP(w, r)
		if w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), "private") {
			t.Errorf("key %q: status %d %q", key, w.Code, w.Body)
		}
	}
}

// privacyHost knows two videos: v1, public, and v2, private.
func privacyHost() *hostClient {
	return &hostClient{get: func(in *pb.GetVideoRequest) (*pb.Video, error) {
		switch in.GetId() {
		case "v1":
			return &pb.Video{Id: "v1", Privacy: pb.VideoPrivacy_VIDEO_PRIVACY_PUBLIC}, nil
		case "v2":
			return nil, status.Error(codes.NotFound, "video v2: not found") // private: a visitor cannot see it
		}
		return nil, status.Error(codes.NotFound, "not found")
	}}
}

// The media of a video that is not public is served only under a link the
// edge signed, privately cached, until the link expires.
func TestPrivateMediaNeedsASignedLink(t *testing.T) {
	t.Parallel()
	platformtest.Each(t, func(t *testing.T, p *platform.Process) {
		m := newMediaServer(t, p)
		const privateKey = "videos/v2/hls/720p/seg_00001.m4s"
		body := []byte("a private segment")
		if err := m.store.Put(t.Context(), privateKey, bytes.NewReader(body), int64(len(body)), "video/iso.segment"); err != nil {
			t.Fatal(err)
		}
		a := &api{mediaKey: testMediaKey}
		now := time.Now()
		signed := a.signedMediaPath("v2", privateKey, now)

		if resp, _ := m.do(t, "GET", "/media/"+privateKey); resp.StatusCode != http.StatusNotFound {
			t.Errorf("private media without a signature = %d, want 404", resp.StatusCode)
		}
		resp, got := m.do(t, "GET", signed)
		if resp.StatusCode != http.StatusOK || !bytes.Equal(got, body) || !strings.HasPrefix(resp.Header.Get("Cache-Control"), "private") {
			t.Errorf("signed link = %d %q (Cache-Control %q), want the segment, privately cached", resp.StatusCode, got, resp.Header.Get("Cache-Control"))
		}
		// A playlist's relative paths stay under the signed prefix.
		rel := strings.TrimSuffix(signed, "720p/seg_00001.m4s") + "720p/seg_00001.m4s"
		if resp, _ := m.do(t, "GET", rel); resp.StatusCode != http.StatusOK {
			t.Errorf("a path resolved against the signed prefix = %d", resp.StatusCode)
		}

		parts := strings.SplitN(strings.TrimPrefix(signed, signedPrefix), "/", 3) // expires, signature, key
		tampered := signedPrefix + parts[0] + "/" + strings.Repeat("A", len(parts[1])) + "/" + parts[2]
		later := signedPrefix + strconv.FormatInt(now.Add(48*time.Hour).Unix(), 10) + "/" + parts[1] + "/" + parts[2]
		otherVideo := signedPrefix + parts[0] + "/" + parts[1] + "/" + strings.Replace(parts[2], "v2", "v1", 1)
		expired := a.signedMediaPath("v2", privateKey, now.Add(-2*mediaLinkTTL-2*time.Hour))
		for name, path := range map[string]string{"a forged signature": tampered, "a moved expiry": later, "another video's path": otherVideo} {
			if resp, _ := m.do(t, "GET", path); resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s = %d, want 404", name, resp.StatusCode)
			}
		}
		if resp, _ := m.do(t, "GET", expired); resp.StatusCode != http.StatusForbidden {
			t.Errorf("an expired link = %d, want 403", resp.StatusCode)
		}
		if !strings.Contains(signed, "/videos/v2/") || (a.signedMediaPath("v2", privateKey, now) != signed) {
			t.Errorf("links signed within the hour differ, so they would not stay cached: %s", signed)
		}
	})
}
