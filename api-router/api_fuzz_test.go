package router

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/cloudflix/cloudflix/internal/platform/platformtest"
	"github.com/cloudflix/cloudflix/internal/testenv"
	"github.com/cloudflix/cloudflix/internal/video"
)

// FuzzAPI sends any request to the edge of a whole platform on embedded
// backends, as a signed-in admin's browser would: every route's JSON body,
// path and query parameters reach the real services. Whatever the request
// holds, the answer is the request's fault or success, never the
// platform's (5xx); an error under /api/ is the API's JSON error with a
// code and a message, and a success's JSON is well formed. In targets and bodies
// {video}, {upload}, {username}, {session}, {token}, {user}, {playlist}
// and {fresh} stand for things that exist (or, {fresh}, do not yet).
func FuzzAPI(f *testing.F) {
	w := newWorld(f, platformtest.Process(f, platformtest.Embedded))
	c := w.cell(f, admin, video.PrivacyUnlisted, true)
	_, secret := w.newSession(f, w.users[admin])
	// The one header line the fuzzer writes, "Name: value", may carry a
	// bearer token, a user agent or anything else a client sends.
	f.Fuzz(func(t *testing.T, method, target string, body []byte, header string) {
		replace := strings.NewReplacer("{video}", c.video, "{upload}", c.upload, "{username}", c.username,
			"{session}", c.session, "{token}", c.token, "{user}", c.user, "{playlist}", c.playlist, "{fresh}", testenv.Name("f"))
		target = replace.Replace(target)
		u, err := url.ParseRequestURI(target)
		if err != nil || !validMethod(method) || !strings.HasPrefix(u.Path, "/") {
			return // no HTTP server would hand the edge this request
		}
		req := httptest.NewRequest(http.MethodGet, "/", bytes.NewReader([]byte(replace.Replace(string(body)))))
		req.Method, req.URL, req.RequestURI = method, u, target
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", "http://example.com")
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: secret})
		if name, value, ok := strings.Cut(header, ":"); ok && validMethod(name) {
			req.Header.Set(name, strings.TrimSpace(value)) // a header of any name net/http reads
		}
		rec := httptest.NewRecorder()
		w.edge.ServeHTTP(rec, req)

		got := rec.Body.Bytes()
		switch {
		case rec.Code >= 500:
			t.Fatalf("%s %s %q: %d %s", method, target, body, rec.Code, got)
		case rec.Code >= 400 && strings.HasPrefix(u.Path, "/api/"):
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			if err := json.Unmarshal(got, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Fatalf("%s %s %q: %d %s is not the API's error", method, target, body, rec.Code, got)
			}
		case strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") && !json.Valid(got):
			t.Fatalf("%s %s %q: %d with malformed JSON %s", method, target, body, rec.Code, got)
		}
	})
}

// validMethod reports whether m is a method as net/http's server reads
// one: a token of RFC 9110.
func validMethod(m string) bool {
	return m != "" && !strings.ContainsFunc(m, func(r rune) bool {
		return r > '~' || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
	})
}
