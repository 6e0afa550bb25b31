package localblob

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/blob"
	"github.com/cloudflix/cloudflix/internal/blob/blobtest"
)

const mount = "/storage/parts/"

// openDir opens a store on dir with its part handler served over real HTTP
// by a server of the test's own, and creates its folders.
func openDir(t *testing.T, dir string, key []byte, maxPart int64) *Store {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s, err := Open(Options{Dir: dir, PartURL: srv.URL + strings.TrimSuffix(mount, "/"), SigningKey: key, MaxPartSize: maxPart})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	mux.Handle(mount, s.PartHandler())
	if err := s.EnsureBucket(t.Context()); err != nil {
		t.Fatalf("EnsureBucket: %v", err)
	}
	return s
}

func newKey() []byte {
	k := make([]byte, MinSigningKey)
	_, _ = rand.Read(k)
	return k
}

func open(t *testing.T) *Store {
	t.Helper()
	return openDir(t, filepath.Join(t.TempDir(), "blobs"), newKey(), 0)
}

func TestContract(t *testing.T) {
	t.Parallel()
	blobtest.Run(t, func(t *testing.T) blobtest.Store { return open(t) })
}

func TestOpenChecksOptions(t *testing.T) {
	t.Parallel()
	good := Options{Dir: t.TempDir(), PartURL: "http://localhost:8080/storage/parts", SigningKey: newKey()}
	if _, err := Open(good); err != nil {
		t.Fatalf("Open(%+v): %v", good, err)
	}
	pathOnly := good
	pathOnly.PartURL = "/storage/parts"
	if _, err := Open(pathOnly); err != nil {
		t.Fatalf("Open with a path as part URL: %v", err)
	}
	for name, change := range map[string]func(*Options){
		"no dir":         func(o *Options) { o.Dir = "" },
		"relative path":  func(o *Options) { o.PartURL = "storage/parts" },
		"ftp URL":        func(o *Options) { o.PartURL = "ftp://localhost/parts" },
		"URL with query": func(o *Options) { o.PartURL = "http://localhost/parts?x=1" },
		"short key":      func(o *Options) { o.SigningKey = o.SigningKey[:MinSigningKey-1] },
	} {
		o := good
		change(&o)
		if _, err := Open(o); err == nil {
			t.Errorf("%s: Open succeeded", name)
		}
	}
}

func put(t *testing.T, s *Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(t.Context(), key, bytes.NewReader(data), int64(len(data)), "text/plain"); err != nil {
		t.Fatalf("Put %s: %v", key, err)
	}
}

// httpDo sends one request with header's name, value pairs.
func httpDo(t *testing.T, method, url string, body io.Reader, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestPartURLRefusals(t *testing.T) {
	t.Parallel()
	s := openDir(t, t.TempDir(), newKey(), 1024)
	ctx := t.Context()
	id, err := s.CreateMultipart(ctx, "sources/x", "video/mp4")
	if err != nil {
		t.Fatal(err)
	}
	good, err := s.PresignPart(ctx, "sources/x", id, 2, 1024, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PresignPart(ctx, "sources/x", id, 2, 1025, time.Minute); err == nil {
		t.Error("PresignPart of a part over the size limit succeeded")
	}
	// signed builds a URL for any part, size and expiry, as PresignPart
	// would had it allowed them.
	signed := func(id, num, size string, expires time.Time) string {
		g := grant{uploadID: id, part: num, size: size, expires: strconv.FormatInt(expires.Unix(), 10)}
		return s.partURL + "/" + id + "/" + num + "?size=" + size + "&expires=" + g.expires + "&sig=" + s.sign(g)
	}
	later := time.Now().Add(time.Minute)
	var otherID [16]byte
	_, _ = rand.Read(otherID[:])
	flipped := []byte(good)
	flipped[len(flipped)-1] ^= 1 // still hex, different signature
	part := make([]byte, 1024)
	otherSum := md5.Sum([]byte("other bytes"))
	for _, c := range []struct {
		name   string
		url    string
		body   io.Reader
		header []string
		status int
	}{
		{name: "tampered signature", url: string(flipped), body: bytes.NewReader(part), status: http.StatusForbidden},
		{name: "signature of another part", url: strings.Replace(good, "/2?", "/3?", 1), body: bytes.NewReader(part), status: http.StatusForbidden},
		{name: "longer expiry than signed", url: strings.Replace(good, "expires=", "expires=9", 1), body: bytes.NewReader(part), status: http.StatusForbidden},
		{name: "larger size than signed", url: strings.Replace(good, "size=1024", "size=10240", 1), body: bytes.NewReader(make([]byte, 10240)), status: http.StatusForbidden},
		{name: "no signature", url: s.partURL + "/" + id + "/2", body: strings.NewReader("x"), status: http.StatusForbidden},
		{name: "expired", url: signed(id, "2", "1", time.Now().Add(-time.Second)), body: strings.NewReader("x"), status: http.StatusForbidden},
		{name: "unknown upload", url: signed(hex.EncodeToString(otherID[:]), "1", "1", later), body: strings.NewReader("x"), status: http.StatusNotFound},
		{name: "malformed upload id", url: signed("not-an-upload-id", "1", "1", later), body: strings.NewReader("x"), status: http.StatusNotFound},
		{name: "part number 0", url: signed(id, "0", "1", later), body: strings.NewReader("x"), status: http.StatusBadRequest},
		{name: "part number 10001", url: signed(id, "10001", "1", later), body: strings.NewReader("x"), status: http.StatusBadRequest},
		{name: "part number 01", url: signed(id, "01", "1", later), body: strings.NewReader("x"), status: http.StatusBadRequest},
		{name: "size over the limit", url: signed(id, "2", "1025", later), body: bytes.NewReader(make([]byte, 1025)), status: http.StatusBadRequest},
		{name: "longer body", url: good, body: bytes.NewReader(make([]byte, 1025)), status: http.StatusBadRequest},
		{name: "shorter body", url: good, body: bytes.NewReader(make([]byte, 1023)), status: http.StatusBadRequest},
		// No length declared: the body would come chunked.
		{name: "chunked body", url: good, body: io.MultiReader(bytes.NewReader(part)), status: http.StatusLengthRequired},
		{name: "malformed Content-MD5", url: good, body: bytes.NewReader(part), header: []string{"Content-MD5", "not base64"}, status: http.StatusBadRequest},
		{name: "Content-MD5 of other bytes", url: good, body: bytes.NewReader(part),
			header: []string{"Content-MD5", base64.StdEncoding.EncodeToString(otherSum[:])}, status: http.StatusBadRequest},
	} {
		resp := httpDo(t, http.MethodPut, c.url, c.body, c.header...)
		if resp.StatusCode != c.status {
			body, _ := io.ReadAll(resp.Body)
			t.Errorf("%s: status %d (%s), want %d", c.name, resp.StatusCode, body, c.status)
		}
		if resp.Header.Get("ETag") != "" {
			t.Errorf("%s: answered an ETag", c.name)
		}
	}
	if ps, err := s.ListParts(ctx, "sources/x", id); err != nil || len(ps) != 0 {
		t.Errorf("ListParts after refused PUTs = %v, %v; want none", ps, err)
	}
	// The good URL still works, and a browser on another origin can read
	// the answer's ETag.
	resp := httpDo(t, http.MethodPut, good, bytes.NewReader(part))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT of a part at the limit: %s", resp.Status)
	}
	sum := md5.Sum(make([]byte, 1024))
	if got, want := resp.Header.Get("ETag"), `"`+hex.EncodeToString(sum[:])+`"`; got != want {
		t.Errorf("ETag %s, want the quoted md5 %s", got, want)
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Expose-Headers") != "ETag" {
		t.Errorf("PUT answer lacks the CORS headers a browser needs: %v", resp.Header)
	}
}

func TestPartHandlerCORSAndMethods(t *testing.T) {
	t.Parallel()
	s := open(t)
	id, err := s.CreateMultipart(t.Context(), "sources/cors", "video/mp4")
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.PresignPart(t.Context(), "sources/cors", id, 1, 1, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodOptions, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", "http://elsewhere.example")
	req.Header.Set("Access-Control-Request-Method", "PUT")
	req.Header.Set("Access-Control-Request-Headers", "content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode/100 != 2 || h.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "PUT") ||
		!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "content-type") {
		t.Errorf("preflight answered %s with %v; want 2xx allowing PUT with Content-Type from any origin", resp.Status, h)
	}
	if resp := httpDo(t, http.MethodGet, u, nil); resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET of a part URL: %s, want 405", resp.Status)
	}
}

func TestRejectsUnsafeKeys(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	s := openDir(t, filepath.Join(parent, "blobs"), newKey(), 0)
	ctx := t.Context()
	for _, key := range []string{
		"", "../escaped", "a/../../escaped", "/abs", "a//b", "a/./b", "a/..", "trailing/", "nul\x00byte", `back\slash`,
		strings.Repeat("k", maxKeyLen+1),
	} {
		if err := s.Put(ctx, key, strings.NewReader("x"), 1, "text/plain"); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, ErrInvalidKey) || !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat(%q) = %v, want ErrInvalidKey and blob.ErrNotFound", key, err)
		}
		if _, err := s.CreateMultipart(ctx, key, "video/mp4"); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("CreateMultipart(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
	for _, prefix := range []string{"../", "../blobs/objects/", "a//", "/"} {
		if err := s.DeletePrefix(ctx, prefix); err == nil {
			t.Errorf("DeletePrefix(%q) succeeded", prefix)
		}
	}
	if _, err := s.ListParts(ctx, "k", "../../objects"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("ListParts with a path for an upload id = %v, want blob.ErrNotFound", err)
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("files appeared beside the store's folder: %v", entries)
	}
}

// failingReader yields n bytes, then fails, as a dropped connection would.
type failingReader struct{ n int }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, errors.New("connection reset")
	}
	k := min(len(p), r.n)
	r.n -= k
	return k, nil
}

func TestWritesAreAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openDir(t, dir, newKey(), 0)
	ctx := t.Context()
	put(t, s, "videos/1/thumb.jpg", []byte("version one"))
	before, err := s.Stat(ctx, "videos/1/thumb.jpg")
	if err != nil {
		t.Fatal(err)
	}
	// A replacement that fails half-way leaves the old object whole.
	if err := s.Put(ctx, "videos/1/thumb.jpg", &failingReader{n: 100 << 10}, 200<<10, "image/jpeg"); err == nil {
		t.Fatal("Put from a failing reader succeeded")
	}
	if err := s.Put(ctx, "videos/1/short", strings.NewReader("short"), 10, "text/plain"); err == nil {
		t.Error("Put of fewer bytes than declared succeeded")
	}
	after, err := s.Stat(ctx, "videos/1/thumb.jpg")
	if err != nil || after != before {
		t.Errorf("after a failed replacement Stat = %+v, %v; want %+v", after, err, before)
	}
	if _, err := s.Stat(ctx, "videos/1/short"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("a short Put left an object: %v", err)
	}
	src := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(src, []byte("from a file"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.PutFile(ctx, "videos/1/hls/master.m3u8", src, "application/vnd.apple.mpegurl"); err != nil {
		t.Fatal(err)
	}
	if err := s.Download(ctx, "videos/1/hls/master.m3u8", filepath.Join(t.TempDir(), "dl")); err != nil {
		t.Fatal(err)
	}
	// Only the objects themselves are in the object tree, and nothing is
	// left being written.
	var files []string
	err = filepath.WalkDir(filepath.Join(dir, "objects"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(filepath.Join(dir, "objects"), path)
			files = append(files, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"videos/1/hls/master.m3u8", "videos/1/thumb.jpg"}; strings.Join(files, " ") != strings.Join(want, " ") {
		t.Errorf("object tree holds %v, want exactly %v", files, want)
	}
	if left, err := os.ReadDir(filepath.Join(dir, "tmp")); err != nil || len(left) != 0 {
		t.Errorf("tmp holds %v (%v), want nothing", left, err)
	}
}

// A crash between writing an object's bytes and its sidecar leaves a
// sidecar that describes other bytes; it must not be believed.
func TestStaleSidecarIsNotTrusted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openDir(t, dir, newKey(), 0)
	ctx := t.Context()
	put(t, s, "k", []byte("old bytes"))
	newer := []byte("the new bytes, which the sidecar never saw")
	if err := os.WriteFile(filepath.Join(dir, "objects", "k"), newer, 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := s.Stat(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(newer)
	if info.Size != int64(len(newer)) || info.ETag != hex.EncodeToString(sum[:]) || info.ContentType != "text/plain" {
		t.Errorf("Stat = %+v, want size %d, the md5 of the bytes and the old content type", info, len(newer))
	}
}

func TestReopenedStoreKeepsObjectsAndUploads(t *testing.T) {
	t.Parallel()
	dir, key := t.TempDir(), newKey()
	first := openDir(t, dir, key, 0)
	ctx := t.Context()
	put(t, first, "videos/9/thumb.jpg", []byte("thumb"))
	id, err := first.CreateMultipart(ctx, "sources/9", "video/mp4")
	if err != nil {
		t.Fatal(err)
	}
	one := bytes.Repeat([]byte{1}, MinPartSize)
	etag1 := putPart(t, first, "sources/9", id, 1, one)

	// A new process on the same folder, with the same key.
	second := openDir(t, dir, key, 0)
	if info, err := second.Stat(ctx, "videos/9/thumb.jpg"); err != nil || info.Size != 5 || info.ContentType != "text/plain" {
		t.Fatalf("Stat after reopening = %+v, %v", info, err)
	}
	parts, err := second.ListParts(ctx, "sources/9", id)
	if err != nil || len(parts) != 1 || parts[0].ETag != etag1 || parts[0].Size != MinPartSize {
		t.Fatalf("ListParts after reopening = %+v, %v; want part 1 with ETag %s", parts, err, etag1)
	}
	two := []byte("the rest")
	etag2 := putPart(t, second, "sources/9", id, 2, two)
	info, err := second.CompleteMultipart(ctx, "sources/9", id, []blob.Part{{Number: 2, ETag: `"` + etag2 + `"`}, {Number: 1, ETag: etag1}})
	if err != nil {
		t.Fatalf("CompleteMultipart: %v", err)
	}
	if !strings.HasSuffix(info.ETag, "-2") || info.Size != int64(len(one)+len(two)) || info.ContentType != "video/mp4" {
		t.Errorf("completed %+v, want a multipart ETag ending -2, size %d, video/mp4", info, len(one)+len(two))
	}
	if _, err := second.ListParts(ctx, "sources/9", id); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("ListParts after complete = %v, want blob.ErrNotFound", err)
	}
}

func putPart(t *testing.T, s *Store, key, id string, n int, data []byte) string {
	t.Helper()
	u, err := s.PresignPart(t.Context(), key, id, n, int64(len(data)), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	resp := httpDo(t, http.MethodPut, u, bytes.NewReader(data))
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("PUT part %d: %s: %s", n, resp.Status, body)
	}
	return strings.Trim(resp.Header.Get("ETag"), `"`)
}

func TestCompleteChecksParts(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := t.Context()
	id, err := s.CreateMultipart(ctx, "sources/c", "video/mp4")
	if err != nil {
		t.Fatal(err)
	}
	small := putPart(t, s, "sources/c", id, 1, []byte("too small to come first"))
	last := putPart(t, s, "sources/c", id, 2, []byte("last"))
	for name, c := range map[string]struct {
		key   string
		parts []blob.Part
	}{
		"no parts":            {"sources/c", nil},
		"wrong ETag":          {"sources/c", []blob.Part{{Number: 1, ETag: last}}},
		"part never uploaded": {"sources/c", []blob.Part{{Number: 1, ETag: small}, {Number: 3, ETag: last}}},
		"part given twice":    {"sources/c", []blob.Part{{Number: 1, ETag: small}, {Number: 1, ETag: small}}},
		"small first part":    {"sources/c", []blob.Part{{Number: 1, ETag: small}, {Number: 2, ETag: last}}},
	} {
		if _, err := s.CompleteMultipart(ctx, c.key, id, c.parts); err == nil || errors.Is(err, blob.ErrNotFound) {
			t.Errorf("%s: CompleteMultipart = %v, want a refusal other than not found", name, err)
		}
	}
	if _, err := s.CompleteMultipart(ctx, "sources/other", id, []blob.Part{{Number: 2, ETag: last}}); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("CompleteMultipart under another key = %v, want blob.ErrNotFound", err)
	}
	// Refusals leave the upload as it was.
	if ps, err := s.ListParts(ctx, "sources/c", id); err != nil || len(ps) != 2 {
		t.Errorf("ListParts after refusals = %v, %v; want both parts", ps, err)
	}
	if err := s.AbortMultipart(ctx, "sources/c", id); err != nil {
		t.Fatal(err)
	}
	if err := s.AbortMultipart(ctx, "sources/c", id); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("second AbortMultipart = %v, want blob.ErrNotFound", err)
	}
	if entries, err := os.ReadDir(s.uploads); err != nil || len(entries) != 0 {
		t.Errorf("multipart folder holds %v (%v) after abort, want nothing", entries, err)
	}
}

// An upload of one part becomes its object without a copy: the object is
// the part's file. The object reads back whole with the multipart ETag,
// and the upload is gone.
func TestOnePartCompletesWithoutACopy(t *testing.T) {
	t.Parallel()
	s := open(t)
	ctx := t.Context()
	const key = "sources/one"
	id, err := s.CreateMultipart(ctx, key, "video/mp4")
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 1<<20)
	_, _ = rand.Read(data)
	etag := putPart(t, s, key, id, 1, data)
	part, err := os.Stat(s.partPath(id, 1))
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.CompleteMultipart(ctx, key, id, []blob.Part{{Number: 1, ETag: etag}})
	if err != nil {
		t.Fatal(err)
	}
	sum, _ := hex.DecodeString(etag)
	whole := md5.Sum(sum)
	if want := hex.EncodeToString(whole[:]) + "-1"; info.ETag != want || info.Size != int64(len(data)) {
		t.Errorf("CompleteMultipart = %+v, want ETag %s and size %d", info, want, len(data))
	}
	object, err := os.Stat(s.objectPath(key))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(part, object) {
		t.Error("the object is a copy of the part, not the part's file")
	}
	o, err := s.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(o)
	o.Close()
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the object reads back %d bytes (%v), not the part", len(got), err)
	}
	if _, err := s.ListParts(ctx, key, id); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("ListParts after complete = %v, want blob.ErrNotFound", err)
	}
}

func TestDeletePrefixPrunesFolders(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := openDir(t, dir, newKey(), 0)
	ctx := t.Context()
	for _, k := range []string{"videos/1/hls/720p/seg0.m4s", "videos/1/thumb.jpg", "videos/2/thumb.jpg"} {
		put(t, s, k, []byte(k))
	}
	if err := s.DeletePrefix(ctx, ""); err == nil {
		t.Fatal("DeletePrefix(\"\") succeeded")
	}
	if err := s.DeletePrefix(ctx, "videos/1/"); err != nil {
		t.Fatal(err)
	}
	for _, tree := range []string{"objects", "meta"} {
		if _, err := os.Stat(filepath.Join(dir, tree, "videos", "1")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s/videos/1 still there after deleting its objects (%v)", tree, err)
		}
		if _, err := os.Stat(filepath.Join(dir, tree, "videos", "2", "thumb.jpg")); err != nil {
			t.Errorf("%s/videos/2/thumb.jpg: %v, want it kept", tree, err)
		}
	}
	// A key that is a folder of other keys is not an object.
	if _, err := s.Stat(ctx, "videos/2"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat of a folder = %v, want blob.ErrNotFound", err)
	}
	if _, err := s.Stat(ctx, "videos/2/thumb.jpg/x"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat below an object = %v, want blob.ErrNotFound", err)
	}
}

func TestPing(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "never-created")
	s, err := Open(Options{Dir: dir, PartURL: "http://localhost/parts", SigningKey: newKey()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Error("Ping of a folder never created succeeded")
	}
	if err := s.EnsureBucket(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping after EnsureBucket: %v", err)
	}
}

// PUTs to one upload beyond PartsPerUpload are refused at once with 429
// and Retry-After, while those under way go on; once they end, the upload
// takes PUTs again.
func TestPartsPerUploadAreBounded(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s, err := Open(Options{Dir: t.TempDir(), PartURL: srv.URL + strings.TrimSuffix(mount, "/"), SigningKey: newKey(), PartsPerUpload: 2})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle(mount, s.PartHandler())
	ctx := t.Context()
	if err := s.EnsureBucket(ctx); err != nil {
		t.Fatal(err)
	}
	id, err := s.CreateMultipart(ctx, "sources/busy", "video/mp4")
	if err != nil {
		t.Fatal(err)
	}
	// Two slow PUTs hold the upload's two slots: their bodies come from
	// pipes that stay open.
	const size = 1 << 20
	var slow []*io.PipeWriter
	done := make(chan int, 2)
	for n := 1; n <= 2; n++ {
		u, err := s.PresignPart(ctx, "sources/busy", id, n, size, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		pr, pw := io.Pipe()
		slow = append(slow, pw)
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, u, pr)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = size
		go func() {
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				done <- 0
				return
			}
			resp.Body.Close()
			done <- resp.StatusCode
		}()
		if _, err := pw.Write([]byte("started")); err != nil {
			t.Fatal(err)
		}
	}
	third, err := s.PresignPart(ctx, "sources/busy", id, 3, 5, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// The slow PUTs reach the handler in their own time: the third is
	// refused once both are in.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp := httpDo(t, http.MethodPut, third, strings.NewReader("third"))
		if resp.StatusCode == http.StatusTooManyRequests {
			if resp.Header.Get("Retry-After") == "" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("429 without Retry-After or CORS headers: %v", resp.Header)
			}
			break
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("third PUT: %s, want 200 until the slow two are in, then 429", resp.Status)
		}
		if time.Now().After(deadline) {
			t.Fatal("a third PUT was never refused while two were under way")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Part 3 is stored if a probe got in before the slow two did.
	if ps, err := s.ListParts(ctx, "sources/busy", id); err != nil || len(ps) > 1 || (len(ps) == 1 && ps[0].Number != 3) {
		t.Fatalf("ListParts with two PUTs unfinished = %+v, %v; want at most part 3", ps, err)
	}
	for _, pw := range slow {
		pw.CloseWithError(errors.New("client gave up"))
	}
	for range slow {
		<-done
	}
	if resp := httpDo(t, http.MethodPut, third, strings.NewReader("third")); resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT once the slow ones ended: %s, want 200", resp.Status)
	}
}
