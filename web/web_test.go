package web_test

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"

	router "github.com/cloudflix/cloudflix/api-router"
	"github.com/cloudflix/cloudflix/web"
)

func get(t *testing.T, h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// clientPage is a page as the shell lists it for the client-side router.
type clientPage struct {
	Match  string `json:"match"`
	Module string `json:"module"`
}

// clientPages reads the list of pages from the shell, as app.js does.
func clientPages(t *testing.T, h http.Handler) []clientPage {
	t.Helper()
	m := regexp.MustCompile(`<script type="application/json" id="pages">(.*?)</script>`).FindStringSubmatch(get(t, h, "/").Body.String())
	if m == nil {
		t.Fatal("the shell does not list the pages")
	}
	var pages []clientPage
	if err := json.Unmarshal([]byte(m[1]), &pages); err != nil {
		t.Fatalf("the shell's list of pages: %v", err)
	}
	return pages
}

func TestPagesGetTheShell(t *testing.T) {
	t.Parallel()
	h := web.Handler()
	pages := clientPages(t, h)
	for target, code := range map[string]int{
		"/":                 200,
		"/search?q=sea":     200,
		"/upload":           200,
		"/watch/0190a1b2-1": 200,
		"/watch/":           404,
		"/watch/a/b":        404,
		"/watch":            404,
		"/uploads":          404,
		"/no-such-page":     404,
		"/@alice":           200,
		"/@a.b-c_d":         200,
		"/@":                404,
		"/@alice/videos":    404,
		"/alice":            404,
		"/signin?next=/x":   200,
		"/signup":           200,
		"/account":          200,
		"/my/videos":        200,
		"/my":               404,
		"/admin/users":      200,
		"/admin":            404,
	} {
		w := get(t, h, target)
		if w.Code != code {
			t.Errorf("GET %s = %d, want %d", target, w.Code, code)
		}
		// The router matches the same expressions in JavaScript, whose
		// syntax for these is Go's.
		drawn := false
		for _, p := range pages {
			drawn = drawn || regexp.MustCompile(p.Match).MatchString(strings.SplitN(target, "?", 2)[0])
		}
		if drawn != (w.Code == 200) {
			t.Errorf("GET %s = %d, but the client-side router draws it: %v", target, w.Code, drawn)
		}
		body := w.Body.String()
		if !strings.Contains(body, `<script type="module" src="/static/js/app.js">`) {
			t.Errorf("GET %s did not answer the page shell:\n%.200s", target, body)
		}
		if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("GET %s Content-Type = %q", target, ct)
		}
		if csp := w.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s CSP = %q", target, csp)
		}
	}
}

func TestStaticFiles(t *testing.T) {
	t.Parallel()
	h := web.Handler()
	for target, ct := range map[string]string{
		"/static/app.css":                   "text/css; charset=utf-8",
		"/static/js/app.js":                 "text/javascript; charset=utf-8",
		"/static/vendor/hls.min.mjs":        "text/javascript; charset=utf-8",
		"/static/vendor/hls.js-LICENSE.txt": "text/plain; charset=utf-8",
		"/static/icon.svg":                  "image/svg+xml",
	} {
		w := get(t, h, target)
		if w.Code != 200 || w.Header().Get("Content-Type") != ct || w.Body.Len() == 0 {
			t.Errorf("GET %s = %d %q (%d bytes), want 200 %q", target, w.Code, w.Header().Get("Content-Type"), w.Body.Len(), ct)
		}
		if w.Header().Get("ETag") == "" || w.Header().Get("Cache-Control") != "no-cache" {
			t.Errorf("GET %s: ETag %q, Cache-Control %q", target, w.Header().Get("ETag"), w.Header().Get("Cache-Control"))
		}
	}
	for _, target := range []string{"/static/nope.js", "/static/", "/static/index.html"} {
		if w := get(t, h, target); w.Code != 404 {
			t.Errorf("GET %s = %d, want 404", target, w.Code)
		}
	}
	if w := get(t, h, "/favicon.ico"); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/static/icon.svg" {
		t.Errorf("GET /favicon.ico = %d %q", w.Code, w.Header().Get("Location"))
	}
}

func TestGzipAndRevalidation(t *testing.T) {
	t.Parallel()
	h := web.Handler()
	plain := get(t, h, "/static/app.css")
	zipped := get(t, h, "/static/app.css", "Accept-Encoding", "br, gzip")
	if zipped.Header().Get("Content-Encoding") != "gzip" || zipped.Body.Len() >= plain.Body.Len() {
		t.Fatalf("gzip answer: encoding %q, %d bytes vs %d plain", zipped.Header().Get("Content-Encoding"), zipped.Body.Len(), plain.Body.Len())
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil || string(unzipped) != plain.Body.String() {
		t.Fatalf("gzip body does not unzip to the file (%v)", err)
	}
	if plain.Header().Get("ETag") == zipped.Header().Get("ETag") {
		t.Errorf("plain and gzip answers share the ETag %s", plain.Header().Get("ETag"))
	}
	if w := get(t, h, "/static/app.css", "Accept-Encoding", "gzip;q=0"); w.Header().Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 still got gzip")
	}
	again := get(t, h, "/static/app.css", "Accept-Encoding", "gzip", "If-None-Match", zipped.Header().Get("ETag"))
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Errorf("revalidation = %d with %d bytes, want 304", again.Code, again.Body.Len())
	}
}

// A module's imports: the static ones (loaded with it), and all of them,
// import("...") included.
var (
	staticImportRE = regexp.MustCompile(`(?m)(?:^import\s[^"']*|^export\s[^"']*\sfrom\s)["']([^"']+)["']`)
	importRE       = regexp.MustCompile(`(?m)(?:^import\s[^"']*|\bimport\(\s*|^export\s[^"']*\sfrom\s)["']([^"']+)["']`)
)

// walkModules visits the modules reachable from start, each once: visit
// gets a module's path and returns the modules it names, as paths.
func walkModules(start []string, visit func(p string) []string) map[string]bool {
	seen := map[string]bool{}
	for queue := start; len(queue) > 0; queue = queue[1:] {
		if p := queue[0]; !seen[p] {
			seen[p] = true
			queue = append(queue, visit(p)...)
		}
	}
	return seen
}

// Every module the UI imports must be one of its files: a broken import
// would leave a blank page, and only a browser would notice.
func TestModuleImportsResolve(t *testing.T) {
	t.Parallel()
	h := web.Handler()
	constRE := regexp.MustCompile(`const hlsModule = "([^"]+)"`)
	// The router imports each page's module by its name in the shell.
	start := []string{"/static/js/app.js"}
	for _, p := range clientPages(t, h) {
		start = append(start, p.Module)
		if w := get(t, h, p.Module); !strings.Contains(w.Body.String(), "\nexport default ") {
			t.Errorf("page module %s = %d, without a default export to draw the page", p.Module, w.Code)
		}
	}
	seen := walkModules(start, func(p string) []string {
		w := get(t, h, p)
		if w.Code != 200 {
			t.Errorf("module %s = %d", p, w.Code)
			return nil
		}
		if strings.HasPrefix(p, "/static/vendor/") {
			return nil
		}
		src := w.Body.String()
		var specs, next []string
		for _, m := range importRE.FindAllStringSubmatch(src, -1) {
			specs = append(specs, m[1])
		}
		for _, m := range constRE.FindAllStringSubmatch(src, -1) {
			specs = append(specs, m[1])
		}
		for _, spec := range specs {
			switch {
			case strings.HasPrefix(spec, "/"):
				next = append(next, spec)
			case strings.HasPrefix(spec, "."):
				next = append(next, path.Join(path.Dir(p), spec))
			default:
				t.Errorf("%s imports %q: bare specifiers need a build step", p, spec)
			}
		}
		return next
	})
	for _, want := range []string{"/static/js/pages/watch.js", "/static/js/player.js", "/static/vendor/hls.min.mjs"} {
		if !seen[want] {
			t.Errorf("%s is not reached from app.js and the pages (reached %v)", want, seen)
		}
	}
}

// The home page's first load is the shell's modules and the home page's,
// with what they import up front: none of another page's code, the
// account pages' forms and dialogs included, which load with their pages.
func TestHomeLoadsOnlyItsOwnCode(t *testing.T) {
	t.Parallel()
	h := web.Handler()
	size := 0
	seen := walkModules([]string{"/static/js/app.js", "/static/js/pages/home.js"}, func(p string) []string {
		size += get(t, h, p, "Accept-Encoding", "gzip").Body.Len()
		var next []string
		for _, m := range staticImportRE.FindAllStringSubmatch(get(t, h, p).Body.String(), -1) {
			next = append(next, path.Join(path.Dir(p), m[1]))
		}
		return next
	})
	for p := range seen {
		if strings.HasPrefix(p, "/static/js/pages/") && p != "/static/js/pages/home.js" ||
			strings.HasPrefix(p, "/static/vendor/") ||
			slices.Contains([]string{"/static/js/forms.js", "/static/js/dialog.js", "/static/js/videoedit.js", "/static/js/player.js", "/static/js/uploader.js"}, p) {
			t.Errorf("the home page's modules import %s up front", p)
		}
	}
	t.Logf("the home page's modules: %d files, %d bytes gzipped", len(seen), size)
}

func TestShellReferencesExist(t *testing.T) {
	t.Parallel()
	h := web.Handler()
	shell := get(t, h, "/").Body.String()
	refs := regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`).FindAllStringSubmatch(shell, -1)
	if len(refs) < 4 {
		t.Fatalf("shell references %d static files", len(refs))
	}
	for _, m := range refs {
		if w := get(t, h, m[1]); w.Code != 200 {
			t.Errorf("shell references %s, which is %d", m[1], w.Code)
		}
	}
}

func TestRouterSendsPagesToTheUI(t *testing.T) {
	t.Parallel()
	edge, err := router.New(router.Options{UI: web.Handler(), MediaKey: []byte("the edge's media link key in tests")})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method, target string
		code           int
		ui             bool
	}{
		{"GET", "/", 200, true},
		{"HEAD", "/upload", 200, true},
		{"GET", "/watch/abc", 200, true},
		{"GET", "/@alice", 200, true},
		{"GET", "/signin", 200, true},
		{"GET", "/my/videos", 200, true},
		{"GET", "/admin/users", 200, true},
		{"GET", "/auth/oidc/login", 503, false}, // the account service's, unconfigured here
		{"GET", "/auth", http.StatusTemporaryRedirect, false},
		{"GET", "/static/app.css", 200, true},
		{"GET", "/api/v1/nope", 404, false},
		{"GET", "/api", http.StatusTemporaryRedirect, false}, // the API mux's redirect to /api/
		{"GET", "/media/videos/x/thumb.jpg", 503, false},
		{"POST", "/", 404, false},
		{"GET", "/metrics", 404, false},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.target, nil)
		w := httptest.NewRecorder()
		edge.ServeHTTP(w, r)
		// Only the UI's answers carry a strong ETag with no-cache.
		isUI := w.Header().Get("ETag") != "" && w.Header().Get("Cache-Control") == "no-cache"
		if w.Code != c.code || isUI != c.ui {
			t.Errorf("%s %s = %d %q, want %d (from the UI: %v)", c.method, c.target, w.Code, w.Header().Get("Content-Type"), c.code, c.ui)
		}
	}
}

// The vendored player keeps its license beside it.
func TestVendoredLicense(t *testing.T) {
	t.Parallel()
	w := get(t, web.Handler(), "/static/vendor/hls.js-LICENSE.txt")
	if !strings.Contains(w.Body.String(), "Apache License") {
		t.Errorf("hls.js license missing or not its Apache 2.0 text")
	}
}
