package router

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/testenv"
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

// s3Media opens objects of a real S3 bucket, as the production blob
// adapter does, so that the media route is tested on real ETags, sizes
// and ranged reads.
type s3Media struct {
	client *minio.Client
	bucket string
}

type s3Object struct {
	*minio.Object
	info blob.ObjectInfo
}

func (o s3Object) Info() blob.ObjectInfo { return o.info }

func (m s3Media) Open(ctx context.Context, key string) (blob.Object, error) {
	obj, err := m.client.GetObject(ctx, m.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, err
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return nil, blob.ErrNotFound
		}
		return nil, err
	}
	return s3Object{obj, blob.ObjectInfo{Key: key, Size: st.Size, ETag: st.ETag, ContentType: st.ContentType, LastModified: st.LastModified}}, nil
}

func newS3Media(t *testing.T, objects map[string][]byte) s3Media {
	t.Helper()
	env := testenv.S3Bucket(t)
	c, err := minio.New(env.Endpoint, &minio.Options{Creds: credentials.NewStaticV4(env.AccessKey, env.SecretKey, "")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.MakeBucket(ctx, env.Bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket: %v", err)
	}
	t.Cleanup(func() {
		for key := range objects {
			_ = c.RemoveObject(ctx, env.Bucket, key, minio.RemoveObjectOptions{})
		}
		if err := c.RemoveBucket(ctx, env.Bucket); err != nil {
			t.Logf("remove bucket: %v", err)
		}
	})
	for key, data := range objects {
		if _, err := c.PutObject(ctx, env.Bucket, key, bytes.NewReader(data), int64(len(data)), minio.PutObjectOptions{}); err != nil {
			t.Fatalf("put %s: %v", key, err)
		}
	}
	return s3Media{client: c, bucket: env.Bucket}
}

func TestMediaFromS3(t *testing.T) {
	t.Parallel()
	segment := make([]byte, 4096)
	_, _ = rand.Read(segment)
	playlist := []byte("#EXTM3U\n#EXT-X-VERSION:7\n")
	objects := map[string][]byte{
		"videos/v1/hls/master.m3u8":        playlist,
		"videos/v1/hls/720p/seg_00001.m4s": segment,
		"videos/v1/thumb.jpg":              []byte("\xff\xd8\xff\xe0 not really a jpeg"),
		"sources/v1":                       []byte("the private original"),
	}
	h := New(Options{Media: newS3Media(t, objects), Logger: discardLogger()})

	w := serve(t, h, "GET", "/media/videos/v1/hls/master.m3u8", "")
	if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), playlist) {
		t.Fatalf("playlist: %d %q", w.Code, w.Body)
	}
	etag := w.Header().Get("ETag")
	for header, want := range map[string]string{
		"Content-Type":  "application/vnd.apple.mpegurl",
		"Cache-Control": "public, max-age=60",
		"Accept-Ranges": "bytes",
	} {
		if got := w.Header().Get(header); got != want {
			t.Errorf("playlist %s = %q, want %q", header, got, want)
		}
	}
	if len(etag) < 3 || etag[0] != '"' || etag[len(etag)-1] != '"' {
		t.Errorf("ETag %q is not a quoted entity-tag", etag)
	}
	if w.Header().Get("Last-Modified") == "" {
		t.Error("no Last-Modified")
	}

	r := httptest.NewRequest("GET", "/media/videos/v1/hls/master.m3u8", nil)
	r.Header.Set("If-None-Match", etag)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusNotModified {
		t.Errorf("If-None-Match with the ETag: status %d, want 304", w.Code)
	}

	r = httptest.NewRequest("GET", "/media/videos/v1/hls/720p/seg_00001.m4s", nil)
	r.Header.Set("Range", "bytes=100-199")
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusPartialContent || !bytes.Equal(w.Body.Bytes(), segment[100:200]) {
		t.Errorf("Range: status %d, %d bytes", w.Code, w.Body.Len())
	}
	if got := w.Header().Get("Content-Range"); got != "bytes 100-199/4096" {
		t.Errorf("Content-Range = %q", got)
	}
	if got := w.Header().Get("Content-Type"); got != "video/iso.segment" {
		t.Errorf("segment Content-Type = %q", got)
	}
	if got := w.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("segment Cache-Control = %q", got)
	}

	w = serve(t, h, "HEAD", "/media/videos/v1/thumb.jpg", "")
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "image/jpeg" || w.Body.Len() != 0 {
		t.Errorf("HEAD thumb: %d %q, %d body bytes", w.Code, w.Header().Get("Content-Type"), w.Body.Len())
	}

	for _, target := range []string{"/media/sources/v1", "/media/videos/v9/thumb.jpg", "/media/videos/v1"} {
		w = serve(t, h, "GET", target, "")
		if w.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", target, w.Code)
			continue
		}
		if e := errorOf(t, w); e.Code != "not_found" {
			t.Errorf("%s: error %+v", target, e)
		}
	}

	// ServeMux cleans "..", so a traversal never reaches the handler through
	// it; the handler refuses one on its own all the same.
	w = serve(t, h, "GET", "/media/videos/../sources/v1", "")
	if w.Code == http.StatusOK || strings.Contains(w.Body.String(), "private") {
		t.Errorf("traversal through the mux: %d %q", w.Code, w.Body)
	}
	a := &api{media: newS3Media(t, nil), log: discardLogger()}
	for _, key := range []string{"videos/../sources/v1", "videos//../sources/v1", "videos/./../sources/v1"} {
		r := httptest.NewRequest("GET", "/media/x", nil)
		r.SetPathValue("key", key)
		w := httptest.NewRecorder()
		a.endpoint((*api).serveMedia).ServeHTTP(w, r)
		body, _ := io.ReadAll(w.Body)
		if w.Code != http.StatusNotFound || strings.Contains(string(body), "private") {
			t.Errorf("key %q: status %d %q", key, w.Code, body)
		}
	}
}
