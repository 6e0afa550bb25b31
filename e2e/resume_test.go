package e2e

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
)

// TestUploadResumesAfterKill kills `cloudflix upload` with SIGKILL while two
// parts are half sent and every other part is stored on the split
// platform, then runs the same command again: it finishes the same video by
// sending only the two missing parts, the stored source is the file byte for
// byte, and the video ends ready and plays.
func TestUploadResumesAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	testenv.RequireFFmpeg(t)
	// With four parts in flight at once, parts 1 to 4 start together; 3
	// and 4 are held, so 1 and 2 finish, 5 and the rest go through.
	held := []int{3, 4}
	gate := newPartGate(t, testenv.S3Server(t).Endpoint, held...)
	pf := startSplitEnv(t, []string{"CLOUDFLIX_S3_PUBLIC_ENDPOINT=" + gate.addr()})

	clip := filepath.Join(t.TempDir(), "rapids.mp4")
	testenv.GenerateLargeClip(t, clip, 320, 240, 5, true)
	src, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	partCount := (len(src) + splitPartSize - 1) / splitPartSize
	if partCount < 5 {
		t.Fatalf("the clip is %d bytes, %d parts; the test needs at least 5", len(src), partCount)
	}
	var stored []int
	for n := 1; n <= partCount; n++ {
		if !slices.Contains(held, n) {
			stored = append(stored, n)
		}
	}

	cache := t.TempDir()
	args := []string{"--tag", "river", "--parallel", "4"}
	first := pf.uploadCmd(cache, clip, "Whitewater rapids", args...)
	out := &lockedBuffer{}
	first.Stdout, first.Stderr = out, out
	first.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- first.Wait() }()
	t.Cleanup(func() { _ = first.Process.Kill() })

	id := waitStateFile(t, cache, out)
	waitUntil(t, time.Minute, "the held parts to be half sent and the others stored", func() string {
		got := partNumbers(pf.storedParts(t, id))
		if h := gate.holding(); h != len(held) || !slices.Equal(got, stored) {
			return "holding " + strconv.Itoa(h) + " parts, stored " + joinInts(got) + "\n" + out.String()
		}
		return ""
	})
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := <-exited; err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("the first upload ended %v, want killed\n%s", err, out.String())
	}
	// Whatever of the held parts the client had written before it died
	// is lost on the way, as with a connection lost mid-part: the store
	// gets each cut short, and must not keep it as a part.
	gate.cut()
	waitUntil(t, 30*time.Second, "the half-sent parts to end", func() string {
		if n := gate.inFlight(); n > 0 {
			return strconv.Itoa(n) + " part requests in flight"
		}
		return ""
	})

	if v := pf.video(t, id); v.State != "uploading" {
		t.Fatalf("after the kill the video is %s, want uploading", v.State)
	}
	code, body := pf.do(t, "GET", "/api/v1/uploads/"+id, "")
	var sess struct {
		PartCount int   `json:"part_count"`
		SizeBytes int64 `json:"size_bytes"`
	}
	if err := json.Unmarshal(body, &sess); code != http.StatusOK || err != nil || sess.PartCount != partCount || sess.SizeBytes != int64(len(src)) {
		t.Fatalf("upload session after the kill = %d %s; want %d parts of a %d-byte file", code, body, partCount, len(src))
	}
	for _, p := range pf.storedParts(t, id) {
		off := (p.PartNumber - 1) * splitPartSize
		part := src[off:min(off+splitPartSize, len(src))]
		sum := md5.Sum(part)
		if !slices.Contains(stored, p.PartNumber) || p.SizeBytes != int64(len(part)) || strings.Trim(p.ETag, `"`) != hex.EncodeToString(sum[:]) {
			t.Errorf("stored part %+v; want one of %v with %d bytes and ETag %x", p, stored, len(part), sum)
		}
	}
	if puts := gate.takePuts(); !slices.Equal(puts, seq(1, partCount)) {
		t.Errorf("the first upload sent parts %v, want each of 1..%d once", puts, partCount)
	}

	again := runUpload(t, pf.uploadCmd(cache, clip, "Whitewater rapids", args...))
	if again != id {
		t.Fatalf("the resumed upload made video %s, want %s", again, id)
	}
	if puts := gate.takePuts(); !slices.Equal(puts, held) {
		t.Errorf("the resumed upload sent parts %v, want only the missing %v", puts, held)
	}
	t.Logf("killed with parts %v of %d stored and %v half sent; the same command finished video %s", stored, partCount, held, id)
	if left, _ := filepath.Glob(filepath.Join(cache, "cloudflix", "uploads", "*.json")); len(left) > 0 {
		t.Errorf("resume state left after the upload finished: %v", left)
	}

	v, _ := pf.waitSettled(t, id, 3*time.Minute)
	if v.State != "ready" {
		t.Fatalf("the resumed upload ended %s: %s", v.State, v.FailureReason)
	}
	if v.Width != 320 || v.Height != 240 {
		t.Errorf("the resumed video is %dx%d, want 320x240", v.Width, v.Height)
	}
	checkPlayable(t, pf, v, 240)
	checkSource(t, pf, id, src)
}

// checkSource downloads the video's stored source and compares it with the
// uploaded file.
func checkSource(t *testing.T, pf *platform, id string, want []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := openS3(ctx, pf.s3)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "source")
	if err := st.Download(ctx, video.SourceKey(id), path); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the stored source (%d bytes) is not the uploaded file (%d bytes)", len(got), len(want))
	}
}

type apiPart struct {
	PartNumber int    `json:"part_number"`
	SizeBytes  int64  `json:"size_bytes"`
	ETag       string `json:"etag"`
}

func (pf *platform) storedParts(t *testing.T, id string) []apiPart {
	t.Helper()
	code, body := pf.do(t, "GET", "/api/v1/uploads/"+id+"/parts", "")
	var r struct {
		Parts []apiPart `json:"parts"`
	}
	if err := json.Unmarshal(body, &r); code != http.StatusOK || err != nil {
		t.Fatalf("list parts of %s = %d %s", id, code, body)
	}
	return r.Parts
}

func partNumbers(parts []apiPart) []int {
	var ns []int
	for _, p := range parts {
		ns = append(ns, p.PartNumber)
	}
	slices.Sort(ns)
	return ns
}

func seq(from, to int) []int {
	var ns []int
	for n := from; n <= to; n++ {
		ns = append(ns, n)
	}
	return ns
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return "[" + strings.Join(s, " ") + "]"
}

// waitStateFile waits for the CLI's resume state under cacheDir and returns
// the video id it records.
func waitStateFile(t *testing.T, cacheDir string, out *lockedBuffer) string {
	t.Helper()
	var id string
	waitUntil(t, 30*time.Second, "the upload's resume state", func() string {
		files, _ := filepath.Glob(filepath.Join(cacheDir, "cloudflix", "uploads", "*.json"))
		if len(files) != 1 {
			return strconv.Itoa(len(files)) + " state files\n" + out.String()
		}
		b, err := os.ReadFile(files[0])
		if err != nil {
			return err.Error()
		}
		var st struct {
			VideoID string `json:"video_id"`
		}
		if err := json.Unmarshal(b, &st); err != nil || st.VideoID == "" {
			return "state file " + string(b)
		}
		id = st.VideoID
		return ""
	})
	return id
}

// waitUntil polls check until it returns "" or within has passed; check
// says what it is still waiting for.
func waitUntil(t *testing.T, within time.Duration, what string, check func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		last := check()
		if last == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s: %s", within, what, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// heldBytes is how much of a held part's body the gate lets through.
const heldBytes = 1 << 20

// errCut ends a held body when the gate is cut.
var errCut = errors.New("part gate: connection cut")

// partGate is where the CLI finds the object store: a reverse proxy in
// front of the S3 server, named to the platform as
// CLOUDFLIX_S3_PUBLIC_ENDPOINT so that it presigns part URLs for it. It
// records the part number of every PUT and holds the body of the parts it
// was given after heldBytes, until it is cut: those parts are in flight for
// as long as a test needs, and no other part waits for them.
type partGate struct {
	srv     *httptest.Server
	hold    map[int]bool
	cutc    chan struct{} // closed by cut
	cutOnce sync.Once

	mu      sync.Mutex
	puts    []int // part numbers PUT since the last takePuts
	waiting int   // held bodies waiting for the cut
	active  int   // part PUTs not yet answered
}

func newPartGate(t *testing.T, s3Endpoint string, hold ...int) *partGate {
	t.Helper()
	g := &partGate{hold: map[int]bool{}, cutc: make(chan struct{})}
	for _, n := range hold {
		g.hold[n] = true
	}
	proxy := &httputil.ReverseProxy{
		// The Host header stays the gate's: it is the host the URL is
		// signed for.
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme, r.Out.URL.Host = "http", s3Endpoint
		},
		// A cut part ends here, with nobody left to answer.
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, _ error) {
			w.WriteHeader(http.StatusBadGateway)
		},
	}
	g.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("partNumber"))
		if r.Method == http.MethodPut && err == nil {
			g.mu.Lock()
			g.puts = append(g.puts, n)
			g.active++
			g.mu.Unlock()
			defer func() {
				g.mu.Lock()
				g.active--
				g.mu.Unlock()
			}()
			if g.hold[n] && !g.isCut() {
				r.Body = &heldBody{ReadCloser: r.Body, gate: g}
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(g.srv.Close)
	t.Cleanup(g.cut) // first: Close waits for the held requests
	return g
}

func (g *partGate) addr() string { return g.srv.Listener.Addr().String() }

// cut ends every held body where it was held, as a connection lost there
// would, and lets every later part through whole.
func (g *partGate) cut() { g.cutOnce.Do(func() { close(g.cutc) }) }

func (g *partGate) isCut() bool {
	select {
	case <-g.cutc:
		return true
	default:
		return false
	}
}

// holding is how many bodies are held now.
func (g *partGate) holding() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting
}

// inFlight is how many part PUTs have not been answered yet.
func (g *partGate) inFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.active
}

// takePuts returns the part numbers PUT since the last call, sorted.
func (g *partGate) takePuts() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	puts := g.puts
	g.puts = nil
	slices.Sort(puts)
	return puts
}

func (g *partGate) waitForCut() {
	g.mu.Lock()
	g.waiting++
	g.mu.Unlock()
	<-g.cutc
	g.mu.Lock()
	g.waiting--
	g.mu.Unlock()
}

// heldBody passes heldBytes of a part on, then waits for the gate's cut
// and ends there.
type heldBody struct {
	io.ReadCloser
	gate *partGate
	n    int64
}

func (b *heldBody) Read(p []byte) (int, error) {
	if b.n == heldBytes {
		b.gate.waitForCut()
		return 0, errCut
	}
	n, err := b.ReadCloser.Read(p[:min(int64(len(p)), heldBytes-b.n)])
	b.n += int64(n)
	return n, err
}
