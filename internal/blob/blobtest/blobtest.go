// Package blobtest is the contract every CloudFlix object storage adapter
// must pass: the S3 adapter and the local-directory adapter run the same Run
// against their real backends. It only exercises an adapter through its
// methods and plain HTTP, so it must never depend on an adapter's internals.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/cloudflix/cloudflix/internal/blob"
)

// Store is what an object storage adapter provides.
type Store = blob.Store

// MinPartSize is the smallest part S3 accepts for any part but the last.
const MinPartSize = 5 << 20

// Run runs the contract against stores made by open. open is called once per
// subtest and must return a ready (bucket created), empty store of that
// test's own, removed at the test's cleanup; subtests run in parallel.
func Run(t *testing.T, open func(t *testing.T) Store) {
	t.Run("Ping", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
	t.Run("EnsureBucketIsIdempotent", func(t *testing.T) {
		t.Parallel()
		s := open(t)
		var g errgroup.Group
		for range 3 {
			g.Go(func() error { return s.EnsureBucket(t.Context()) })
		}
		if err := g.Wait(); err != nil {
			t.Fatalf("EnsureBucket on an existing bucket: %v", err)
		}
	})
	t.Run("PutOpenStat", func(t *testing.T) { t.Parallel(); testPutOpenStat(t, open(t)) })
	t.Run("ETag", func(t *testing.T) { t.Parallel(); testETag(t, open(t)) })
	t.Run("SeekAndReadRanges", func(t *testing.T) { t.Parallel(); testSeek(t, open(t)) })
	t.Run("NotFound", func(t *testing.T) { t.Parallel(); testNotFound(t, open(t)) })
	t.Run("PutFileAndDownload", func(t *testing.T) { t.Parallel(); testPutFileAndDownload(t, open(t)) })
	t.Run("DeletePrefix", func(t *testing.T) { t.Parallel(); testDeletePrefix(t, open(t)) })
	t.Run("Multipart", func(t *testing.T) { t.Parallel(); testMultipart(t, open(t)) })
	t.Run("MultipartResume", func(t *testing.T) { t.Parallel(); testMultipartResume(t, open(t)) })
	t.Run("MultipartAbort", func(t *testing.T) { t.Parallel(); testMultipartAbort(t, open(t)) })
	t.Run("PresignedURLExpires", func(t *testing.T) { t.Parallel(); testPresignExpiry(t, open(t)) })
	t.Run("PartURLBindsLength", func(t *testing.T) { t.Parallel(); testPartLength(t, open(t)) })
	t.Run("PartCutShortWithMD5", func(t *testing.T) { t.Parallel(); testPartCutShort(t, open(t)) })
	t.Run("List", func(t *testing.T) { t.Parallel(); testList(t, open(t)) })
	t.Run("Delete", func(t *testing.T) { t.Parallel(); testDelete(t, open(t)) })
}

func testPutOpenStat(t *testing.T, s Store) {
	ctx := t.Context()
	data := randomBytes(1, 100_000)
	before := time.Now().Add(-time.Minute)
	if err := s.Put(ctx, "videos/a/thumb.jpg", bytes.NewReader(data), int64(len(data)), "image/jpeg"); err != nil {
		t.Fatalf("Put: %v", err)
	}
	info, err := s.Stat(ctx, "videos/a/thumb.jpg")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.Key != "videos/a/thumb.jpg" || info.Size != int64(len(data)) || info.ContentType != "image/jpeg" || info.ETag == "" {
		t.Errorf("Stat = %+v, want key videos/a/thumb.jpg, size %d, type image/jpeg and an ETag", info, len(data))
	}
	if info.LastModified.Before(before) || info.LastModified.After(time.Now().Add(time.Minute)) {
		t.Errorf("LastModified = %v, want about now", info.LastModified)
	}
	o, err := s.Open(ctx, "videos/a/thumb.jpg")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer o.Close()
	if got := o.Info(); got.Size != info.Size || got.ETag != info.ETag || got.ContentType != info.ContentType || got.Key != info.Key {
		t.Errorf("Open().Info() = %+v, want it to agree with Stat %+v", got, info)
	}
	got, err := io.ReadAll(o)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("read %d bytes that differ from the %d put", len(got), len(data))
	}
}

func testETag(t *testing.T, s Store) {
	ctx := t.Context()
	put := func(data []byte) {
		t.Helper()
		if err := s.Put(ctx, "k", bytes.NewReader(data), int64(len(data)), "application/octet-stream"); err != nil {
			t.Fatalf("Put: %v", err)
		}
	}
	stat := func() blob.ObjectInfo {
		t.Helper()
		info, err := s.Stat(ctx, "k")
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		return info
	}
	put([]byte("first version"))
	first := stat()
	if first.ETag == "" {
		t.Fatal("no ETag")
	}
	if again := stat(); again.ETag != first.ETag {
		t.Errorf("ETag changed without a write: %q then %q", first.ETag, again.ETag)
	}
	put([]byte("second version, longer"))
	if second := stat(); second.ETag == first.ETag {
		t.Errorf("ETag %q did not change when the content did", second.ETag)
	}
}

func testSeek(t *testing.T, s Store) {
	ctx := t.Context()
	data := randomBytes(2, 3<<20+17)
	if err := s.Put(ctx, "seg.m4s", bytes.NewReader(data), int64(len(data)), "video/iso.segment"); err != nil {
		t.Fatalf("Put: %v", err)
	}
	o, err := s.Open(ctx, "seg.m4s")
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer o.Close()
	size := int64(len(data))
	for _, c := range []struct {
		offset int64
		whence int
		at     int64 // resulting absolute offset
		n      int
	}{
		{1 << 20, io.SeekStart, 1 << 20, 1000},
		{0, io.SeekStart, 0, 10},
		{-100, io.SeekEnd, size - 100, 100},
		{-(1 << 20), io.SeekCurrent, size - 1<<20, 4096},
		{size - 1, io.SeekStart, size - 1, 1},
	} {
		pos, err := o.Seek(c.offset, c.whence)
		if err != nil {
			t.Fatalf("Seek(%d, %d): %v", c.offset, c.whence, err)
		}
		if pos != c.at {
			t.Fatalf("Seek(%d, %d) = %d, want %d", c.offset, c.whence, pos, c.at)
		}
		buf := make([]byte, c.n)
		if _, err := io.ReadFull(o, buf); err != nil {
			t.Fatalf("read %d bytes at %d: %v", c.n, c.at, err)
		}
		if !bytes.Equal(buf, data[c.at:c.at+int64(c.n)]) {
			t.Errorf("bytes at %d..%d differ", c.at, c.at+int64(c.n))
		}
	}
	if n, err := o.Read(make([]byte, 10)); n != 0 || err != io.EOF {
		t.Errorf("Read at the end = %d, %v; want 0, io.EOF", n, err)
	}
	// http.ServeContent finds the size this way before serving a range.
	if end, err := o.Seek(0, io.SeekEnd); err != nil || end != size {
		t.Errorf("Seek(0, SeekEnd) = %d, %v; want %d", end, err, size)
	}
	if _, err := o.Seek(0, io.SeekStart); err != nil {
		t.Fatalf("Seek to start: %v", err)
	}
	all, err := io.ReadAll(o)
	if err != nil || !bytes.Equal(all, data) {
		t.Errorf("reading all after seeking back: %d bytes, %v; want the %d put", len(all), err, len(data))
	}
}

func testNotFound(t *testing.T, s Store) {
	ctx := t.Context()
	if _, err := s.Stat(ctx, "no/such/key"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat of a missing key: %v, want blob.ErrNotFound", err)
	}
	if o, err := s.Open(ctx, "no/such/key"); !errors.Is(err, blob.ErrNotFound) {
		if err == nil {
			o.Close()
		}
		t.Errorf("Open of a missing key: %v, want blob.ErrNotFound", err)
	}
	path := filepath.Join(t.TempDir(), "out")
	if err := s.Download(ctx, "no/such/key", path); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Download of a missing key: %v, want blob.ErrNotFound", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed Download left %s behind (stat: %v)", path, err)
	}
	if _, err := s.ListParts(ctx, "no/such/key", "no-such-upload"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("ListParts of an unknown upload: %v, want blob.ErrNotFound", err)
	}
}

func testPutFileAndDownload(t *testing.T, s Store) {
	ctx := t.Context()
	dir := t.TempDir()
	data := randomBytes(3, 2<<20+5)
	src := filepath.Join(dir, "master.m3u8")
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFile(ctx, "videos/b/hls/master.m3u8", src, "application/vnd.apple.mpegurl"); err != nil {
		t.Fatalf("PutFile: %v", err)
	}
	info, err := s.Stat(ctx, "videos/b/hls/master.m3u8")
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	if info.Size != int64(len(data)) || info.ContentType != "application/vnd.apple.mpegurl" {
		t.Errorf("Stat = %+v, want size %d and the content type given", info, len(data))
	}
	dst := filepath.Join(dir, "downloaded")
	if err := s.Download(ctx, "videos/b/hls/master.m3u8", dst); err != nil {
		t.Fatalf("Download: %v", err)
	}
	got, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("downloaded %d bytes that differ from the %d stored", len(got), len(data))
	}
	// Downloading again replaces the file rather than appending to it.
	if err := s.Download(ctx, "videos/b/hls/master.m3u8", dst); err != nil {
		t.Fatalf("Download again: %v", err)
	}
	if fi, err := os.Stat(dst); err != nil || fi.Size() != int64(len(data)) {
		t.Errorf("second download: size %v, %v; want %d", fi.Size(), err, len(data))
	}
}

func testDeletePrefix(t *testing.T, s Store) {
	ctx := t.Context()
	doomed := []string{"videos/1/hls/master.m3u8", "videos/1/hls/720p/seg0.m4s", "videos/1/thumb.jpg"}
	// No key is both an object and a folder ("videos/1" and "videos/1/x"):
	// file-system backends cannot hold that, and CloudFlix never needs it.
	kept := []string{"videos/10/thumb.jpg", "videos/2/thumb.jpg", "videos/1.jpg", "sources/1"}
	for _, k := range append(append([]string{}, doomed...), kept...) {
		if err := s.Put(ctx, k, strings.NewReader(k), int64(len(k)), "text/plain"); err != nil {
			t.Fatalf("Put %s: %v", k, err)
		}
	}
	if err := s.DeletePrefix(ctx, "videos/1/"); err != nil {
		t.Fatalf("DeletePrefix: %v", err)
	}
	for _, k := range doomed {
		if _, err := s.Stat(ctx, k); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("%s under the prefix: Stat = %v, want blob.ErrNotFound", k, err)
		}
	}
	for _, k := range kept {
		if _, err := s.Stat(ctx, k); err != nil {
			t.Errorf("%s outside the prefix: Stat = %v, want it kept", k, err)
		}
	}
	if err := s.DeletePrefix(ctx, "videos/1/"); err != nil {
		t.Errorf("DeletePrefix with nothing left: %v", err)
	}
}

// parts returns the bytes of an upload split like a client would: full
// MinPartSize parts and a short last one.
func parts(seed uint64) [][]byte {
	data := randomBytes(seed, 2*MinPartSize+1<<20+123)
	return [][]byte{data[:MinPartSize], data[MinPartSize : 2*MinPartSize], data[2*MinPartSize:]}
}

func testMultipart(t *testing.T, s Store) {
	ctx := t.Context()
	const key = "sources/mp"
	chunks := parts(4)
	id, err := s.CreateMultipart(ctx, key, "video/mp4")
	if err != nil {
		t.Fatalf("CreateMultipart: %v", err)
	}
	uploaded := make([]blob.Part, len(chunks))
	// Clients upload parts in parallel; the server must not need them in order.
	g, gctx := errgroup.WithContext(ctx)
	for i, c := range chunks {
		g.Go(func() error {
			etag, err := putPart(gctx, s, key, id, i+1, c, 5*time.Minute)
			uploaded[i] = blob.Part{Number: i + 1, Size: int64(len(c)), ETag: etag}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	info, err := s.CompleteMultipart(ctx, key, id, uploaded)
	if err != nil {
		t.Fatalf("CompleteMultipart: %v", err)
	}
	want := bytes.Join(chunks, nil)
	if info.Key != key || info.Size != int64(len(want)) || info.ETag == "" || info.ContentType != "video/mp4" {
		t.Errorf("CompleteMultipart = %+v, want key %s, size %d, type video/mp4 and an ETag", info, key, len(want))
	}
	if st, err := s.Stat(ctx, key); err != nil || st.Size != info.Size || st.ETag != info.ETag {
		t.Errorf("Stat after complete = %+v, %v; want it to agree with %+v", st, err, info)
	}
	checkContent(t, s, key, want)
	if _, err := s.ListParts(ctx, key, id); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("ListParts of a completed upload: %v, want blob.ErrNotFound", err)
	}
}

func testMultipartResume(t *testing.T, s Store) {
	ctx := t.Context()
	const key = "sources/resumed"
	chunks := parts(5)
	id, err := s.CreateMultipart(ctx, key, "video/webm")
	if err != nil {
		t.Fatalf("CreateMultipart: %v", err)
	}
	if ps, err := s.ListParts(ctx, key, id); err != nil || len(ps) != 0 {
		t.Fatalf("ListParts of a new upload = %v, %v; want none", ps, err)
	}
	// The client stored parts 2 and 1, then was interrupted.
	etags := map[int]string{}
	for _, n := range []int{2, 1} {
		etag, err := putPart(ctx, s, key, id, n, chunks[n-1], 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		etags[n] = etag
	}
	listed, err := s.ListParts(ctx, key, id)
	if err != nil {
		t.Fatalf("ListParts: %v", err)
	}
	if len(listed) != 2 {
		t.Fatalf("ListParts = %+v, want parts 1 and 2", listed)
	}
	for i, p := range listed {
		n := i + 1
		if p.Number != n || p.Size != int64(len(chunks[n-1])) || p.ETag != etags[n] {
			t.Errorf("listed part %d = %+v, want number %d, size %d, ETag %q (as the PUT answered)", i, p, n, len(chunks[n-1]), etags[n])
		}
	}
	// The resumed client uploads only what is missing.
	etag, err := putPart(ctx, s, key, id, 3, chunks[2], 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	all := append(listed, blob.Part{Number: 3, Size: int64(len(chunks[2])), ETag: etag})
	info, err := s.CompleteMultipart(ctx, key, id, all)
	if err != nil {
		t.Fatalf("CompleteMultipart: %v", err)
	}
	want := bytes.Join(chunks, nil)
	if info.Size != int64(len(want)) {
		t.Errorf("completed size %d, want %d", info.Size, len(want))
	}
	checkContent(t, s, key, want)
}

func testMultipartAbort(t *testing.T, s Store) {
	ctx := t.Context()
	const key = "sources/aborted"
	id, err := s.CreateMultipart(ctx, key, "video/mp4")
	if err != nil {
		t.Fatalf("CreateMultipart: %v", err)
	}
	if _, err := putPart(ctx, s, key, id, 1, parts(6)[0], 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.AbortMultipart(ctx, key, id); err != nil {
		t.Fatalf("AbortMultipart: %v", err)
	}
	if _, err := s.ListParts(ctx, key, id); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("ListParts after abort: %v, want blob.ErrNotFound", err)
	}
	if _, err := s.Stat(ctx, key); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat after abort: %v, want blob.ErrNotFound", err)
	}
}

// testPresignExpiry holds a presigned URL to its lifetime from both sides.
// A signature's time (S3) or expiry (the local store) is cut to the second,
// so a URL presigned for ttl is sure to be good for ttl less a second: a
// PUT answered within that must succeed, and one answered later may go
// either way. Each PUT is timed rather than assumed to come in time; one
// too slow to count is tried again with a new URL.
func testPresignExpiry(t *testing.T, s Store) {
	ctx := t.Context()
	const (
		key  = "sources/expiring"
		ttl  = 3 * time.Second
		sure = ttl - time.Second
	)
	id, err := s.CreateMultipart(ctx, key, "video/mp4")
	if err != nil {
		t.Fatalf("CreateMultipart: %v", err)
	}
	t.Cleanup(func() { _ = s.AbortMultipart(context.Background(), key, id) })
	var (
		u      string
		signed time.Time
	)
	for try := 1; ; try++ {
		signed = time.Now()
		if u, err = s.PresignPart(ctx, key, id, 1, int64(len("early part")), ttl); err != nil {
			t.Fatalf("PresignPart: %v", err)
		}
		status, _, body, err := httpPut(ctx, u, []byte("early part"))
		if err != nil {
			t.Fatalf("PUT: %v", err)
		}
		if status == http.StatusOK {
			break
		}
		if since := time.Since(signed); since < sure {
			t.Fatalf("PUT answered %v after presigning for %v: status %d (%s), want 200", since, ttl, status, body)
		}
		if try == 3 {
			t.Fatalf("three PUTs each took more than %v: too slow to tell a good URL from an expired one", sure)
		}
	}
	for {
		status, _, body, err := httpPut(ctx, u, []byte("later part"))
		if err != nil {
			t.Fatalf("PUT: %v", err)
		}
		since := time.Since(signed)
		if status == http.StatusForbidden {
			if since < sure {
				t.Fatalf("a URL presigned for %v was refused %v after", ttl, since)
			}
			return
		}
		if status != http.StatusOK {
			t.Fatalf("PUT to an expiring URL: status %d (%s), want 200 then 403", status, body)
		}
		if since > ttl+15*time.Second {
			t.Fatalf("a URL presigned for %v still accepted a PUT %v after", ttl, since)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// putPart PUTs one part to its presigned URL, as a browser would, and
// returns the unquoted ETag the server answered with.
func putPart(ctx context.Context, s Store, key, uploadID string, n int, data []byte, ttl time.Duration) (string, error) {
	u, err := s.PresignPart(ctx, key, uploadID, n, int64(len(data)), ttl)
	if err != nil {
		return "", fmt.Errorf("PresignPart %d: %w", n, err)
	}
	status, etag, body, err := httpPut(ctx, u, data)
	if err != nil {
		return "", fmt.Errorf("PUT part %d: %w", n, err)
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("PUT part %d: status %d: %s", n, status, body)
	}
	if etag == "" {
		return "", fmt.Errorf("PUT part %d: no ETag header in the answer", n)
	}
	return etag, nil
}

// httpPut PUTs data to url with header's name, value pairs and returns
// the status, the unquoted ETag and the start of the body of the answer.
func httpPut(ctx context.Context, url string, data []byte, header ...string) (status int, etag string, body []byte, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, bytes.NewReader(data))
	if err != nil {
		return 0, "", nil, err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, strings.Trim(resp.Header.Get("ETag"), `"`), body, err
}

func checkContent(t *testing.T, s Store, key string, want []byte) {
	t.Helper()
	o, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("Open %s: %v", key, err)
	}
	defer o.Close()
	h := sha256.New()
	n, err := io.Copy(h, o)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	if sum := sha256.Sum256(want); n != int64(len(want)) || !bytes.Equal(h.Sum(nil), sum[:]) {
		t.Errorf("%s holds %d bytes that differ from the %d uploaded", key, n, len(want))
	}
}

func randomBytes(seed uint64, n int) []byte {
	var key [32]byte
	key[0] = byte(seed)
	b := make([]byte, n)
	_, _ = rand.NewChaCha8(key).Read(b)
	return b
}
