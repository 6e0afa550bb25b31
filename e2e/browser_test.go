package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cloudflix/cloudflix/internal/testenv"
)

// The browser tests drive the web UI in headless Chromium the way a person
// does: pick a file in the upload page, wait for the link, watch, switch
// quality, search with a typo. They also hold the UI to its budgets (the
// home page's weight and API calls) and leave screenshots of every page.

// homeBudget is the most the home page may transfer on a first visit,
// thumbnails aside.
const homeBudget = 300 << 10

// uiWait bounds a wait for the page to answer an action. The waits poll, so
// a generous bound costs nothing when the page is quick; it is wide because
// Chromium plays video here next to other packages' ffmpeg runs on two
// cores.
const uiWait = 20 * time.Second

// chromium finds the browser, or fails saying how to install it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatal("chromium not found: run `make tools` (it installs Debian's chromium and chromium-driver)")
	return ""
}

// artifactsDir is where screenshots go: $CLOUDFLIX_ARTIFACTS_DIR, or else
// e2e/artifacts/ (ignored by git).
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("CLOUDFLIX_ARTIFACTS_DIR")
	if dir == "" {
		dir = filepath.Join(testenv.RepoRoot(), "e2e", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newBrowser starts a headless Chromium with a fresh profile, closed when
// the test ends.
func newBrowser(t *testing.T, execPath string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
		// This network lets nothing out: Chromium's own background traffic
		// would only be refused, and slow it down.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start chromium: %v", err)
	}
	t.Cleanup(func() { cancel(); cancelAlloc() })
	return ctx
}

// seenRequest is one request a tab made.
type seenRequest struct {
	id     network.RequestID
	method string
	url    string
	kind   network.ResourceType
	bytes  float64 // encoded bytes received, headers included
	done   bool
	failed bool
}

// tab is one browser tab and what it did: its requests and its console.
type tab struct {
	t        *testing.T
	ctx      context.Context
	base     string
	shots    string
	mu       sync.Mutex
	requests []*seenRequest
	byID     map[network.RequestID]*seenRequest
	console  []string
}

// openTab opens a tab in browser; opts may give it a browser context of
// its own (chromedp.WithNewBrowserContext), a visitor who shares no
// cookies with the others.
func openTab(t *testing.T, browser context.Context, base, shots string, opts ...chromedp.ContextOption) *tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, opts...)
	tb := &tab{t: t, ctx: ctx, base: base, shots: shots, byID: map[network.RequestID]*seenRequest{}}
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		t.Fatalf("open tab: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			tb.mu.Lock()
			t.Logf("browser console:\n%s", strings.Join(tb.console, "\n"))
			tb.mu.Unlock()
		}
		cancel()
	})
	sent := chromedp.Events(ctx, network.RequestWillBeSent)
	answered := chromedp.Events(ctx, network.ResponseReceived)
	finished := chromedp.Events(ctx, network.LoadingFinished)
	failed := chromedp.Events(ctx, network.LoadingFailed)
	console := chromedp.Console(ctx)
	// The event streams are read apart, so a request's events may come in
	// any order: each one fills in its part of the request.
	go func() {
		for ev, err := range sent {
			if err != nil {
				return
			}
			tb.mu.Lock()
			r := tb.request(ev.RequestID)
			r.method, r.url = ev.Request.Method, ev.Request.URL
			if r.kind == "" {
				r.kind = ev.Type
			}
			tb.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range answered {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.request(ev.RequestID).kind = ev.Type
			tb.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range finished {
			if err != nil {
				return
			}
			tb.mu.Lock()
			r := tb.request(ev.RequestID)
			r.bytes, r.done = ev.EncodedDataLength, true
			tb.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range failed {
			if err != nil {
				return
			}
			tb.mu.Lock()
			r := tb.request(ev.RequestID)
			r.done, r.failed = true, true
			tb.mu.Unlock()
		}
	}()
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			tb.mu.Lock()
			tb.console = append(tb.console, m.String())
			tb.mu.Unlock()
		}
	}()
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("enable network events: %v", err)
	}
	return tb
}

// request returns the record of request id, made on its first event.
// The caller holds tb.mu.
func (tb *tab) request(id network.RequestID) *seenRequest {
	r := tb.byID[id]
	if r == nil {
		r = &seenRequest{id: id}
		tb.byID[id] = r
		tb.requests = append(tb.requests, r)
	}
	return r
}

// do runs actions, failing the test with a screenshot of the page.
func (tb *tab) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tb.fail(what, err)
	}
}

// wait polls a JavaScript expression until it is truthy.
func (tb *tab) wait(what, expr string, within time.Duration) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, within+10*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingTimeout(within), chromedp.WithPollingInterval(100*time.Millisecond)))
	if err != nil {
		tb.fail(what, err)
	}
}

func evalJS[T any](tb *tab, expr string, opts ...chromedp.EvaluateOption) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		tb.fail("evaluate "+expr, err)
	}
	return v
}

func (tb *tab) fail(what string, err error) {
	tb.t.Helper()
	tb.screenshot("failed-" + strings.NewReplacer(" ", "-", "/", "-").Replace(tb.t.Name()))
	text, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`(document.querySelector("main")?.innerText ?? "") +
		"\n[focus: " + (document.activeElement?.outerHTML ?? "").slice(0, 200) + "]"`))
	tb.t.Fatalf("%s: %v\nthe page says:\n%s", what, err, text)
}

// screenshot saves the visible page as name.png among the artifacts.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		tb.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(tb.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Errorf("screenshot %s: %v", name, err)
	}
}

// seen returns a copy of the requests made so far.
func (tb *tab) seen() []seenRequest {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	out := make([]seenRequest, len(tb.requests))
	for i, r := range tb.requests {
		out[i] = *r
	}
	return out
}

// settle waits until every request the tab made has finished and no new
// one started for a moment.
func (tb *tab) settle(within time.Duration) []seenRequest {
	tb.t.Helper()
	deadline := time.Now().Add(within)
	lastCount, stableSince := -1, time.Now()
	for {
		reqs := tb.seen()
		pending := 0
		for _, r := range reqs {
			if !r.done || r.url == "" {
				pending++
			}
		}
		if len(reqs) != lastCount || pending > 0 {
			lastCount, stableSince = len(reqs), time.Now()
		} else if time.Since(stableSince) > 700*time.Millisecond {
			return reqs
		}
		if time.Now().After(deadline) {
			for _, r := range reqs {
				if !r.done {
					tb.t.Logf("  pending: %s %s %s", r.kind, r.method, r.url)
				}
			}
			tb.t.Fatalf("the page's requests did not settle within %v (%d pending)", within, pending)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (tb *tab) count(method, pathSuffix string) int {
	n := 0
	for _, r := range tb.seen() {
		if r.method == method && strings.HasSuffix(urlPath(r.url), pathSuffix) {
			n++
		}
	}
	return n
}

func urlPath(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	return u.Path
}

// keyDownUp presses a key as a keyboard does, with no separate character
// event: chromedp's KeyEvent also sends one, which a real key press whose
// keydown the page handled would not, and which would click the button
// that the page moved the focus to.
func keyDownUp(key string, code int64) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
				Type: typ, Key: key, Code: key, WindowsVirtualKeyCode: code, NativeVirtualKeyCode: code,
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

// clear empties a text field, as select-all and delete would.
func clear(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => { const e = document.getElementById(` + jsString(id) + `); e.value = ""; e.focus(); })()`)
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func TestBrowserUI(t *testing.T) {
	if testing.Short() {
		t.Skip("browser end-to-end test")
	}
	t.Parallel()
	exe := chromium(t)
	testenv.RequireFFmpeg(t)
	// The webhooks step's receiver is on loopback.
	pf := startSplitEnv(t, []string{"CLOUDFLIX_WEBHOOK_ALLOWED_NETWORKS=127.0.0.0/8"})
	shots := artifactsDir(t)

	dir := t.TempDir()
	clip := filepath.Join(dir, "sunrise.mp4")
	testenv.GenerateClip(t, clip, 640, 360, 6, true)
	browser := newBrowser(t, exe)

	// The browser's tabs share one signed-in user, who uploads; a visitor
	// gets a browser context of its own.
	if !t.Run("sign up", func(t *testing.T) { browserSignUp(t, openTab(t, browser, pf.base, shots)) }) {
		t.FailNow()
	}
	t.Run("webhooks", func(t *testing.T) { browserWebhooks(t, openTab(t, browser, pf.base, shots)) })
	t.Run("playable", func(t *testing.T) { browserPlayable(t, openTab(t, browser, pf.base, shots), pf) })
	var id string
	t.Run("upload", func(t *testing.T) { id = browserUpload(t, openTab(t, browser, pf.base, shots), clip) })
	if id == "" {
		t.FailNow()
	}
	t.Run("errors", func(t *testing.T) { browserErrors(t, openTab(t, browser, pf.base, shots), dir) })
	t.Run("resume", func(t *testing.T) { browserResume(t, browser, pf, shots, dir) })
	t.Run("search", func(t *testing.T) { browserSearch(t, openTab(t, browser, pf.base, shots), id) })
	t.Run("like", func(t *testing.T) {
		browserLike(t, openTab(t, browser, pf.base, shots), openTab(t, browser, pf.base, shots, chromedp.WithNewBrowserContext()), id)
	})
	t.Run("captions", func(t *testing.T) { browserCaptions(t, openTab(t, browser, pf.base, shots), id) })
	t.Run("comments", func(t *testing.T) { browserComments(t, browser, pf, shots, id) })
	t.Run("home", func(t *testing.T) { browserHome(t, openTab(t, browser, pf.base, shots), id) })
	t.Run("playlists", func(t *testing.T) { browserPlaylists(t, openTab(t, browser, pf.base, shots), pf, clip, id) })
	t.Run("account", func(t *testing.T) { browserAccount(t, openTab(t, browser, pf.base, shots), pf) })
	t.Run("moderation", func(t *testing.T) { browserModeration(t, browser, pf, shots, id) })
	t.Run("private", func(t *testing.T) { browserPrivate(t, browser, pf, shots, id) })
	t.Run("delete", func(t *testing.T) { browserDelete(t, openTab(t, browser, pf.base, shots), id) })
}

// browserUpload uploads clip through the upload page, waits for the link
// to the watch page and follows it to watch the video play. It returns the
// video's id.
func browserUpload(t *testing.T, tb *tab, clip string) string {
	tb.do("open the upload page", chromedp.Navigate(tb.base+"/upload"),
		chromedp.WaitVisible(chromedp.ID("upload-title")),
		chromedp.SetUploadFiles(chromedp.CSS("#upload-file"), []string{clip}))
	tb.wait("the title is taken from the file name", `document.getElementById("upload-title").value === "sunrise"`, uiWait)
	tb.do("fill in the details",
		clear("upload-title"),
		chromedp.SendKeys(chromedp.ID("upload-title"), "Mountain sunrise timelapse"),
		chromedp.SendKeys(chromedp.ID("upload-description"), "Golden light spilling over the ridgeline at dawn"),
		chromedp.SendKeys(chromedp.ID("upload-tags"), "nature, timelapse"))
	tb.screenshot("upload-form")
	tb.do("start the upload", chromedp.Click(chromedp.ID("upload-submit")))
	tb.wait("the upload page shows encoding progress", `/Processing|Upload complete|ready/.test(document.querySelector(".status h2")?.textContent ?? "")`, time.Minute)
	// Meanwhile the watch page shows the encoding, and turns into the
	// player when the video is ready, without a reload.
	var encodingID string
	for _, r := range tb.seen() {
		if p := urlPath(r.url); r.method == http.MethodPost && strings.HasSuffix(p, "/complete") {
			encodingID = strings.TrimSuffix(strings.TrimPrefix(p, "/api/v1/uploads/"), "/complete")
		}
	}
	early := openTab(t, tb.ctx, tb.base, tb.shots)
	early.do("open the watch page while encoding", chromedp.Navigate(tb.base+"/watch/"+encodingID),
		chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))
	early.wait("the watch page shows the video", `document.querySelector(".processing, .player") !== null`, uiWait)
	if evalJS[bool](early, `document.querySelector(".processing") !== null`) {
		early.screenshot("watch-processing")
	} else {
		t.Logf("the video was ready before its watch page opened")
	}

	tb.wait("the upload page links to the ready video", `document.getElementById("watch-link") !== null`, 4*time.Minute)
	early.wait("the watch page turned into the player", `window.notReloaded === true && window.cloudflixPlayer?.hls?.levels?.length >= 2`, 30*time.Second)
	tb.screenshot("upload")
	href := evalJS[string](tb, `document.getElementById("watch-link").getAttribute("href")`)
	id := strings.TrimPrefix(href, "/watch/")
	if id == href || id == "" {
		t.Fatalf("watch link %q", href)
	}
	// The bytes went straight to storage, in a PUT from the browser.
	puts := 0
	for _, r := range tb.seen() {
		if r.method == http.MethodPut && strings.Contains(r.url, "partNumber=") && !strings.HasPrefix(r.url, tb.base) {
			puts++
		}
	}
	if puts == 0 {
		t.Errorf("no part was PUT to storage by the browser")
	}

	// Following the link is a click: the page may start playing by itself.
	tb.do("follow the watch link", chromedp.Click(chromedp.ID("watch-link")))
	tb.wait("hls.js has the renditions", `window.cloudflixPlayer?.hls?.levels?.length >= 2`, 30*time.Second)
	if evalJS[bool](tb, `document.querySelector("video").paused`) {
		tb.do("press play", chromedp.Click(chromedp.CSS(".big-play")))
	}
	tb.wait("the video plays", `(() => { const v = document.querySelector("video"); return v.currentTime > 1 && v.videoWidth > 0 && !v.paused; })()`, 30*time.Second)
	if title := evalJS[string](tb, `document.querySelector(".video-info h1").textContent`); title != "Mountain sunrise timelapse" {
		t.Errorf("watch page title = %q", title)
	}
	if got := evalJS[string](tb, `document.getElementById("share-link").value`); got != tb.base+"/watch/"+id {
		t.Errorf("share link = %q", got)
	}

	// Keyboard shortcuts act on the player from anywhere on the page.
	tb.do("blur", chromedp.Evaluate[chromedp.Void](`document.activeElement?.blur()`))
	tb.do("press m", chromedp.KeyEvent("m"))
	tb.wait("m mutes", `document.querySelector("video").muted === true`, uiWait)
	tb.do("press m", chromedp.KeyEvent("m"))
	tb.wait("m unmutes", `document.querySelector("video").muted === false`, uiWait)
	tb.do("press space", chromedp.KeyEvent(" "))
	tb.wait("space pauses", `document.querySelector("video").paused`, uiWait)
	// The clip is 6 s: seek ahead, then back to where there is time to play.
	before := evalJS[float64](tb, `document.querySelector("video").currentTime`)
	tb.do("press the right arrow", chromedp.KeyEvent(kb.ArrowRight))
	tb.wait("the right arrow seeks ahead", fmt.Sprintf(`document.querySelector("video").currentTime >= %f`, min(before+4.9, 5.9)), uiWait)
	tb.do("press the left arrow", chromedp.KeyEvent(kb.ArrowLeft))
	tb.wait("the left arrow seeks back", `document.querySelector("video").currentTime <= 1.1`, uiWait)
	tb.do("press space", chromedp.KeyEvent(" "))
	tb.wait("space plays", `!document.querySelector("video").paused`, uiWait)

	// Quality: pick the rendition that is not playing now.
	current := evalJS[int](tb, `window.cloudflixPlayer.hls.currentLevel`)
	target := 0
	if current == 0 {
		target = 1
	}
	// With the keyboard alone: focus the menu button, Enter opens the
	// menu, arrows move to the rendition, Enter picks it.
	tb.do("open the quality menu", chromedp.Focus(chromedp.CSS(`button[aria-haspopup="menu"][aria-label^="Quality"]`)),
		chromedp.KeyEvent(kb.Enter))
	tb.wait("the quality menu opens", `(() => {
		const b = document.querySelector('button[aria-haspopup="menu"][aria-label^="Quality"]');
		const m = document.querySelector('[role="menu"][aria-label="Quality"]');
		return b.getAttribute("aria-expanded") === "true" && !m.hidden && m.contains(document.activeElement);
	})()`, uiWait)
	want := strconv.Itoa(target)
	for range 5 {
		if evalJS[string](tb, `document.activeElement.dataset.value ?? ""`) == want {
			break
		}
		tb.do("move down the menu", chromedp.KeyEvent(kb.ArrowDown))
	}
	tb.do("pick the rendition", keyDownUp("Enter", 13))
	tb.wait("the menu closes on the pick", `document.querySelector('[role="menu"][aria-label="Quality"]').hidden`, uiWait)
	tb.wait("hls.js switched to the picked rendition", fmt.Sprintf(
		`window.cloudflixPlayer.hls.currentLevel === %d && !window.cloudflixPlayer.hls.autoLevelEnabled && document.querySelector(".player").dataset.level === "%d"`,
		target, target), 20*time.Second)
	if label := evalJS[string](tb, `document.querySelector('button[aria-label^="Quality"]').getAttribute("aria-label")`); !strings.Contains(label, "p") {
		t.Errorf("quality button label %q does not name the rendition", label)
	}
	// The clip is short: play it again from the start, now at the
	// picked rendition's size.
	tb.do("play from the start", chromedp.Evaluate[chromedp.Void](`(() => { const v = document.querySelector("video"); v.currentTime = 0; v.play(); })()`))
	tb.wait("the picked rendition plays", fmt.Sprintf(`(() => {
		const v = document.querySelector("video");
		return !v.paused && v.currentTime > 0.5 && v.videoHeight === window.cloudflixPlayer.hls.levels[%d].height;
	})()`, target), 20*time.Second)

	// Storyboard thumbnails over the seek bar, brought into view first:
	// the page below the player is long enough that the keyboard's moves
	// may have scrolled it away.
	tb.do("bring the player into view", chromedp.Evaluate[chromedp.Void](`document.querySelector(".player").scrollIntoView({block: "center"})`))
	rect := evalJS[[]float64](tb, `(() => { const r = document.querySelector(".seek input").getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })()`)
	tb.do("hover the seek bar", chromedp.MouseEvent(chromedp.MouseMoved, rect[0]+rect[2]*0.6, rect[1]+rect[3]/2))
	tb.wait("the seek bar shows a storyboard thumbnail",
		`(() => { const p = document.querySelector(".seek-preview.on"); return p && p.style.backgroundImage.includes("storyboard.jpg") && p.offsetWidth > 0; })()`, uiWait)
	tb.screenshot("watch")

	// One view per page view, once playback started.
	deadline := time.Now().Add(uiWait)
	for tb.count(http.MethodPost, "/api/v1/videos/"+id+"/views") == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if n := tb.count(http.MethodPost, "/api/v1/videos/"+id+"/views"); n != 1 {
		t.Errorf("the watch page counted %d views, want 1", n)
	}
	return id
}

// browserErrors checks that failures reach the person as words.
func browserErrors(t *testing.T, tb *tab, dir string) {
	notes := filepath.Join(dir, "notes.txt")
	writeFile(t, notes, []byte("not a video at all\n"))
	// Larger than the platform's limit (512 MiB in these tests); sparse,
	// so it costs no disk.
	huge := filepath.Join(dir, "huge.mp4")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(600 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()

	tb.do("choose a text file", chromedp.Navigate(tb.base+"/upload"),
		chromedp.WaitVisible(chromedp.ID("upload-title")),
		chromedp.SetUploadFiles(chromedp.CSS("#upload-file"), []string{notes}))
	tb.wait("a text file is refused as not a video", `document.querySelector("main [role=alert]")?.textContent.includes("is not a video file")`, uiWait)

	tb.do("choose a file that is too large", chromedp.SetUploadFiles(chromedp.CSS("#upload-file"), []string{huge}))
	tb.wait("the title is filled in", `document.getElementById("upload-title").value === "huge"`, uiWait)
	tb.do("upload it", chromedp.Click(chromedp.ID("upload-submit")))
	tb.wait("the server's limit is shown in words", `document.querySelector("main [role=alert]")?.textContent.includes("larger than the")`, 20*time.Second)
	tb.screenshot("upload-error")

	tb.do("open a video that does not exist", chromedp.Navigate(tb.base+"/watch/0190a1b2-0000-7000-8000-000000000000"))
	tb.wait("a missing video is explained", `document.querySelector("main").innerText.includes("This video doesn't exist")`, uiWait)
	tb.do("open a page that does not exist", chromedp.Navigate(tb.base+"/no/such/page"))
	tb.wait("a missing page is explained", `document.querySelector("main").innerText.includes("This page doesn't exist")`, uiWait)

	// The API cannot be reached: the browser fails the request as a
	// network would.
	refused := chromedp.Events(tb.ctx, fetch.RequestPaused)
	go func() {
		for ev, err := range refused {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(tb.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonConnectionRefused})
		}
	}()
	if _, err := chromedp.Call(tb.ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*/api/v1/*"}}}); err != nil {
		t.Fatal(err)
	}
	tb.do("open the home page", chromedp.Navigate(tb.base+"/"))
	tb.wait("an unreachable server is explained", `document.querySelector("main").innerText.includes("Can't reach the CloudFlix server")`, uiWait)
	if _, err := chromedp.Call(tb.ctx, fetch.Disable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
}

// browserResume starts an upload whose first two parts keep failing,
// leaves the page once the third is stored, and chooses the same file in
// a new tab: only the missing parts are sent, to the same video.
func browserResume(t *testing.T, browser context.Context, pf *platform, shots, dir string) {
	file := filepath.Join(dir, "resume.mp4")
	// Three parts at the tests' 5 MiB part size. The bytes are no video,
	// so the encoder fails it: the watch page must then say why.
	noise := make([]byte, 11<<20)
	for i := range noise {
		noise[i] = byte(i*7 + i>>9)
	}
	writeFile(t, file, noise)

	first := openTab(t, browser, pf.base, shots)
	held := chromedp.Events(first.ctx, fetch.RequestPaused)
	dialogs := chromedp.Events(first.ctx, page.JavascriptDialogOpening)
	var lastPaused atomic.Int64 // when a paused request was last answered, in Unix ns
	go func() {
		for ev, err := range held {
			if err != nil {
				return
			}
			u, _ := url.Parse(ev.Request.URL)
			if ev.Request.Method == http.MethodPut && u.Query().Get("partNumber") != "3" {
				// Parts 1 and 2 never get through: the page retries them
				// with backoff until it is gone.
				_, _ = chromedp.Call(first.ctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonConnectionReset})
			} else {
				_, _ = chromedp.Call(first.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
			}
			lastPaused.Store(time.Now().UnixNano())
		}
	}()
	go func() {
		// Leaving mid-upload asks "leave the page?": yes.
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(first.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	if _, err := chromedp.Call(first.ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: "*partNumber=*"}}}); err != nil {
		t.Fatal(err)
	}
	first.do("start an upload", chromedp.Navigate(first.base+"/upload"),
		chromedp.WaitVisible(chromedp.ID("upload-title")),
		chromedp.SetUploadFiles(chromedp.CSS("#upload-file"), []string{file}))
	first.wait("the title is filled in", `document.getElementById("upload-title").value === "resume"`, uiWait)
	first.do("make it unlisted, and upload", chromedp.Click(chromedp.ID("upload-privacy-unlisted")),
		chromedp.Click(chromedp.ID("upload-submit")))

	var id string
	deadline := time.Now().Add(30 * time.Second)
	for id == "" && time.Now().Before(deadline) {
		for _, r := range first.seen() {
			if p := urlPath(r.url); strings.HasPrefix(p, "/api/v1/uploads/") && strings.HasSuffix(p, "/parts/sign") {
				id = strings.TrimSuffix(strings.TrimPrefix(p, "/api/v1/uploads/"), "/parts/sign")
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if id == "" {
		first.fail("the upload signs parts", fmt.Errorf("no signing request"))
	}
	// Only the uploader may see an upload's parts: the API is asked from a
	// tab of theirs.
	owner := openTab(t, browser, pf.base, shots)
	owner.do("open a page of the site", chromedp.Navigate(pf.base+"/api/v1/auth/options"))
	storedParts := func() []int {
		code, body := owner.fetch(http.MethodGet, "/api/v1/uploads/"+id+"/parts")
		if code != http.StatusOK {
			t.Fatalf("list parts = %d %s", code, body)
		}
		var resp struct {
			Parts []struct {
				PartNumber int `json:"part_number"`
			} `json:"parts"`
		}
		if err := json.Unmarshal(body, &resp); err != nil {
			t.Fatal(err)
		}
		var ns []int
		for _, p := range resp.Parts {
			ns = append(ns, p.PartNumber)
		}
		slices.Sort(ns)
		return ns
	}
	deadline = time.Now().Add(30 * time.Second)
	for !slices.Contains(storedParts(), 3) {
		if time.Now().After(deadline) {
			first.fail("part 3 is stored", fmt.Errorf("stored parts %v", storedParts()))
		}
		time.Sleep(100 * time.Millisecond)
	}
	first.screenshot("upload-interrupted")
	// The person leaves the page mid-upload (it asks first, and is told
	// yes): its script stops, as when the tab is closed. The tab itself
	// stays open until the test ends, still failing parts 1 and 2: a
	// request the browser holds when its tab closes would go on.
	first.do("leave the page", chromedp.Navigate("about:blank"))
	deadline = time.Now().Add(15 * time.Second)
	for time.Since(time.Unix(0, lastPaused.Load())) < time.Second && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if got := storedParts(); !slices.Equal(got, []int{3}) {
		t.Fatalf("stored parts after the page was left = %v, want [3]", got)
	}

	second := openTab(t, browser, pf.base, shots)
	second.do("choose the same file again", chromedp.Navigate(second.base+"/upload"),
		chromedp.WaitVisible(chromedp.ID("upload-title")),
		chromedp.SetUploadFiles(chromedp.CSS("#upload-file"), []string{file}))
	second.wait("the page offers to resume", `(() => { const n = document.querySelector(".notice.ok"); return n && !n.hidden && n.textContent.includes("already stored") && document.getElementById("upload-submit").textContent.includes("Resume"); })()`, uiWait)
	second.screenshot("upload-resume")
	second.do("resume", chromedp.Click(chromedp.ID("upload-submit")))
	second.wait("the resumed upload finishes and the encoder refuses the bytes",
		`document.querySelector(".status [role=alert]") !== null`, 3*time.Minute)

	var puts []string
	for _, r := range second.seen() {
		if r.method == http.MethodPut {
			u, _ := url.Parse(r.url)
			puts = append(puts, u.Query().Get("partNumber"))
		}
	}
	slices.Sort(puts)
	if !slices.Equal(puts, []string{"1", "2"}) {
		for _, r := range second.seen() {
			t.Logf("  %s %s", r.method, r.url)
		}
		t.Errorf("resumed upload PUT parts %v, want [1 2]", puts)
	}
	if n := second.count(http.MethodPost, "/api/v1/uploads"); n != 0 {
		t.Errorf("resumed upload created %d new uploads", n)
	}
	if n := second.count(http.MethodGet, "/api/v1/uploads/"+id+"/parts"); n != 1 {
		t.Errorf("resumed upload listed the stored parts %d times, want 1", n)
	}
	if n := second.count(http.MethodPost, "/api/v1/uploads/"+id+"/complete"); n != 1 {
		t.Errorf("resumed upload completed %s %d times, want 1", id, n)
	}

	v := pf.video(t, id)
	if v.State != "failed" || v.FailureReason == "" {
		t.Fatalf("resumed noise upload is %s (%q), want failed", v.State, v.FailureReason)
	}
	// The privacy chosen in the first tab went with the upload.
	if p := owner.video(id).Privacy; p != "unlisted" {
		t.Errorf("the upload made unlisted is %q", p)
	}
	second.do("open its watch page", chromedp.Navigate(second.base+"/watch/"+id))
	second.wait("the watch page shows the failure reason",
		`document.querySelector("main").innerText.includes(`+jsString(v.FailureReason)+`)`, uiWait)
	second.screenshot("watch-failed")
}

// browserSearch finds the video through the header's search box: the
// suggestions while typing, then a query with typos.
func browserSearch(t *testing.T, tb *tab, id string) {
	tb.do("open the home page", chromedp.Navigate(tb.base+"/"), chromedp.WaitVisible(chromedp.CSS(".grid .card")))
	tb.do("type in the search box", chromedp.SendKeys(chromedp.ID("search-input"), "mount"))
	tb.wait("suggestions appear", `(() => {
		const i = document.getElementById("search-input");
		const opts = [...document.querySelectorAll("#search-suggestions [role=option]")];
		return i.getAttribute("aria-expanded") === "true" && !document.getElementById("search-suggestions").hidden &&
			opts.some((o) => o.textContent === "Mountain sunrise timelapse");
	})()`, uiWait)
	tb.do("move to the first suggestion", chromedp.KeyEvent(kb.ArrowDown))
	tb.wait("the suggestion is active", `(() => {
		const i = document.getElementById("search-input");
		const id = i.getAttribute("aria-activedescendant");
		return id && document.getElementById(id)?.getAttribute("aria-selected") === "true";
	})()`, uiWait)
	tb.screenshot("search-suggestions")
	tb.do("close the suggestions", chromedp.KeyEvent(kb.Escape))
	tb.wait("Escape closes the list", `document.getElementById("search-suggestions").hidden`, uiWait)

	tb.do("search with typos",
		clear("search-input"),
		chromedp.SendKeys(chromedp.ID("search-input"), "mountian sunrize\n"))
	tb.wait("the results page lists the video", fmt.Sprintf(
		`location.pathname === "/search" && document.querySelector('.grid a[href="/watch/%s"]') !== null`, id), 15*time.Second)
	if h := evalJS[string](tb, `document.querySelector("main h1").textContent`); !strings.Contains(h, "mountian sunrize") {
		t.Errorf("results heading = %q", h)
	}
	tb.screenshot("search")
}

// browserHome checks the home page's budgets, its hover previews, the
// dark theme and the phone-sized layout.
func browserHome(t *testing.T, tb *tab, id string) {
	if _, err := chromedp.Call(tb.ctx, network.SetCacheDisabled, network.SetCacheDisabledParams{CacheDisabled: true}); err != nil {
		t.Fatal(err)
	}
	tb.do("open the home page", chromedp.Navigate(tb.base+"/"))
	tb.wait("the cards are drawn", fmt.Sprintf(`document.querySelector('.grid a[href="/watch/%s"] img')?.complete === true`, id), 15*time.Second)
	reqs := tb.settle(15 * time.Second)

	var weight, images float64
	var api []string
	for _, r := range reqs {
		if r.kind == network.ResourceTypeImage {
			images += r.bytes
			continue
		}
		weight += r.bytes
		if strings.HasPrefix(urlPath(r.url), "/api/") {
			api = append(api, r.method+" "+urlPath(r.url))
		}
	}
	t.Logf("home page: %d requests, %.1f KB before thumbnails (+%.1f KB of images), API calls %v", len(reqs), weight/1024, images/1024, api)
	if weight > homeBudget {
		for _, r := range reqs {
			t.Logf("  %s %s %s %.1f KB", r.kind, r.method, r.url, r.bytes/1024)
		}
		t.Errorf("the home page transferred %.1f KB before thumbnails, over the %d KB budget", weight/1024, homeBudget>>10)
	}
	if len(api) == 0 || len(api) > 3 {
		t.Errorf("the home page made %d API requests (%v), want 1 to 3: the videos, the trending ones and who is signed in", len(api), api)
	}
	for _, r := range reqs {
		if strings.Contains(r.url, "/vendor/") {
			t.Errorf("the home page loaded the player library: %s", r.url)
		}
		// Of the account's code only the header's part comes with it.
		if p := urlPath(r.url); strings.HasPrefix(p, "/static/js/pages/") && p != "/static/js/pages/home.js" ||
			slices.Contains([]string{"/static/js/forms.js", "/static/js/dialog.js", "/static/js/videoedit.js"}, p) {
			t.Errorf("the home page loaded another page's code: %s", r.url)
		}
	}
	// The same, as the page itself measures it.
	rt := evalJS[float64](tb, `performance.getEntriesByType("navigation").concat(performance.getEntriesByType("resource"))
		.filter((e) => e.initiatorType !== "img").reduce((sum, e) => sum + e.transferSize, 0)`)
	if rt > homeBudget {
		t.Errorf("resource timing says %.1f KB before thumbnails, over budget", rt/1024)
	}

	card := fmt.Sprintf(`.grid a[href="/watch/%s"]`, id)
	rect := evalJS[[]float64](tb, `(() => { const r = document.querySelector('`+card+` .card-thumb').getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })()`)
	tb.do("hover a card", chromedp.MouseEvent(chromedp.MouseMoved, rect[0]+rect[2]/2, rect[1]+rect[3]/2))
	tb.wait("the card previews its storyboard", `(() => { const p = document.querySelector('`+card+` .card-preview.on'); return p && p.style.backgroundImage.includes("storyboard.jpg"); })()`, uiWait)
	if n := tb.count(http.MethodGet, "/storyboard.vtt"); n != 1 {
		t.Errorf("hover fetched the storyboard %d times, want 1", n)
	}
	tb.screenshot("home-preview")
	tb.do("move away", chromedp.MouseEvent(chromedp.MouseMoved, 5, 700))
	tb.screenshot("home")

	tb.do("switch to the dark theme", chromedp.Click(chromedp.ID("theme-toggle")))
	tb.wait("the theme is dark", `document.documentElement.dataset.theme === "dark" && document.getElementById("theme-toggle").getAttribute("aria-pressed") === "true"`, uiWait)
	tb.screenshot("home-dark")
	tb.do("back to light", chromedp.Click(chromedp.ID("theme-toggle")))

	tb.do("become a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch),
		chromedp.Navigate(tb.base+"/"))
	tb.wait("the cards are drawn", `document.querySelector(".grid .card img")?.complete === true`, 15*time.Second)
	if w := evalJS[float64](tb, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
		t.Errorf("the phone layout is %v px wider than the screen", w)
	}
	tb.screenshot("home-phone")
	tb.do("watch on a phone", chromedp.Navigate(tb.base+"/watch/"+id))
	tb.wait("the player is there", `window.cloudflixPlayer?.hls?.levels?.length > 0 && document.querySelector(".video-info h1") !== null`, 20*time.Second)
	if w := evalJS[float64](tb, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
		t.Errorf("the phone watch page is %v px wider than the screen", w)
	}
	tb.screenshot("watch-phone")
	tb.do("upload on a phone", chromedp.Navigate(tb.base+"/upload"), chromedp.WaitVisible(chromedp.ID("upload-title")))
	tb.screenshot("upload-phone")
	for _, page := range []struct{ path, ready, shot string }{
		{"/my/videos", `document.querySelector(".video-row") !== null`, "my-videos-phone"},
		{"/account", `document.querySelector("#sessions .row") !== null`, "account-phone"},
		{"/@" + browserUser, `document.querySelector(".grid .card") !== null`, "channel-phone"},
	} {
		tb.do("open "+page.path+" on a phone", chromedp.Navigate(tb.base+page.path))
		tb.wait(page.path+" is drawn", page.ready, uiWait)
		if w := evalJS[float64](tb, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
			t.Errorf("the phone's %s is %v px wider than the screen", page.path, w)
		}
		tb.screenshot(page.shot)
	}
	tb.do("open the account menu on a phone", chromedp.Click(chromedp.ID("account-button")))
	tb.wait("the menu is on the screen", `(() => {
		const r = document.getElementById("account-menu").getBoundingClientRect();
		return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth;
	})()`, uiWait)
	tb.screenshot("account-menu-phone")
}
