package uploader

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/cloudflix/cloudflix/internal/testenv"
)

const testPartSize = 5 << 20

// uploadAPI is a small but real implementation of the upload endpoints of
// the REST API over a real S3 bucket: it opens multipart uploads, presigns
// part PUTs, lists parts and completes, as video-upload-svc does behind the
// router. Part URLs lead through the server itself, which forwards each
// PUT to its presigned S3 URL; that is where tests count attempts and
// inject failures.
type uploadAPI struct {
	t      *testing.T
	s3     *minio.Client
	core   minio.Core
	bucket string
	url    string

	mu        sync.Mutex
	sessions  map[string]*uploadSession
	attempts  map[int]int     // PUT attempts per part number
	failFirst map[int]int     // part number -> attempts answered 503 first
	failWith  map[int]int     // part number -> status every attempt gets
	corrupt   map[int]bool    // part number -> one byte changed on the way
	stored    func(part int)  // called once a part is stored, before the answer
	reject    string          // when set, create answers 400 with this message
	created   []createRequest // create requests received
}

type uploadSession struct {
	id, key, uploadID string
	size              int64
}

func newUploadAPI(t *testing.T) *uploadAPI {
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
	a := &uploadAPI{
		t: t, s3: c, core: minio.Core{Client: c}, bucket: env.Bucket,
		sessions: map[string]*uploadSession{}, attempts: map[int]int{},
		failFirst: map[int]int{}, failWith: map[int]int{}, corrupt: map[int]bool{},
	}
	t.Cleanup(func() { a.removeBucket() })

	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/uploads", a.create)
	mux.HandleFunc("GET /api/v1/uploads/{id}", a.get)
	mux.HandleFunc("POST /api/v1/uploads/{id}/parts/sign", a.sign)
	mux.HandleFunc("GET /api/v1/uploads/{id}/parts", a.listParts)
	mux.HandleFunc("POST /api/v1/uploads/{id}/complete", a.complete)
	mux.HandleFunc("PUT /forward", a.forward)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	a.url = srv.URL
	return a
}

func (a *uploadAPI) removeBucket() {
	ctx := context.Background()
	for obj := range a.s3.ListObjects(ctx, a.bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err == nil {
			_ = a.s3.RemoveObject(ctx, a.bucket, obj.Key, minio.RemoveObjectOptions{})
		}
	}
	a.mu.Lock()
	for _, s := range a.sessions {
		_ = a.core.AbortMultipartUpload(ctx, a.bucket, s.key, s.uploadID)
	}
	a.mu.Unlock()
	if err := a.s3.RemoveBucket(ctx, a.bucket); err != nil {
		a.t.Logf("remove bucket %s: %v", a.bucket, err)
	}
}

func writeJSONError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (a *uploadAPI) session(w http.ResponseWriter, r *http.Request) *uploadSession {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := a.sessions[r.PathValue("id")]
	if s == nil {
		writeJSONError(w, http.StatusNotFound, "not_found", "no upload "+r.PathValue("id"))
	}
	return s
}

func (a *uploadAPI) toJSON(s *uploadSession) session {
	return session{VideoID: s.id, SizeBytes: s.size, PartSize: testPartSize,
		PartCount: int32((s.size + testPartSize - 1) / testPartSize), ExpiresAt: time.Now().Add(time.Hour).UTC()}
}

func (a *uploadAPI) create(w http.ResponseWriter, r *http.Request) {
	var in createRequest
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		writeJSONError(w, http.StatusBadRequest, "invalid_argument", "malformed JSON: "+err.Error())
		return
	}
	a.mu.Lock()
	a.created = append(a.created, in)
	reject := a.reject
	a.mu.Unlock()
	if reject != "" {
		writeJSONError(w, http.StatusBadRequest, "invalid_argument", reject)
		return
	}
	if in.SizeBytes <= 0 || !strings.HasPrefix(in.ContentType, "video/") {
		writeJSONError(w, http.StatusBadRequest, "invalid_argument", "not a video upload")
		return
	}
	s := &uploadSession{id: testenv.Name("v"), size: in.SizeBytes}
	s.key = "sources/" + s.id
	id, err := a.core.NewMultipartUpload(r.Context(), a.bucket, s.key, minio.PutObjectOptions{ContentType: in.ContentType})
	if err != nil {
		writeJSONError(w, http.StatusServiceUnavailable, "unavailable", err.Error())
		return
	}
	s.uploadID = id
	a.mu.Lock()
	a.sessions[s.id] = s
	a.mu.Unlock()
	writeJSON(w, http.StatusCreated, a.toJSON(s))
}

func (a *uploadAPI) get(w http.ResponseWriter, r *http.Request) {
	if s := a.session(w, r); s != nil {
		writeJSON(w, http.StatusOK, a.toJSON(s))
	}
}

func (a *uploadAPI) sign(w http.ResponseWriter, r *http.Request) {
	s := a.session(w, r)
	if s == nil {
		return
	}
	var in struct {
		PartNumbers []int32 `json:"part_numbers"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || len(in.PartNumbers) == 0 || len(in.PartNumbers) > signBatch {
		writeJSONError(w, http.StatusBadRequest, "invalid_argument", "bad part_numbers")
		return
	}
	var out struct {
		Parts []signedPart `json:"parts"`
	}
	for _, n := range in.PartNumbers {
		params := url.Values{"partNumber": {strconv.Itoa(int(n))}, "uploadId": {s.uploadID}}
		u, err := a.s3.Presign(r.Context(), http.MethodPut, a.bucket, s.key, 15*time.Minute, params)
		if err != nil {
			writeJSONError(w, http.StatusInternalServerError, "internal", err.Error())
			return
		}
		out.Parts = append(out.Parts, signedPart{PartNumber: n,
			URL: a.url + "/forward?to=" + url.QueryEscape(u.String()), ExpiresAt: time.Now().Add(15 * time.Minute)})
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *uploadAPI) parts(ctx context.Context, s *uploadSession) ([]minio.ObjectPart, error) {
	res, err := a.core.ListObjectParts(ctx, a.bucket, s.key, s.uploadID, 0, 1000)
	if err != nil {
		return nil, err
	}
	return res.ObjectParts, nil
}

func (a *uploadAPI) listParts(w http.ResponseWriter, r *http.Request) {
	s := a.session(w, r)
	if s == nil {
		return
	}
	ps, err := a.parts(r.Context(), s)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	out := struct {
		Parts []storedPart `json:"parts"`
	}{Parts: []storedPart{}}
	for _, p := range ps {
		out.Parts = append(out.Parts, storedPart{PartNumber: int32(p.PartNumber), SizeBytes: p.Size, ETag: p.ETag})
	}
	writeJSON(w, http.StatusOK, out)
}

func (a *uploadAPI) complete(w http.ResponseWriter, r *http.Request) {
	s := a.session(w, r)
	if s == nil {
		return
	}
	ps, err := a.parts(r.Context(), s)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	var total int64
	var complete []minio.CompletePart
	for _, p := range ps {
		total += p.Size
		complete = append(complete, minio.CompletePart{PartNumber: p.PartNumber, ETag: p.ETag})
	}
	if total != s.size {
		writeJSONError(w, http.StatusConflict, "failed_precondition", fmt.Sprintf("stored %d of %d bytes", total, s.size))
		return
	}
	if _, err := a.core.CompleteMultipartUpload(r.Context(), a.bucket, s.key, s.uploadID, complete, minio.PutObjectOptions{}); err != nil {
		writeJSONError(w, http.StatusInternalServerError, "internal", err.Error())
		return
	}
	a.mu.Lock()
	delete(a.sessions, s.id)
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"id": s.id, "state": "uploaded", "size_bytes": s.size})
}

// forward sends a part PUT on to its presigned S3 URL, with its
// Content-MD5, unless the test asked for this attempt to fail.
func (a *uploadAPI) forward(w http.ResponseWriter, r *http.Request) {
	to, err := url.Parse(r.URL.Query().Get("to"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	part, _ := strconv.Atoi(to.Query().Get("partNumber"))
	a.mu.Lock()
	a.attempts[part]++
	attempt := a.attempts[part]
	fail := a.failWith[part]
	if fail == 0 && attempt <= a.failFirst[part] {
		fail = http.StatusServiceUnavailable
	}
	corrupt := a.corrupt[part]
	a.mu.Unlock()
	if fail != 0 {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(fail)
		fmt.Fprintf(w, "<Error><Code>Injected</Code><Message>injected failure %d of part %d</Message></Error>", attempt, part)
		return
	}
	var sent io.Reader = r.Body
	if corrupt {
		sent = &flipFirstByte{r: r.Body}
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPut, to.String(), sent)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req.ContentLength = r.ContentLength
	if sum := r.Header.Get("Content-MD5"); sum != "" {
		req.Header.Set("Content-MD5", sum)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		a.mu.Lock()
		stored := a.stored
		a.mu.Unlock()
		if stored != nil {
			stored(part)
		}
	}
	w.Header().Set("ETag", resp.Header.Get("ETag"))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(body)
}

// flipFirstByte changes the first byte read through it.
type flipFirstByte struct {
	r    io.Reader
	done bool
}

func (f *flipFirstByte) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if n > 0 && !f.done {
		p[0] ^= 0xff
		f.done = true
	}
	return n, err
}

func (a *uploadAPI) createdCopy() []createRequest {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.created)
}

func (a *uploadAPI) attemptsCopy() map[int]int {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[int]int{}
	for k, v := range a.attempts {
		out[k] = v
	}
	return out
}

// download returns the assembled source of video id.
func (a *uploadAPI) download(t *testing.T, id string) []byte {
	t.Helper()
	obj, err := a.s3.GetObject(context.Background(), a.bucket, "sources/"+id, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	b, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("download sources/%s: %v", id, err)
	}
	return b
}

// randomFile writes size random bytes to a .mp4 file of the test's own.
func randomFile(t *testing.T, size int) (string, []byte) {
	t.Helper()
	data := make([]byte, size)
	_, _ = rand.Read(data)
	path := filepath.Join(t.TempDir(), "clip.mp4")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, data
}

func stateFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// lockedBuffer is a progress destination the test can read while the
// bar draws.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestUploadWholeFile(t *testing.T) {
	t.Parallel()
	api := newUploadAPI(t)
	path, data := randomFile(t, 12<<20)
	stateDir := filepath.Join(t.TempDir(), "state")
	var progress lockedBuffer

	id, err := Upload(context.Background(), Options{Server: api.url, StateDir: stateDir, Progress: &progress}, path,
		Metadata{Title: "Sea", Description: "Waves", Tags: []string{"sea"}})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if got := api.download(t, id); !bytes.Equal(got, data) {
		t.Fatalf("stored object differs: %d bytes, want %d", len(got), len(data))
	}
	if got := api.attemptsCopy(); !equalCounts(got, map[int]int{1: 1, 2: 1, 3: 1}) {
		t.Errorf("PUT attempts per part = %v, want one each of 3 parts", got)
	}
	want := createRequest{Title: "Sea", Description: "Waves", Tags: []string{"sea"}, Filename: "clip.mp4", ContentType: "video/mp4", SizeBytes: 12 << 20}
	if created := api.createdCopy(); len(created) != 1 || !equalCreate(created[0], want) {
		t.Errorf("create requests = %+v, want one %+v", created, want)
	}
	if files := stateFiles(t, stateDir); len(files) != 0 {
		t.Errorf("resume state left behind after success: %v", files)
	}
	if out := progress.String(); !strings.Contains(out, "100%") || !strings.Contains(out, "clip.mp4") {
		t.Errorf("progress bar did not reach 100%%: %q", out)
	}
}

func TestPartRetriedAfter503(t *testing.T) {
	t.Parallel()
	api := newUploadAPI(t)
	api.failFirst[2] = 2
	path, data := randomFile(t, 12<<20)

	id, err := Upload(context.Background(), Options{Server: api.url, StateDir: t.TempDir()}, path, Metadata{Title: "t"})
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if got := api.attemptsCopy(); !equalCounts(got, map[int]int{1: 1, 2: 3, 3: 1}) {
		t.Errorf("PUT attempts per part = %v, want part 2 three times", got)
	}
	if got := api.download(t, id); !bytes.Equal(got, data) {
		t.Fatal("stored object differs from the file")
	}
}

func TestPartFailsFastOn4xx(t *testing.T) {
	t.Parallel()
	api := newUploadAPI(t)
	api.failWith[1] = http.StatusForbidden
	path, _ := randomFile(t, 6<<20)

	_, err := Upload(context.Background(), Options{Server: api.url, StateDir: t.TempDir(), Parallel: 1}, path, Metadata{Title: "t"})
	if err == nil || !strings.Contains(err.Error(), "injected failure 1 of part 1") {
		t.Fatalf("Upload error = %v, want the storage's message", err)
	}
	if got := api.attemptsCopy()[1]; got != 1 {
		t.Errorf("a 403 was tried %d times, want once", got)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusForbidden || ae.Code != "Injected" {
		t.Errorf("error %v is not the APIError of the 403", err)
	}
}

// A part whose bytes change on the way is refused by the storage, which
// checks them against the part's Content-MD5, and is not stored.
func TestStorageChecksPartBytes(t *testing.T) {
	t.Parallel()
	api := newUploadAPI(t)
	api.corrupt[2] = true
	path, _ := randomFile(t, 12<<20)

	id, err := Upload(context.Background(), Options{Server: api.url, StateDir: t.TempDir(), Parallel: 1}, path, Metadata{Title: "t"})
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "BadDigest" {
		t.Fatalf("Upload error = %v, want the storage's BadDigest", err)
	}
	api.mu.Lock()
	s := api.sessions[id]
	api.mu.Unlock()
	parts, err := api.parts(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 1 || parts[0].PartNumber != 1 {
		t.Errorf("stored parts %+v, want only part 1", parts)
	}
}

func TestResumeSendsOnlyMissingParts(t *testing.T) {
	t.Parallel()
	api := newUploadAPI(t)
	path, data := randomFile(t, 12<<20)
	stateDir := t.TempDir()

	// First run: stopped as soon as part 1 is stored. One part at a time,
	// so that nothing else is in flight when it stops.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	api.stored = func(int) { cancel() }
	firstID, err := Upload(ctx, Options{Server: api.url, StateDir: stateDir, Parallel: 1}, path, Metadata{Title: "t"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted Upload: %v, want context.Canceled", err)
	}
	if got := api.attemptsCopy(); !equalCounts(got, map[int]int{1: 1}) {
		t.Fatalf("first run PUT %v, want only part 1", got)
	}
	if files := stateFiles(t, stateDir); len(files) != 1 {
		t.Fatalf("resume state after interruption: %v, want one file", files)
	}

	api.mu.Lock()
	api.stored = nil
	api.attempts = map[int]int{}
	api.mu.Unlock()
	id, err := Upload(context.Background(), Options{Server: api.url, StateDir: stateDir}, path, Metadata{Title: "t"})
	if err != nil {
		t.Fatalf("resumed Upload: %v", err)
	}
	if id != firstID {
		t.Errorf("resumed as video %s, want %s", id, firstID)
	}
	if got := api.attemptsCopy(); !equalCounts(got, map[int]int{2: 1, 3: 1}) {
		t.Errorf("resumed run PUT %v, want parts 2 and 3 once each", got)
	}
	if created := api.createdCopy(); len(created) != 1 {
		t.Errorf("%d uploads created, want 1", len(created))
	}
	if got := api.download(t, id); !bytes.Equal(got, data) {
		t.Fatal("stored object differs from the file")
	}
	if files := stateFiles(t, stateDir); len(files) != 0 {
		t.Errorf("resume state left behind after success: %v", files)
	}
}

func TestCreateRejected(t *testing.T) {
	t.Parallel()
	api := newUploadAPI(t)
	api.reject = "video/mp4 files larger than 10 B are not allowed"
	path, _ := randomFile(t, 1024)
	stateDir := t.TempDir()

	_, err := Upload(context.Background(), Options{Server: api.url, StateDir: stateDir}, path, Metadata{})
	if err == nil || !strings.Contains(err.Error(), api.reject) {
		t.Fatalf("Upload error = %v, want the server's message %q", err, api.reject)
	}
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code != "invalid_argument" {
		t.Errorf("error %v is not the APIError of the 400", err)
	}
	if files := stateFiles(t, stateDir); len(files) != 0 {
		t.Errorf("resume state written for a refused upload: %v", files)
	}
	// Without a title the file's name stands in.
	if created := api.createdCopy(); len(created) != 1 || created[0].Title != "clip" {
		t.Errorf("create requests = %+v, want title \"clip\"", created)
	}
}

func TestRenewAt(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct{ life, renewAfter time.Duration }{
		{15 * time.Minute, 15*time.Minute - signMargin},
		{time.Minute, 30 * time.Second},
		{-time.Minute, -30 * time.Second},
	} {
		if got := renewAt(now, now.Add(tt.life)).Sub(now); got != tt.renewAfter {
			t.Errorf("life %v: renew after %v, want %v", tt.life, got, tt.renewAfter)
		}
	}
}

func equalCounts(a, b map[int]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func equalCreate(a, b createRequest) bool {
	return a.Title == b.Title && a.Description == b.Description && slices.Equal(a.Tags, b.Tags) &&
		a.Filename == b.Filename && a.ContentType == b.ContentType && a.SizeBytes == b.SizeBytes
}

func TestDetectContentType(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The start of an MP4: a 'ftyp' box, which content sniffing knows.
	mp4Head := []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom")
	for name, tt := range map[string]struct {
		data []byte
		want string
	}{
		"clip.MKV":   {[]byte("anything"), "video/x-matroska"},
		"clip.ts":    {[]byte("anything"), "video/mp2t"},
		"notes.json": {[]byte("{}"), "application/json"},
		"recording":  {mp4Head, "video/mp4"},
		"blob":       {[]byte{0, 1, 2, 3}, "application/octet-stream"},
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, tt.data, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := detectContentType(f, path)
		f.Close()
		if err != nil || got != tt.want {
			t.Errorf("%s: %q, %v; want %q", name, got, err, tt.want)
		}
	}
}
