// Package e2e runs CloudFlix as separate processes on the real backends and
// drives it the way a user does: the `cloudflix upload` CLI, the REST API,
// the media URLs and ffmpeg as the player.
package e2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	router "github.com/cloudflix/cloudflix/api-router"
	"github.com/cloudflix/cloudflix/api-router/apicheck"
	"github.com/cloudflix/cloudflix/internal/testenv"
)

// platform is a running CloudFlix and a client that checks every API
// exchange against the OpenAPI document.
type platform struct {
	base   string // router URL
	admins map[string]string
	grpc   map[string]string
	client *http.Client
	s3     testenv.S3 // the object store of a split platform
	// token is the API token of the user the tests upload as, made at
	// start by signing up through the API.
	token string
	// env is the environment every process of a split platform runs
	// with, for the command line's admin commands.
	env []string
}

// internalKey is the internal key of every platform the tests start, so
// that a test may sign principals to call a service directly.
const internalKey = "0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e0e2e"

// splitPartSize is the upload part size of a split platform: the smallest
// S3 allows, so a few megabytes make several parts.
const splitPartSize = 5 << 20

// startSplit starts every target as its own process, talking gRPC.
func startSplit(t *testing.T) *platform {
	t.Helper()
	return startSplitEnv(t, nil)
}

// startSplitEnv is startSplit with extra environment for every process.
func startSplitEnv(t *testing.T, extra []string) *platform {
	t.Helper()
	b := newBackends(t)
	pf := &platform{admins: map[string]string{}, grpc: map[string]string{}, s3: b.s3}
	env := append(append([]string{}, b.env...), extra...)
	for _, svc := range grpcServices {
		addr := freeAddr(t)
		pf.grpc[strings.ToLower(svc)] = addr
		env = append(env, "CLOUDFLIX_"+svc+"_GRPC_ADDR="+addr, "CLOUDFLIX_"+svc+"_TARGET="+addr)
	}
	httpAddr := freeAddr(t)
	pf.base = "http://" + httpAddr
	env = append(env,
		"CLOUDFLIX_INTERNAL_KEY="+internalKey,
		"CLOUDFLIX_HTTP_ADDR="+httpAddr,
		"CLOUDFLIX_ENCODE_WORKDIR="+t.TempDir(),
		"CLOUDFLIX_UPLOAD_MAX_BYTES="+strconv.Itoa(512<<20),
		"CLOUDFLIX_UPLOAD_PART_SIZE="+strconv.Itoa(splitPartSize),
	)

	pf.env = env
	migrate := exec.Command(binary, "migrate")
	migrate.Env = append(os.Environ(), env...)
	if out, err := migrate.CombinedOutput(); err != nil {
		t.Fatalf("cloudflix migrate: %v\n%s", err, out)
	}
	procs := map[string]*process{}
	for _, target := range []string{"upload", "host", "search", "encode", "account", "router"} {
		admin := freeAddr(t)
		pf.admins[target] = "http://" + admin
		procs[target] = start(t, target, append(env, "CLOUDFLIX_ADMIN_ADDR="+admin), "serve", "--target="+target)
	}
	for target, p := range procs {
		waitReady(t, p, pf.admins[target]+"/readyz", 60*time.Second)
	}
	waitReady(t, procs["router"], pf.base+"/readyz", 30*time.Second)
	pf.connect(t)
	pf.token = pf.newUser(t, "uploader")
	return pf
}

// grpcServices are the services with a gRPC port, in their variables'
// spelling.
var grpcServices = []string{"UPLOAD", "HOST", "SEARCH", "ENCODE", "ACCOUNT"}

// connect makes the platform's API client, which checks every exchange
// against the OpenAPI document.
func (pf *platform) connect(t *testing.T) {
	t.Helper()
	checker, err := apicheck.New(router.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	pf.client = &http.Client{Timeout: 30 * time.Second, Transport: &checkingTransport{t: t, checker: checker, base: pf.base}}
}

// checkingTransport validates every /api/ exchange against the OpenAPI
// document.
type checkingTransport struct {
	t       *testing.T
	checker *apicheck.Checker
	base    string
}

func (c *checkingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		reqBody, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || !strings.HasPrefix(req.URL.Path, "/api/") {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	check := req.Clone(req.Context())
	check.Body = io.NopCloser(bytes.NewReader(reqBody))
	if err := c.checker.Check(check, resp, body); err != nil {
		c.t.Errorf("OpenAPI: %s %s -> %d does not match the document: %v\nbody: %s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
	return resp, nil
}

func (pf *platform) do(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	return pf.doAs(t, pf.token, method, path, body)
}

// doAs is do with another token ("" for an anonymous visitor).
func (pf *platform) doAs(t *testing.T, token, method, path, body string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, pf.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := pf.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// apiVideo is the video JSON of the API.
type apiVideo struct {
	ID              string   `json:"id"`
	Title           string   `json:"title"`
	Tags            []string `json:"tags"`
	State           string   `json:"state"`
	FailureReason   string   `json:"failure_reason"`
	Progress        float64  `json:"progress"`
	DurationSeconds float64  `json:"duration_seconds"`
	Width           int      `json:"width"`
	Height          int      `json:"height"`
	HLSURL          *string  `json:"hls_url"`
	ThumbnailURL    *string  `json:"thumbnail_url"`
	StoryboardURL   *string  `json:"storyboard_url"`
	Renditions      []struct {
		Name             string `json:"name"`
		Width            int    `json:"width"`
		Height           int    `json:"height"`
		Bandwidth        int64  `json:"bandwidth"`
		AverageBandwidth int64  `json:"average_bandwidth"`
	} `json:"renditions"`
}

func (pf *platform) video(t *testing.T, id string) apiVideo {
	t.Helper()
	code, body := pf.do(t, "GET", "/api/v1/videos/"+id, "")
	if code != http.StatusOK {
		t.Fatalf("GET video %s = %d %s", id, code, body)
	}
	var v apiVideo
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// upload runs `cloudflix upload` and returns the id it printed last.
func (pf *platform) upload(t *testing.T, path, title string, extra ...string) string {
	t.Helper()
	return runUpload(t, pf.uploadCmd(t.TempDir(), path, title, extra...))
}

// uploadCmd is a `cloudflix upload` command whose resume state lives under
// cacheDir.
func (pf *platform) uploadCmd(cacheDir, path, title string, extra ...string) *exec.Cmd {
	args := append([]string{"upload", "--server", pf.base, "--title", title}, extra...)
	cmd := exec.Command(binary, append(args, path)...)
	cmd.Env = append(os.Environ(), "XDG_CACHE_HOME="+cacheDir, "CLOUDFLIX_TOKEN="+pf.token)
	return cmd
}

// runUpload runs an upload command to its end and returns the id it
// printed last.
func runUpload(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("cloudflix upload %s: %v\n%s", cmd.Args[len(cmd.Args)-1], err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

var stateOrder = map[string]int{"uploading": 0, "uploaded": 1, "processing": 2, "ready": 3, "failed": 3}

// waitSettled polls a video until it is ready or failed, checking that its
// state never moves backwards, and returns it with the progress values seen
// while it was processing.
func (pf *platform) waitSettled(t *testing.T, id string, within time.Duration) (apiVideo, []float64) {
	t.Helper()
	deadline := time.Now().Add(within)
	var progress []float64
	last := -1
	for {
		v := pf.video(t, id)
		if o := stateOrder[v.State]; o < last {
			t.Fatalf("video %s moved backwards to %s", id, v.State)
		} else {
			last = o
		}
		if v.State == "processing" {
			progress = append(progress, v.Progress)
		}
		if v.State == "ready" || v.State == "failed" {
			return v, progress
		}
		if time.Now().After(deadline) {
			t.Fatalf("video %s still %s after %v", id, v.State, within)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestPipelineSplitProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	testenv.RequireFFmpeg(t)
	pf := startSplit(t)
	runPipeline(t, pf)
	checkSameRules(t, pf)
	checkLogin(t, pf)
}

func runPipeline(t *testing.T, pf *platform) {
	dir := t.TempDir()
	clip := filepath.Join(dir, "sunrise.mp4")
	testenv.GenerateClip(t, clip, 1280, 720, 10, true)
	portrait := filepath.Join(dir, "portrait.mp4")
	testenv.GenerateClip(t, portrait, 360, 640, 4, true)
	garbage := filepath.Join(dir, "garbage.mp4")
	noise := make([]byte, 256<<10)
	_, _ = rand.Read(noise)
	writeFile(t, garbage, noise)
	truncated := filepath.Join(dir, "truncated.mp4")
	whole, err := os.ReadFile(portrait)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, truncated, whole[:len(whole)/2])
	empty := filepath.Join(dir, "empty.mp4")
	writeFile(t, empty, nil)

	// Broken files go first: the worker must go on to the good ones.
	bad := map[string]string{
		"garbage":   pf.upload(t, garbage, "Random bytes"),
		"truncated": pf.upload(t, truncated, "Half a file"),
		"empty":     pf.upload(t, empty, "Nothing at all"),
	}
	mainID := pf.upload(t, clip, "Mountain sunrise timelapse",
		"--description", "Golden light spilling over the ridgeline at dawn", "--tag", "nature,Timelapse")
	portraitID := pf.upload(t, portrait, "Vertical street dance")

	for name, id := range bad {
		v, _ := pf.waitSettled(t, id, 2*time.Minute)
		if v.State != "failed" || len(v.FailureReason) < 10 {
			t.Errorf("%s upload: state %s, reason %q; want failed with a readable reason", name, v.State, v.FailureReason)
		}
		t.Logf("%s upload failed as it should: %s", name, v.FailureReason)
	}

	v, progress := pf.waitSettled(t, mainID, 4*time.Minute)
	if v.State != "ready" {
		t.Fatalf("main clip ended %s: %s", v.State, v.FailureReason)
	}
	t.Logf("progress seen while processing: %v", progress)
	for _, p := range progress {
		if p < 0 || p > 1 {
			t.Errorf("progress %v out of range", p)
		}
	}
	if v.Width != 1280 || v.Height != 720 || v.DurationSeconds < 9.5 || v.DurationSeconds > 10.5 {
		t.Errorf("main clip = %dx%d %.2fs", v.Width, v.Height, v.DurationSeconds)
	}
	checkPlayable(t, pf, v, 720)

	pv, _ := pf.waitSettled(t, portraitID, 3*time.Minute)
	if pv.State != "ready" {
		t.Fatalf("portrait clip ended %s: %s", pv.State, pv.FailureReason)
	}
	for _, r := range pv.Renditions {
		if r.Width > r.Height || r.Width > 360 || r.Width%2 != 0 || r.Height%2 != 0 {
			t.Errorf("portrait rendition %s is %dx%d", r.Name, r.Width, r.Height)
		}
	}
	checkPlayable(t, pf, pv, 640)

	checkSearch(t, pf, mainID, bad["garbage"])
	checkListAndCache(t, pf, mainID, portraitID)
	checkBadInput(t, pf)
	checkOps(t, pf)
	checkPrivacy(t, pf)
	checkCaptions(t, pf)
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// checkPlayable fetches the master playlist through the router, checks it
// against the API and decodes every rendition with ffmpeg -xerror.
func checkPlayable(t *testing.T, pf *platform, v apiVideo, maxHeight int) {
	t.Helper()
	if v.HLSURL == nil || v.ThumbnailURL == nil || v.StoryboardURL == nil {
		t.Fatalf("ready video lacks media URLs: %+v", v)
	}
	master := get(t, pf.base+*v.HLSURL, "application/vnd.apple.mpegurl")
	variants := parseMaster(t, string(master))
	if len(variants) == 0 || len(variants) != len(v.Renditions) {
		t.Fatalf("master has %d variants, API %d renditions:\n%s", len(variants), len(v.Renditions), master)
	}
	for i, variant := range variants {
		r := v.Renditions[i]
		if variant.attrs["RESOLUTION"] != fmt.Sprintf("%dx%d", r.Width, r.Height) ||
			variant.attrs["BANDWIDTH"] != strconv.FormatInt(r.Bandwidth, 10) ||
			variant.attrs["AVERAGE-BANDWIDTH"] != strconv.FormatInt(r.AverageBandwidth, 10) {
			t.Errorf("variant %d %v does not match rendition %+v", i, variant.attrs, r)
		}
		for _, key := range []string{"CODECS", "FRAME-RATE"} {
			if variant.attrs[key] == "" {
				t.Errorf("variant %s has no %s", r.Name, key)
			}
		}
		if r.Height > maxHeight && r.Width > maxHeight || r.AverageBandwidth <= 0 || r.Bandwidth < r.AverageBandwidth {
			t.Errorf("rendition %+v: upscaled or bit rates wrong", r)
		}
		url := strings.TrimSuffix(pf.base+*v.HLSURL, "master.m3u8") + variant.uri
		cmd := exec.Command("ffmpeg", "-hide_banner", "-v", "error", "-xerror", "-i", url, "-f", "null", "-")
		out, err := cmd.CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("rendition %s does not decode cleanly: %v\n%s", r.Name, err, out)
		}
	}
	if thumb := get(t, pf.base+*v.ThumbnailURL, "image/jpeg"); len(thumb) < 1000 {
		t.Errorf("thumbnail is %d bytes", len(thumb))
	}
	vtt := get(t, pf.base+*v.StoryboardURL, "text/vtt")
	if !strings.HasPrefix(string(vtt), "WEBVTT") || !strings.Contains(string(vtt), "#xywh=") {
		t.Errorf("storyboard VTT:\n%s", vtt)
	}
}

type variant struct {
	attrs map[string]string
	uri   string
}

func parseMaster(t *testing.T, m string) []variant {
	t.Helper()
	var out []variant
	sc := bufio.NewScanner(strings.NewReader(m))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "#EXT-X-STREAM-INF:") {
			continue
		}
		attrs := map[string]string{}
		rest := strings.TrimPrefix(line, "#EXT-X-STREAM-INF:")
		for rest != "" {
			k, v, _ := strings.Cut(rest, "=")
			if strings.HasPrefix(v, `"`) {
				end := strings.Index(v[1:], `"`) + 1
				attrs[k] = v[1:end]
				rest = strings.TrimPrefix(v[end+1:], ",")
			} else {
				val, r, _ := strings.Cut(v, ",")
				attrs[k] = val
				rest = r
			}
		}
		if !sc.Scan() {
			t.Fatalf("master playlist ends after a STREAM-INF")
		}
		out = append(out, variant{attrs: attrs, uri: sc.Text()})
	}
	return out
}

func get(t *testing.T, url, wantType string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), wantType) {
		t.Fatalf("GET %s = %d %q, want 200 %s", url, resp.StatusCode, resp.Header.Get("Content-Type"), wantType)
	}
	return b
}

type searchResponse struct {
	Results []struct {
		ID    string  `json:"id"`
		Score float64 `json:"score"`
	} `json:"results"`
	NextCursor *string `json:"next_cursor"`
}

func (pf *platform) search(t *testing.T, q string) []string {
	t.Helper()
	code, body := pf.do(t, "GET", "/api/v1/search?q="+urlQuery(q), "")
	if code != http.StatusOK {
		t.Fatalf("search %q = %d %s", q, code, body)
	}
	var r searchResponse
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, res := range r.Results {
		ids = append(ids, res.ID)
	}
	return ids
}

func urlQuery(q string) string {
	return strings.ReplaceAll(strings.ReplaceAll(q, "%", "%25"), " ", "+")
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func checkSearch(t *testing.T, pf *platform, id, failedID string) {
	t.Helper()
	for _, q := range []string{
		"sunrise",     // a title word
		"ridgeline",   // a description word
		"timelapse",   // a tag (and title) word
		"nature",      // a tag only
		"moun",        // a prefix
		"mountian",    // a one-letter typo (swap) in a word of five letters or more
		"sunrize",     // a one-letter typo (substitution)
		"golden dawn", // two description words
	} {
		if ids := pf.search(t, q); !contains(ids, id) {
			t.Errorf("search %q did not find the video (got %v)", q, ids)
		}
	}
	if ids := pf.search(t, "random bytes"); contains(ids, failedID) {
		t.Errorf("search found a failed video")
	}
	code, body := pf.do(t, "GET", "/api/v1/search/suggest?q=mount", "")
	if code != http.StatusOK || !strings.Contains(string(body), "Mountain sunrise timelapse") {
		t.Errorf("suggest = %d %s", code, body)
	}
}

func checkListAndCache(t *testing.T, pf *platform, ids ...string) {
	t.Helper()
	code, body := pf.do(t, "GET", "/api/v1/videos?limit=1", "")
	var page struct {
		Videos []struct {
			ID string `json:"id"`
		} `json:"videos"`
		NextCursor *string `json:"next_cursor"`
	}
	if err := json.Unmarshal(body, &page); code != http.StatusOK || err != nil || len(page.Videos) != 1 || page.NextCursor == nil {
		t.Fatalf("list = %d %s (%v)", code, body, err)
	}
	code, body = pf.do(t, "GET", "/api/v1/videos?limit=10&cursor="+*page.NextCursor, "")
	var rest struct {
		Videos []struct {
			ID string `json:"id"`
		} `json:"videos"`
	}
	if err := json.Unmarshal(body, &rest); code != http.StatusOK || err != nil || len(rest.Videos) != len(ids)-1 {
		t.Fatalf("second page = %d %s", code, body)
	}
	// Newest first: the portrait clip was uploaded last.
	if page.Videos[0].ID != ids[len(ids)-1] {
		t.Errorf("latest video = %s, want %s", page.Videos[0].ID, ids[len(ids)-1])
	}

	// A read after a read is a cache hit on the host service.
	before := metricSum(t, pf.admins["host"], `cloudflix_cache_lookups_total`, `result="hit"`)
	pf.video(t, ids[0])
	pf.video(t, ids[0])
	if after := metricSum(t, pf.admins["host"], `cloudflix_cache_lookups_total`, `result="hit"`); after < before+1 {
		t.Errorf("cache hits went from %v to %v over two reads", before, after)
	}

	if code, body := pf.do(t, "POST", "/api/v1/videos/"+ids[0]+"/views", ""); code != http.StatusNoContent {
		t.Errorf("record view = %d %s", code, body)
	}
}

// metricSum adds the values of a metric's series whose labels contain match.
func metricSum(t *testing.T, admin, name, match string) float64 {
	t.Helper()
	resp, err := http.Get(admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum float64
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") || !strings.Contains(line, match) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err == nil {
			sum += v
		}
	}
	return sum
}

func checkBadInput(t *testing.T, pf *platform) {
	t.Helper()
	cases := []struct {
		method, path, body string
		code               int
		message            string
	}{
		{"GET", "/api/v1/videos/0190a1b2-0000-7000-8000-000000000000", "", 404, ""},
		{"GET", "/api/v1/videos/not-a-uuid", "", 404, ""},
		{"POST", "/api/v1/uploads", `{"title": "x", `, 400, "JSON"},
		{"POST", "/api/v1/uploads", `{"title":"","filename":"a.mp4","content_type":"video/mp4","size_bytes":10}`, 400, "title"},
		{"POST", "/api/v1/uploads", `{"title":"big","filename":"a.mp4","content_type":"video/mp4","size_bytes":999999999999}`, 400, "limit"},
		{"POST", "/api/v1/uploads", `{"title":"doc","filename":"a.pdf","content_type":"application/pdf","size_bytes":10}`, 400, "not accepted"},
		{"POST", "/api/v1/uploads", `{"title":"x","size_bytes":10,"colour":"red"}`, 400, ""},
		{"POST", "/api/v1/uploads/0190a1b2-0000-7000-8000-000000000000/complete", "", 404, ""},
		{"GET", "/api/v1/search?q=", "", 400, "query is required"},
	}
	for _, c := range cases {
		code, body := pf.do(t, c.method, c.path, c.body)
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(body, &e); code != c.code || err != nil || e.Error.Code == "" || !strings.Contains(e.Error.Message, c.message) {
			t.Errorf("%s %s %s = %d %s; want %d with a JSON error mentioning %q", c.method, c.path, c.body, code, body, c.code, c.message)
		}
	}
}

// checkPublicOps: the router's public port says whether it is alive and
// ready and nothing more; the metrics are the admin address's alone.
func checkPublicOps(t *testing.T, pf *platform) {
	t.Helper()
	for path, want := range map[string]string{"/healthz": `{"status":"ok"}`, "/readyz": `{"status":"ready"}`} {
		resp, err := http.Get(pf.base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != want {
			t.Errorf("public %s = %d %s, want 200 %s", path, resp.StatusCode, body, want)
		}
	}
	resp, err := http.Get(pf.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || strings.Contains(string(body), "cloudflix_") {
		t.Errorf("public /metrics = %d (%d bytes), want 404 without metrics", resp.StatusCode, len(body))
	}
}

func checkOps(t *testing.T, pf *platform) {
	t.Helper()
	for target, admin := range pf.admins {
		for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
			resp, err := http.Get(admin + path)
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("%s %s: %v %v", target, path, resp, err)
				continue
			}
			resp.Body.Close()
		}
	}
	checkPublicOps(t, pf)
	for name, addr := range pf.grpc {
		t.Run("grpc-health-"+name, func(t *testing.T) { checkGRPCHealth(t, addr) })
	}
	if n := metricSum(t, pf.admins["encode"], "cloudflix_encode_jobs_total", `outcome="ready"`); n < 2 {
		t.Errorf("encode jobs ready = %v, want at least 2", n)
	}
}
