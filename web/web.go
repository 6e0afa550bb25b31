// Package web is CloudFlix's browser UI: plain HTML, CSS and ES modules
// embedded in the binary, so that `go build` alone ships it, and the
// http.Handler that serves them.
//
// The UI is a client of the public REST API and of /media/ like any other:
// this package must never call a service, read storage or know a video.
// It only serves files, and the one page shell for every UI path.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// staticPrefix is where the UI's files are served; every other path the
// UI gets is a page.
const staticPrefix = "/static/"

// pages are the UI's pages: the paths the page shell answers with 200, and
// the module that draws each. The shell carries this list to the
// client-side router, so that the server and the router cannot disagree on
// what is a page. Any other path gets the same shell with 404, and the
// router says the page does not exist.
var pages = []page{
	newPage("/", "/static/js/pages/home.js"),
	newPage("/search", "/static/js/pages/search.js"),
	newPage("/upload", "/static/js/pages/upload.js"),
	newPage("/watch/{id}", "/static/js/pages/watch.js"),
	newPage("/playlist/{id}", "/static/js/pages/playlist.js"),
	newPage("/@{username}", "/static/js/pages/channel.js"),
	newPage("/signin", "/static/js/pages/signin.js"),
	newPage("/signup", "/static/js/pages/signup.js"),
	newPage("/account", "/static/js/pages/account.js"),
	newPage("/my/videos", "/static/js/pages/myvideos.js"),
	newPage("/admin/users", "/static/js/pages/users.js"),
	newPage("/moderation", "/static/js/pages/moderation.js"),
	newPage("/admin/audit", "/static/js/pages/audit.js"),
}

// page is one of the UI's pages, as the router in the browser gets it.
type page struct {
	// Match is the regular expression of the page's paths. Go and
	// JavaScript read it alike, so both sides match with the same one.
	Match string `json:"match"`
	// Module is the ES module whose default export draws the page.
	Module string `json:"module"`
	re     *regexp.Regexp
}

// newPage makes the page at path, where {name} at the end of a segment
// ("/watch/{id}", "/@{username}") is any non-empty rest of that segment,
// handed to the page as params.name.
func newPage(path, module string) page {
	expr := "^"
	for _, seg := range strings.Split(strings.TrimPrefix(path, "/"), "/") {
		expr += "/"
		if lit, name, ok := strings.Cut(seg, "{"); ok {
			expr += regexp.QuoteMeta(lit) + "(?<" + strings.TrimSuffix(name, "}") + ">[^/]+)"
		} else {
			expr += regexp.QuoteMeta(seg)
		}
	}
	expr += "$"
	return page{Match: expr, Module: module, re: regexp.MustCompile(expr)}
}

// isPage reports whether p is one of the pages, which the shell answers
// with 200.
func isPage(p string) bool {
	for _, pg := range pages {
		if pg.re.MatchString(p) {
			return true
		}
	}
	return false
}

// file is one embedded file, ready to serve: its bytes, a gzip copy when
// that is smaller, and a strong ETag.
type file struct {
	name        string
	contentType string
	body        []byte
	gzipped     []byte // nil when compressing does not pay
	etag        string
}

// compressible are the types worth gzipping; images and fonts are
// compressed already.
func compressible(contentType string) bool {
	return strings.HasPrefix(contentType, "text/") ||
		strings.Contains(contentType, "javascript") ||
		strings.Contains(contentType, "json") ||
		strings.Contains(contentType, "svg")
}

// contentTypes are set here rather than taken from the system's MIME
// table, which varies between machines (an .mjs served as
// application/octet-stream is refused by the browser as a module).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".mjs":  "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
	".txt":  "text/plain; charset=utf-8",
	".json": "application/json",
	".png":  "image/png",
}

func load(fsys fs.FS, name string) (*file, error) {
	body, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("web: read %s: %w", name, err)
	}
	return newFile(name, body)
}

func newFile(name string, body []byte) (*file, error) {
	ct := contentTypes[path.Ext(name)]
	if ct == "" {
		ct = mime.TypeByExtension(path.Ext(name))
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	sum := sha256.Sum256(body)
	f := &file{name: name, contentType: ct, body: body,
		etag: `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`}
	if compressible(ct) && len(body) > 512 {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(body)
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("web: gzip %s: %w", name, err)
		}
		if buf.Len() < len(body) {
			f.gzipped = buf.Bytes()
		}
	}
	return f, nil
}

// ui serves the embedded files.
type ui struct {
	files map[string]*file // by URL path
	shell *file
}

// Handler returns the UI's handler. It expects only GET and HEAD requests
// for paths that are not the API's, the media's or an ops endpoint's.
func Handler() http.Handler {
	h, err := newUI(static)
	if err != nil {
		// The files are compiled in: failing to read them is a broken build.
		panic(err)
	}
	return h
}

func newUI(fsys fs.FS) (*ui, error) {
	u := &ui{files: map[string]*file{}}
	err := fs.WalkDir(fsys, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := load(fsys, name)
		if err != nil {
			return err
		}
		u.files["/"+name] = f
		return nil
	})
	if err != nil {
		return nil, err
	}
	index := u.files["/static/index.html"]
	if index == nil {
		return nil, fmt.Errorf("web: static/index.html is missing")
	}
	if u.shell, err = shell(index); err != nil {
		return nil, err
	}
	return u, nil
}

// pagesSlot is where index.html takes the list of pages.
const pagesSlot = `<script type="application/json" id="pages"></script>`

// shell is index.html with the list of pages filled in.
func shell(index *file) (*file, error) {
	if !bytes.Contains(index.body, []byte(pagesSlot)) {
		return nil, fmt.Errorf("web: static/index.html has no %s", pagesSlot)
	}
	// Marshal escapes <, > and &: the list cannot end the script element.
	list, err := json.Marshal(pages)
	if err != nil {
		return nil, fmt.Errorf("web: pages: %w", err)
	}
	filled := strings.TrimSuffix(pagesSlot, "</script>") + string(list) + "</script>"
	return newFile(index.name, bytes.Replace(index.body, []byte(pagesSlot), []byte(filled), 1))
}

func (u *ui) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := r.URL.Path
	if strings.HasPrefix(p, staticPrefix) {
		f := u.files[p]
		if f == nil || p == "/static/index.html" {
			http.NotFound(w, r)
			return
		}
		u.serve(w, r, f, http.StatusOK)
		return
	}
	if p == "/favicon.ico" {
		// Browsers ask for it whatever the page's <link rel="icon"> says.
		http.Redirect(w, r, staticPrefix+"icon.svg", http.StatusMovedPermanently)
		return
	}
	status := http.StatusOK
	if !isPage(p) {
		status = http.StatusNotFound
	}
	u.serve(w, r, u.shell, status)
}

// contentSecurityPolicy lets the UI run only its own scripts and styles.
// Connections, images and media may go elsewhere: part uploads go
// straight to object storage, and media URLs may name a CDN.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src * data: blob:; media-src * blob:; connect-src *; worker-src 'self' blob:; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// serve writes f. Files are revalidated on every use (no-cache with a
// strong ETag): without a build step their names carry no version, and a
// stale module next to a fresh one would break the page.
func (u *ui) serve(w http.ResponseWriter, r *http.Request, f *file, status int) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if f == u.shell {
		h.Set("Content-Security-Policy", contentSecurityPolicy)
	}
	body := f.body
	etag := f.etag
	if f.gzipped != nil {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			body = f.gzipped
			h.Set("Content-Encoding", "gzip")
			// A different representation needs a different tag.
			etag = strings.TrimSuffix(f.etag, `"`) + `-gz"`
		}
	}
	h.Set("ETag", etag)
	if status == http.StatusOK {
		// ServeContent answers If-None-Match (304) and Range.
		http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(body))
		return
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// acceptsGzip reports whether the client takes gzip, honouring an
// explicit "gzip;q=0".
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
